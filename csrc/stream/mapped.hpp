// Memory mapped from a local move's memory file, owned by a Python object that exports it
// as a writable buffer (the program's arrays and bytearrays are rebuilt on it). Unlike
// mmap.mmap, it keeps no descriptor of the file: the destination closes the memory file
// once every section is mapped, and no descriptor per buffer stays open behind the program.
#pragma once
#include <Python.h>

#include <cstddef>
#include <cstdint>

namespace tp {

bool mapped_init(PyObject *module);

// Maps `length` bytes of `fd` at `offset` (page-aligned) copy-on-write: a later fork() of
// the program then behaves as with ordinary memory. A new reference, or nullptr with
// OSError set.
PyObject *map_private(int fd, uint64_t offset, uint64_t length);

}  // namespace tp
