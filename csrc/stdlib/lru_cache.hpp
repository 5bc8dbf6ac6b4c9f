// The contents of functools.lru_cache wrappers (the C implementation keeps its cache in
// fields that Python cannot reach): read at the origin, written into a fresh wrapper at
// the destination.
#pragma once
#include <Python.h>

namespace tp {

// (entries, hits, misses, kwd_mark): entries is a list of (key, result) pairs, least
// recently used first. TypeError when `wrapper` is not a wrapper of the layout we know.
PyObject *lru_cache_state(PyObject *wrapper);

// Fills a fresh, empty wrapper with (key, result) pairs (least recently used first) and
// sets its statistics.
PyObject *lru_cache_fill(PyObject *wrapper, PyObject *entries, Py_ssize_t hits,
                         Py_ssize_t misses);

}  // namespace tp
