// Streaming a payload through a file descriptor (a pipe to the destination, a checkpoint
// file): the sections are written straight from the caller's buffers and read straight
// into the buffers the program will use, with the GIL released during I/O and checksums.
#pragma once
#include <Python.h>

namespace tp {

// Raised for a payload that cannot be accepted (one-line message).
extern PyObject *PayloadFormatError;
bool stream_init(PyObject *module);

// write_payload(fd, meta, state, buffers, teleporter_version[, mapped_fd, threshold,
// signer]) -> total bytes written. With a signer (an hmac.HMAC), the payload is signed:
// every byte before the signature passes through signer.update().
PyObject *write_payload(PyObject *args);
// read_payload(fd[, mapped_fd, verifier]) -> (meta: bytes, state: bytearray,
// buffers: list[bytearray], info: dict). With a verifier (an hmac.HMAC of the same key),
// an unsigned payload is refused after its header, and a wrong signature after its last
// byte: before the caller unpickles anything.
PyObject *read_payload(PyObject *args);
// describe_payload(fd[, verifier]) -> info dict with the section table and the meta
// section. Every byte is read and checked as by read_payload; only the meta section is
// kept.
PyObject *describe_payload(PyObject *args);

}  // namespace tp
