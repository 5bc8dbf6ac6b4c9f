// Streaming a payload through a file descriptor (a pipe to the destination, a checkpoint
// file): the sections are written straight from the caller's buffers and read straight
// into the buffers the program will use, with the GIL released during I/O and checksums.
#pragma once
#include <Python.h>

namespace tp {

// Raised for a payload that cannot be accepted (one-line message).
extern PyObject *PayloadFormatError;
bool stream_init(PyObject *module);

// write_payload(fd, meta, state, buffers, teleporter_version) -> total bytes written
PyObject *write_payload(PyObject *args);
// read_payload(fd) -> (meta: bytes, state: bytearray, buffers: list[bytearray], info: dict)
PyObject *read_payload(PyObject *args);
// describe_payload(fd) -> info dict with the section table, reading only the header, the
// meta section and the trailer (the file is seeked past the data, which is not checked).
PyObject *describe_payload(PyObject *args);

}  // namespace tp
