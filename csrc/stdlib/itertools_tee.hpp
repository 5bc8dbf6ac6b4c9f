// itertools.tee's state (Modules/itertoolsmodule.c), which CPython 3.14 no longer pickles
// and Python cannot read: where each tee stands in the buffer its copies share.
#pragma once
#include <Python.h>

namespace tp {

// (dataobj, index) of an itertools._tee: the buffer link it reads from and its position
// in it. TypeError when `tee` is not one of the layout we know.
PyObject *tee_state(PyObject *tee);
// (it, values, nextlink) of an itertools._tee_dataobject: its source iterator, the values
// it buffered (in order) and the next link (None where there is none yet).
PyObject *tee_data_state(PyObject *data);
// Points a fresh tee at `data`, at `index`.
PyObject *tee_set(PyObject *tee, PyObject *data, int index);

}  // namespace tp
