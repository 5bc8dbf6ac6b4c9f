// itertools.tee's objects, as CPython 3.14 and 3.15 lay them out (where pickle no longer
// handles them): a tee holds the buffer link it reads (a _tee_dataobject) and its index in
// it; a link holds the shared source iterator, up to LINKCELLS values read from it and the
// next link. The layout is checked against the types' names and basic sizes, and the
// fields against their ranges, before any field is used: a mismatch is a refusal.
#include "stdlib/itertools_tee.hpp"

#include <cstring>

namespace tp {
namespace {

constexpr int kLinkCells = 57; // LINKCELLS

struct TeeData {
    PyObject_HEAD
    PyObject *it;
    int numread; // 0 <= numread <= LINKCELLS
    int running;
    PyObject *nextlink;
    PyObject *values[kLinkCells];
};

struct Tee {
    PyObject_HEAD
    TeeData *dataobj;
    int index; // 0 <= index <= LINKCELLS
    PyObject *weakreflist;
    void *state; // the module's state (3.12+)
};

bool is(PyObject *obj, const char *name, size_t size)
{
    PyTypeObject *t = Py_TYPE(obj);
    return std::strcmp(t->tp_name, name) == 0 &&
           t->tp_basicsize == static_cast<Py_ssize_t>(size);
}

TeeData *checked_data(PyObject *obj)
{
    if (!obj || !is(obj, "itertools._tee_dataobject", sizeof(TeeData))) {
        PyErr_SetString(PyExc_TypeError, "not an itertools._tee_dataobject of a known layout");
        return nullptr;
    }
    auto *d = reinterpret_cast<TeeData *>(obj);
    if (d->numread < 0 || d->numread > kLinkCells || !d->it) {
        PyErr_SetString(PyExc_TypeError, "an itertools._tee_dataobject of an unknown layout");
        return nullptr;
    }
    return d;
}

Tee *checked_tee(PyObject *obj)
{
    if (!is(obj, "itertools._tee", sizeof(Tee))) {
        PyErr_SetString(PyExc_TypeError, "not an itertools._tee of a known layout");
        return nullptr;
    }
    auto *t = reinterpret_cast<Tee *>(obj);
    if (!checked_data(reinterpret_cast<PyObject *>(t->dataobj)) || t->index < 0 ||
        t->index > kLinkCells) {
        PyErr_Clear();
        PyErr_SetString(PyExc_TypeError, "an itertools._tee of an unknown layout");
        return nullptr;
    }
    return t;
}

}  // namespace

PyObject *tee_state(PyObject *tee)
{
    Tee *t = checked_tee(tee);
    return t ? Py_BuildValue("(Oi)", reinterpret_cast<PyObject *>(t->dataobj), t->index)
             : nullptr;
}

PyObject *tee_data_state(PyObject *data)
{
    TeeData *d = checked_data(data);
    if (!d) {
        return nullptr;
    }
    PyObject *values = PyList_New(d->numread);
    if (!values) {
        return nullptr;
    }
    for (int i = 0; i < d->numread; i++) {
        PyList_SET_ITEM(values, i, Py_NewRef(d->values[i]));
    }
    return Py_BuildValue("(ONO)", d->it, values, d->nextlink ? d->nextlink : Py_None);
}

PyObject *tee_set(PyObject *tee, PyObject *data, int index)
{
    Tee *t = checked_tee(tee);
    if (!t || !checked_data(data)) {
        return nullptr;
    }
    if (index < 0 || index > kLinkCells) {
        PyErr_SetString(PyExc_ValueError, "a tee index out of range");
        return nullptr;
    }
    Py_SETREF(t->dataobj, reinterpret_cast<TeeData *>(Py_NewRef(data)));
    t->index = index;
    Py_RETURN_NONE;
}

}  // namespace tp
