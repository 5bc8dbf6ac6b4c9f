// Frame slots as CPython 3.11-3.13 keep them: object pointers (NULL when empty) in
// localsplus, and the stack top as an index (stacktop, valid while the frame is not
// running). Included by adapters/cpython311/312/313.cpp, inside namespace tp::adapter,
// before adapter_common.inl.

namespace {
int stack_top(Frame *f) { return f->stacktop; }
void set_stack_top(Frame *f, int n) { f->stacktop = n; }
void clear_slot(Frame *f, int i) { Py_CLEAR(f->localsplus[i]); }
void store_slot(Frame *f, int i, PyObject *v) { f->localsplus[i] = Py_XNewRef(v); }
}  // namespace

PyObject *frame_slot(Frame *f, int i) { return f->localsplus[i]; }
