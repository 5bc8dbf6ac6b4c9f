// Frame slots as CPython 3.14+ keeps them: tagged stack references (_PyStackRef,
// Include/internal/pycore_stackref.h) in localsplus, and the stack top as a pointer
// (stackpointer, valid while the frame is not running). Included by
// adapters/cpython314/315.cpp, inside namespace tp::adapter, before adapter_common.inl.
//
// A reference's low bits say how it owns its object (GIL build):
//  - no tag: a strong reference;
//  - Py_TAG_REFCNT: the object's count is not held: an immortal object, or a reference
//    borrowed from a local (LOAD_FAST_BORROW) that the local outlives;
//  - PyStackRef_NULL is Py_TAG_REFCNT alone (not 0): an empty slot;
//  - Py_INT_TAG: no object at all but an integer (the saved instruction offset that an
//    exception handler pushes, a for loop's index into a list or tuple).
// Reading takes the object whatever its tag (the caller takes its own reference);
// writing always stores strong (or immortal) references, so a restored frame owns every
// object it holds, borrowed at the origin or not. A tagged integer travels as a
// teleporter._frames.StackInt, which only this file makes and reads.

namespace {

// teleporter._frames.StackInt, looked up once in sys.modules: never imported here, since a
// capture runs while other threads are parked, maybe inside the import system holding its
// lock (_threads imports _frames before it parks any).
PyObject *stack_int_type()
{
    static PyObject *type = nullptr;
    if (!type) {
        PyObject *name = PyUnicode_FromString("teleporter._frames");
        PyObject *mod = name ? PyImport_GetModule(name) : nullptr;
        Py_XDECREF(name);
        if (!mod && !PyErr_Occurred()) {
            PyErr_SetString(PyExc_RuntimeError, "teleporter._frames is not imported");
        }
        type = mod ? PyObject_GetAttrString(mod, "StackInt") : nullptr;
        Py_XDECREF(mod);
        if (!type) {
            PyErr_WriteUnraisable(nullptr);
        }
    }
    return type;
}

// A StackInt for `value`, kept alive for the life of the process (frame_slot returns
// borrowed references; the values are instruction offsets and loop indices).
PyObject *stack_int(intptr_t value)
{
    static PyObject *interned = nullptr;
    if (!interned) {
        interned = PyDict_New();
    }
    PyObject *key = PyLong_FromSsize_t(value);
    PyObject *v = (interned && key) ? PyDict_GetItemWithError(interned, key) : nullptr;
    if (!v && key && interned && !PyErr_Occurred()) {
        PyObject *type = stack_int_type();
        v = type ? PyObject_CallOneArg(type, key) : nullptr;
        if (v && PyDict_SetItem(interned, key, v) < 0) {
            Py_CLEAR(v);
        }
        Py_XDECREF(v); // the dict keeps it
    }
    Py_XDECREF(key);
    if (!v) {
        PyErr_WriteUnraisable(nullptr);
        return Py_None;
    }
    return v;
}

int stack_top(Frame *f) { return static_cast<int>(f->stackpointer - f->localsplus); }
void set_stack_top(Frame *f, int n) { f->stackpointer = f->localsplus + n; }
void clear_slot(Frame *f, int i) { PyStackRef_CLEAR(f->localsplus[i]); }
void store_slot(Frame *f, int i, PyObject *v)
{
    if (!v) {
        f->localsplus[i] = PyStackRef_NULL;
    }
    else if (Py_TYPE(v) == reinterpret_cast<PyTypeObject *>(stack_int_type())) {
        f->localsplus[i] = PyStackRef_TagInt(PyLong_AsSsize_t(v));
    }
    else {
        f->localsplus[i] = PyStackRef_FromPyObjectNew(v);
    }
}

}  // namespace

PyObject *frame_slot(Frame *f, int i)
{
    const _PyStackRef ref = f->localsplus[i];
    if (PyStackRef_IsNull(ref)) {
        return nullptr;
    }
    if (PyStackRef_IsTaggedInt(ref)) {
        return stack_int(PyStackRef_UntagInt(ref));
    }
    return PyStackRef_AsPyObjectBorrow(ref);
}
