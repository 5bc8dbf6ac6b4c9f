// The iterators of itertools other than tee (itertools_tee.hpp), whose state CPython 3.14
// no longer pickles and Python cannot read: cycle, islice, chain, the combinatoric ones,
// accumulate, zip_longest, batched, groupby and its groups, and the rest.
#pragma once
#include <Python.h>

namespace tp {

// (args, state) of one of itertools' iterators: type(*args) makes a fresh one, and `state`
// is what its constructor leaves to set. TypeError for any other type, or a layout this
// build does not know.
PyObject *iter_state(PyObject *it);
// A fresh `type(*args)` with `state` written into it, every field checked first.
PyObject *iter_make(PyObject *type, PyObject *args, PyObject *state);

}  // namespace tp
