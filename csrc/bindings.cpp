// The Python face of the C++ core: module teleporter._teleporter_impl.
//
// This is the only file that defines Python-callable functions; the engine (capture/,
// resume/, stack_depth/) and the per-version adapters know nothing of argument parsing.
#include <Python.h>
#include <frameobject.h>
#include <structmember.h>

#include <sys/prctl.h>

#include <string>

#include "adapters/frame_adapter.hpp"
#include "adapters/layout_check.hpp"
#include "capture/capture.hpp"
#include "pyutil/refs.hpp"
#include "resume/resume.hpp"
#include "run/signal_wake.hpp"
#include "threads/park.hpp"
#include "stack_depth/stack_depth.hpp"
#include "stdlib/itertools_iters.hpp"
#include "stdlib/itertools_tee.hpp"
#include "stdlib/lru_cache.hpp"
#include "stream/mapped.hpp"
#include "stream/stream.hpp"
#include "codec/format.hpp"

namespace {

// ---- the NULL sentinel: stands for an empty frame slot while a stack travels ----------

PyObject *null_reduce(PyObject *, PyObject *) { return PyUnicode_FromString("NULL"); }

PyMethodDef null_methods[] = {
    {"__reduce__", null_reduce, METH_NOARGS, nullptr},
    {nullptr, nullptr, 0, nullptr},
};

PyObject *null_repr(PyObject *) { return PyUnicode_FromString("<NULL>"); }

PyType_Slot null_slots[] = {
    {Py_tp_methods, null_methods},
    {Py_tp_repr, reinterpret_cast<void *>(null_repr)},
    {Py_tp_doc, const_cast<char *>("Stands for an empty (NULL) frame slot (internal).")},
    {0, nullptr},
};

PyType_Spec null_spec = {"teleporter._teleporter_impl.NullType", sizeof(PyObject), 0,
                         Py_TPFLAGS_DEFAULT, null_slots};

PyObject *g_null = nullptr; // one instance, kept alive for the life of the process

// ---- functions -------------------------------------------------------------------------

PyObject *py_capture(PyObject *, PyObject *args)
{
    int skip;
    PyObject *main_globals;
    PyObject *entry = nullptr;
    if (!PyArg_ParseTuple(args, "iO!|O:capture", &skip, &PyDict_Type, &main_globals, &entry)) {
        return nullptr;
    }
    return tp::capture_stack(skip, main_globals, entry);
}

// signal_context(handler_codes, made_again, return_none): see capture.hpp.
PyObject *py_signal_context(PyObject *, PyObject *args)
{
    PyObject *codes, *again, *none;
    if (!PyArg_ParseTuple(args, "OOO:signal_context", &codes, &again, &none) ||
        !tp::set_signal_context(codes, again, none)) {
        return nullptr;
    }
    Py_RETURN_NONE;
}

// set_frame_local(frame, index, value): stores `value` in slot `index` of a running
// frame's fast locals (a moved frame's reference to another frame of its stack).
PyObject *py_set_frame_local(PyObject *, PyObject *args)
{
    PyObject *frame, *value;
    int index;
    if (!PyArg_ParseTuple(args, "O!iO:set_frame_local", &PyFrame_Type, &frame, &index, &value)) {
        return nullptr;
    }
    tp::adapter::Frame *f = tp::adapter::object_frame(frame);
    if (!f || index < 0 || index >= tp::adapter::frame_code(f)->co_nlocalsplus) {
        PyErr_SetString(PyExc_IndexError, "set_frame_local(): no such local");
        return nullptr;
    }
    tp::adapter::set_local(f, index, value);
    Py_RETURN_NONE;
}

PyObject *py_handled_exception(PyObject *, PyObject *) { return tp::base_handled_exception(); }

PyObject *py_unhandled_interrupt(PyObject *, PyObject *args)
{
    int value = -1;
    if (!PyArg_ParseTuple(args, "|i:unhandled_interrupt", &value)) {
        return nullptr;
    }
    int &flag = *tp_unhandled_keyboard_interrupt();
    const int was = flag;
    if (value >= 0) {
        flag = value != 0;
    }
    return PyBool_FromLong(was);
}

PyObject *py_resume(PyObject *, PyObject *args)
{
    PyObject *records, *result, *handled, *ready = Py_None;
    int thread = 0, whole = 0;
    if (!PyArg_ParseTuple(args, "OOO|ppO:resume", &records, &result, &handled, &thread,
                          &whole, &ready)) {
        return nullptr;
    }
    return tp::resume_stack(records, result, handled, thread, whole, ready);
}

PyObject *py_park_threads(PyObject *, PyObject *args)
{
    double timeout;
    PyObject *exempt = Py_None, *check = Py_None;
    if (!PyArg_ParseTuple(args, "d|OO:park_threads", &timeout, &exempt, &check)) {
        return nullptr;
    }
    if (exempt != Py_None && !PyAnySet_Check(exempt)) {
        PyErr_SetString(PyExc_TypeError, "park_threads() expects a set of idents or None");
        return nullptr;
    }
    tp::ParkCheck parsed{};
    if (check != Py_None &&
        !PyArg_ParseTuple(check, "O!kO:park_threads check", &PyDict_Type, &parsed.main_globals,
                          &parsed.main_ident, &parsed.entry)) {
        return nullptr;
    }
    return tp::park_threads(timeout, exempt, check != Py_None ? &parsed : nullptr);
}

PyObject *py_unpark_threads(PyObject *, PyObject *) { return tp::unpark_threads(); }
PyObject *py_blocked_unchanged(PyObject *, PyObject *) { return tp::blocked_unchanged(); }

PyObject *py_capture_thread(PyObject *, PyObject *args)
{
    unsigned long ident;
    PyObject *main_globals, *entry = Py_None;
    int main_thread;
    if (!PyArg_ParseTuple(args, "kO!p|O:capture_thread", &ident, &PyDict_Type, &main_globals,
                          &main_thread, &entry)) {
        return nullptr;
    }
    return tp::capture_thread(ident, main_globals, main_thread, entry);
}

PyObject *py_parked_thread_state(PyObject *, PyObject *arg)
{
    const unsigned long ident = PyLong_AsUnsignedLong(arg);
    if (ident == static_cast<unsigned long>(-1) && PyErr_Occurred()) {
        return nullptr;
    }
    return tp::parked_thread_state(ident);
}

PyObject *py_stack_depths(PyObject *, PyObject *arg)
{
    if (!PyCode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "stack_depths() expects a code object");
        return nullptr;
    }
    std::string why;
    const tp::CodeAnalysis *a = tp::analyse(reinterpret_cast<PyCodeObject *>(arg), why);
    if (!a) {
        PyErr_SetString(PyExc_ValueError, why.c_str());
        return nullptr;
    }
    tp::Ref out = tp::Ref::steal(PyDict_New());
    if (!out) {
        return nullptr;
    }
    for (const tp::Instr &in : a->instrs) {
        tp::Ref k = tp::Ref::steal(PyLong_FromLong(2L * in.opunit));
        tp::Ref v = tp::Ref::steal(PyLong_FromLong(in.depth));
        if (!k || !v || PyDict_SetItem(out.get(), k.get(), v.get()) < 0) {
            return nullptr;
        }
    }
    return out.release();
}

PyObject *py_atexit_callbacks(PyObject *, PyObject *) { return tp_atexit_callbacks(); }

PyObject *py_tee_state(PyObject *, PyObject *arg) { return tp::tee_state(arg); }
PyObject *py_tee_data_state(PyObject *, PyObject *arg) { return tp::tee_data_state(arg); }
PyObject *py_tee_set(PyObject *, PyObject *args)
{
    PyObject *tee, *data;
    int index;
    if (!PyArg_ParseTuple(args, "OOi:tee_set", &tee, &data, &index)) {
        return nullptr;
    }
    return tp::tee_set(tee, data, index);
}

PyObject *py_iter_state(PyObject *, PyObject *arg) { return tp::iter_state(arg); }
PyObject *py_iter_make(PyObject *, PyObject *args)
{
    PyObject *type, *make_args, *state;
    if (!PyArg_ParseTuple(args, "OOO:iter_make", &type, &make_args, &state)) {
        return nullptr;
    }
    return tp::iter_make(type, make_args, state);
}

PyObject *py_token_used(PyObject *, PyObject *arg)
{
    const int used = tp_token_used(arg);
    return used < 0 ? nullptr : PyBool_FromLong(used);
}

PyObject *py_token_context(PyObject *, PyObject *args)
{
    PyObject *token, *ctx = Py_None;
    if (!PyArg_ParseTuple(args, "O|O:token_context", &token, &ctx)) {
        return nullptr;
    }
    return tp_token_context(token, ctx == Py_None ? nullptr : ctx);
}

PyObject *py_current_context(PyObject *, PyObject *) { return tp_current_context(); }

PyObject *py_outer_context(PyObject *, PyObject *args)
{
    PyObject *ctx = Py_None;
    if (!PyArg_ParseTuple(args, "|O:outer_context", &ctx)) {
        return nullptr;
    }
    return tp_outer_context(ctx == Py_None ? nullptr : ctx);
}

PyObject *py_token_restore(PyObject *, PyObject *args)
{
    PyObject *token, *old_value;
    int had_value, used;
    if (!PyArg_ParseTuple(args, "OpOp:token_restore", &token, &had_value, &old_value, &used)) {
        return nullptr;
    }
    if (tp_token_restore(token, had_value ? old_value : nullptr, used) < 0) {
        return nullptr;
    }
    Py_RETURN_NONE;
}

PyObject *py_lru_cache_state(PyObject *, PyObject *arg) { return tp::lru_cache_state(arg); }

PyObject *py_lru_cache_fill(PyObject *, PyObject *args)
{
    PyObject *wrapper, *entries;
    Py_ssize_t hits, misses;
    if (!PyArg_ParseTuple(args, "OO!nn:lru_cache_fill", &wrapper, &PyList_Type, &entries, &hits,
                          &misses)) {
        return nullptr;
    }
    return tp::lru_cache_fill(wrapper, entries, hits, misses);
}

PyObject *py_write_payload(PyObject *, PyObject *args) { return tp::write_payload(args); }
PyObject *py_read_payload(PyObject *, PyObject *args) { return tp::read_payload(args); }
PyObject *py_describe_payload(PyObject *, PyObject *args) { return tp::describe_payload(args); }

PyObject *py_crc32c(PyObject *, PyObject *arg)
{
    Py_buffer b;
    if (PyObject_GetBuffer(arg, &b, PyBUF_CONTIG_RO) < 0) {
        return nullptr;
    }
    uint32_t c = tp::codec::crc32c(0, b.buf, static_cast<size_t>(b.len));
    PyBuffer_Release(&b);
    return PyLong_FromUnsignedLong(c);
}

PyObject *py_check_payload(PyObject *, PyObject *arg)
{
    Py_buffer b;
    if (PyObject_GetBuffer(arg, &b, PyBUF_CONTIG_RO) < 0) {
        return nullptr;
    }
    tp::codec::Header h;
    std::string why;
    bool ok = tp::codec::decode_all(static_cast<const uint8_t *>(b.buf),
                                    static_cast<size_t>(b.len), &h, why);
    PyBuffer_Release(&b);
    if (!ok) {
        PyErr_SetString(tp::PayloadFormatError, why.c_str());
        return nullptr;
    }
    return PyLong_FromSize_t(h.sections.size());
}

// stand_in_frame(code, globals) -> a frame object of `code` that never ran, for a
// traceback entry whose frame did not travel (frames of the past are not rebuilt).
PyObject *py_stand_in_frame(PyObject *, PyObject *args)
{
    PyObject *code, *globals;
    if (!PyArg_ParseTuple(args, "O!O!:stand_in_frame", &PyCode_Type, &code, &PyDict_Type,
                          &globals)) {
        return nullptr;
    }
    return reinterpret_cast<PyObject *>(PyFrame_New(
        PyThreadState_Get(), reinterpret_cast<PyCodeObject *>(code), globals, nullptr));
}

// view_offset(memoryview) -> byte offset of the view's data inside its base object's
// buffer, or -1 when the view is not C-contiguous or not inside that buffer.
PyObject *py_view_offset(PyObject *, PyObject *arg)
{
    if (!PyMemoryView_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "view_offset() expects a memoryview");
        return nullptr;
    }
    Py_buffer *view = PyMemoryView_GET_BUFFER(arg);
    PyObject *base = view->obj;
    if (!base || !PyBuffer_IsContiguous(view, 'C')) {
        return PyLong_FromLong(-1);
    }
    Py_buffer whole;
    if (PyObject_GetBuffer(base, &whole, PyBUF_SIMPLE) < 0) {
        PyErr_Clear();
        return PyLong_FromLong(-1);
    }
    const char *lo = static_cast<const char *>(whole.buf);
    const char *p = static_cast<const char *>(view->buf);
    long off = -1;
    if (p >= lo && p + view->len <= lo + whole.len) {
        off = static_cast<long>(p - lo);
    }
    PyBuffer_Release(&whole);
    return PyLong_FromLong(off);
}

PyObject *py_capture_generator(PyObject *, PyObject *arg) { return tp::capture_generator(arg); }

PyObject *py_new_generator(PyObject *, PyObject *args)
{
    PyObject *func, *code, *globals;
    if (!PyArg_ParseTuple(args, "OOO:new_generator", &func, &code, &globals)) {
        return nullptr;
    }
    return tp::new_generator(func == Py_None ? nullptr : func, code, globals);
}

PyObject *py_restore_generator(PyObject *, PyObject *args)
{
    PyObject *gen, *state;
    if (!PyArg_ParseTuple(args, "OO:restore_generator", &gen, &state)) {
        return nullptr;
    }
    return tp::restore_generator(gen, state);
}

// ---- BytesSieve: the pickler's persistent_id, lifting large bytes/bytearray out --------
//
// Called by the C pickler for every object, so it is C: an exact bytes or bytearray of at
// least `threshold` bytes gets an index into `found` (the same object, the same index, so
// identity survives); anything else returns None and is pickled as usual.

struct BytesSieve {
    PyObject_HEAD
    vectorcallfunc vectorcall; // called once per pickled object: no argument tuple
    Py_ssize_t threshold;
    PyObject *found; // list of the lifted objects, in index order
    PyObject *index; // {id(obj): index}
};

PyObject *sieve_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kw)
{
    auto *s = reinterpret_cast<BytesSieve *>(self);
    if (PyVectorcall_NARGS(nargsf) != 1 || kw) {
        PyErr_SetString(PyExc_TypeError, "BytesSieve takes one object");
        return nullptr;
    }
    PyObject *obj = args[0];
    Py_ssize_t size;
    if (PyBytes_CheckExact(obj)) {
        size = PyBytes_GET_SIZE(obj);
    }
    else if (PyByteArray_CheckExact(obj)) {
        size = PyByteArray_GET_SIZE(obj);
    }
    else {
        Py_RETURN_NONE;
    }
    if (size < s->threshold) {
        Py_RETURN_NONE;
    }
    tp::Ref key = tp::Ref::steal(PyLong_FromVoidPtr(obj));
    if (!key) {
        return nullptr;
    }
    PyObject *known = PyDict_GetItemWithError(s->index, key.get());
    if (known) {
        return Py_NewRef(known);
    }
    if (PyErr_Occurred()) {
        return nullptr;
    }
    tp::Ref i = tp::Ref::steal(PyLong_FromSsize_t(PyList_GET_SIZE(s->found)));
    if (!i || PyList_Append(s->found, obj) < 0 || PyDict_SetItem(s->index, key.get(), i.get()) < 0) {
        return nullptr;
    }
    return i.release();
}

PyObject *sieve_new(PyTypeObject *type, PyObject *args, PyObject *)
{
    Py_ssize_t threshold;
    if (!PyArg_ParseTuple(args, "n:BytesSieve", &threshold)) {
        return nullptr;
    }
    tp::Ref self = tp::Ref::steal(type->tp_alloc(type, 0));
    if (!self) {
        return nullptr;
    }
    auto *s = reinterpret_cast<BytesSieve *>(self.get());
    s->vectorcall = sieve_vectorcall;
    s->threshold = threshold;
    s->found = PyList_New(0);
    s->index = PyDict_New();
    if (!s->found || !s->index) {
        return nullptr;
    }
    return self.release();
}

int sieve_traverse(PyObject *self, visitproc visit, void *arg)
{
    auto *s = reinterpret_cast<BytesSieve *>(self);
    Py_VISIT(s->found);
    Py_VISIT(s->index);
    Py_VISIT(Py_TYPE(self));
    return 0;
}

int sieve_clear(PyObject *self)
{
    auto *s = reinterpret_cast<BytesSieve *>(self);
    Py_CLEAR(s->found);
    Py_CLEAR(s->index);
    return 0;
}

void sieve_dealloc(PyObject *self)
{
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    sieve_clear(self);
    type->tp_free(self);
    Py_DECREF(type);
}

PyObject *sieve_found(PyObject *self, void *)
{
    return Py_NewRef(reinterpret_cast<BytesSieve *>(self)->found);
}

PyMemberDef sieve_members[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(BytesSieve, vectorcall), READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr},
};

PyGetSetDef sieve_getset[] = {
    {"found", sieve_found, nullptr, "the lifted objects, by index", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyType_Slot sieve_slots[] = {
    {Py_tp_new, reinterpret_cast<void *>(sieve_new)},
    {Py_tp_call, reinterpret_cast<void *>(PyVectorcall_Call)},
    {Py_tp_members, sieve_members},
    {Py_tp_traverse, reinterpret_cast<void *>(sieve_traverse)},
    {Py_tp_clear, reinterpret_cast<void *>(sieve_clear)},
    {Py_tp_dealloc, reinterpret_cast<void *>(sieve_dealloc)},
    {Py_tp_getset, sieve_getset},
    {Py_tp_doc, const_cast<char *>("BytesSieve(threshold): a persistent_id for large bytes.")},
    {0, nullptr},
};

PyType_Spec sieve_spec = {"teleporter._teleporter_impl.BytesSieve", sizeof(BytesSieve), 0,
                          Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
                          sieve_slots};

// ---- the origin after a hand-off ---------------------------------------------------------

PyObject *py_become_subreaper(PyObject *, PyObject *)
{
    // Kept across exec(): the origin's server adopts the destinations of later local moves
    // when the process that started each of them exits.
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    Py_RETURN_NONE;
}

// The attributes of an instance whose type keeps them without showing a __dict__ (a
// Python subclass of asyncio's C future: its dict lives in the C object, managed by
// the interpreter from 3.12 on).
PyObject *py_instance_dict(PyObject *, PyObject *obj)
{
    return PyObject_GenericGetDict(obj, nullptr);
}

PyMethodDef methods[] = {
    {"become_subreaper", py_become_subreaper, METH_NOARGS,
     "become_subreaper(): orphaned descendants of this process become its children"},
    {"capture_generator", py_capture_generator, METH_O,
     "capture_generator(gen) -> (code, func, globals, phase, raw_state, position, localsplus, "
     "stack, exception)"},
    {"new_generator", py_new_generator, METH_VARARGS,
     "new_generator(func, code, globals) -> a fresh generator running code"},
    {"restore_generator", py_restore_generator, METH_VARARGS,
     "restore_generator(gen, (phase, raw_state, position, localsplus, stack, exception))"},
    {"atexit_callbacks", py_atexit_callbacks, METH_NOARGS,
     "atexit_callbacks() -> [(func, args, kwargs or None), ...] in registration order"},
    {"tee_state", py_tee_state, METH_O, "tee_state(tee) -> (dataobj, index)"},
    {"tee_data_state", py_tee_data_state, METH_O,
     "tee_data_state(dataobj) -> (it, values, nextlink or None)"},
    {"tee_set", py_tee_set, METH_VARARGS, "tee_set(fresh_tee, dataobj, index)"},
    {"iter_state", py_iter_state, METH_O, "iter_state(itertools_iterator) -> (args, state)"},
    {"iter_make", py_iter_make, METH_VARARGS, "iter_make(type, args, state) -> iterator"},
    {"token_used", py_token_used, METH_O, "token_used(token) -> whether reset() used it"},
    {"token_context", py_token_context, METH_VARARGS,
     "token_context(token, ctx=None) -> the context the token was taken in; with ctx, set it"},
    {"current_context", py_current_context, METH_NOARGS,
     "current_context() -> the calling thread's current contextvars.Context, or None"},
    {"outer_context", py_outer_context, METH_VARARGS,
     "outer_context(ctx=None) -> the context current outside every Context.run that entered "
     "ctx (default: this thread's current context), or None when it is not entered"},
    {"token_restore", py_token_restore, METH_VARARGS,
     "token_restore(token, had_value, old_value, used)"},
    {"lru_cache_state", py_lru_cache_state, METH_O,
     "lru_cache_state(wrapper) -> ([(key, result), ...] least recent first, hits, misses, "
     "kwd_mark)"},
    {"lru_cache_fill", py_lru_cache_fill, METH_VARARGS,
     "lru_cache_fill(fresh_wrapper, entries, hits, misses)"},
    {"stand_in_frame", py_stand_in_frame, METH_VARARGS,
     "stand_in_frame(code, globals) -> a frame of code that never ran (for a traceback)"},
    {"view_offset", py_view_offset, METH_O,
     "view_offset(memoryview) -> offset of its data in its base object's buffer, or -1"},
    {"write_payload", py_write_payload, METH_VARARGS,
     "write_payload(fd, meta, state, buffers, teleporter_version, mapped_fd=-1, "
     "threshold=1 MiB, signer=None) -> bytes written"},
    {"read_payload", py_read_payload, METH_VARARGS,
     "read_payload(fd, mapped_fd=-1, verifier=None) -> (meta, state, buffers, info), every "
     "checksum (and with a verifier, the signature) verified"},
    {"describe_payload", py_describe_payload, METH_VARARGS,
     "describe_payload(fd, verifier=None) -> info with the section table and the meta "
     "section, every byte checked"},
    {"crc32c", py_crc32c, METH_O, "crc32c(data) -> int (Castagnoli)"},
    {"check_payload", py_check_payload, METH_O,
     "check_payload(data) -> number of sections, or PayloadFormatError"},
    {"park_threads", py_park_threads, METH_VARARGS,
     "park_threads(timeout, exempt=None, check=None) -> [thread dict]: park every other "
     "thread"},
    {"blocked_unchanged", py_blocked_unchanged, METH_NOARGS,
     "blocked_unchanged() -> whether every blocked thread is still in the same call"},
    {"unpark_threads", py_unpark_threads, METH_NOARGS,
     "unpark_threads(): let parked threads run again"},
    {"capture_thread", py_capture_thread, METH_VARARGS,
     "capture_thread(ident, main_globals, main_thread, entry=None) -> (records, handled, "
     "parked, call)"},
    {"parked_thread_state", py_parked_thread_state, METH_O,
     "parked_thread_state(ident) -> (context, trace, profile, thread dict) of a parked thread"},
    {"signal_wake", tp::signal_wake, METH_VARARGS,
     "signal_wake(signum, frame): a signal handler that calls the wake callback in a new "
     "thread"},
    {"forward_signal", tp::forward_signal, METH_O,
     "forward_signal(signum): forwards to Python's handler here, default action in a "
     "forked child"},
    {"hold_signals", tp::hold_signals, METH_VARARGS,
     "hold_signals(fd, signums): each signal writes its number to fd, and does nothing else"},
    {"unhold_signals", tp::unhold_signals, METH_NOARGS,
     "unhold_signals(): the held signals' actions as they were before hold_signals"},
    {"die_by_signal", tp::die_by_signal, METH_O,
     "die_by_signal(signum): the signal's default action, from any thread"},
    {"set_wake_callback", tp::set_wake_callback, METH_O,
     "set_wake_callback(callback or None): what signal_wake calls, with the signal number"},
    {"handled_exception", py_handled_exception, METH_NOARGS,
     "handled_exception() -> the exception this thread handles outside running generators"},
    {"unhandled_interrupt", py_unhandled_interrupt, METH_VARARGS,
     "unhandled_interrupt([value]) -> whether the interpreter will end by SIGINT, as a "
     "KeyboardInterrupt that ended code run from a string asks; sets it when given"},
    {"signal_context", py_signal_context, METH_VARARGS,
     "signal_context(handler_codes, made_again, return_none): what captures take for the "
     "program's signal handlers and the C calls that run them"},
    {"instance_dict", py_instance_dict, METH_O,
     "instance_dict(obj) -> the dict of obj's attributes (AttributeError if none)"},
    {"set_frame_local", py_set_frame_local, METH_VARARGS,
     "set_frame_local(frame, index, value): store a fast local of a running frame"},
    {"capture", py_capture, METH_VARARGS,
     "capture(skip, main_globals, entry=<main thread>) -> list of frame records, outermost "
     "first"},
    {"resume", py_resume, METH_VARARGS,
     "resume(records, result, handled_exception, thread=False, whole=False, ready=None) "
     "-> runs the saved frames; ready() runs just before the innermost one, with that "
     "frame as its caller, and returns None or a list of (function, argument...) to call "
     "once it has returned"},
    {"stack_depths", py_stack_depths, METH_O,
     "stack_depths(code) -> {byte offset of each opcode: stack depth before it (-1 if "
     "unreachable)}"},
    {nullptr, nullptr, 0, nullptr},
};

PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "_teleporter_impl",
    "teleporter's native core: stack capture, stack-depth analysis and native resume.", -1,
    methods, nullptr, nullptr, nullptr, nullptr,
};

}  // namespace

namespace tp {
PyObject *null_object() { return g_null; }
}  // namespace tp

PyMODINIT_FUNC PyInit__teleporter_impl(void)
{
    std::string why;
    if (!tp::check_interpreter(why)) {
        PyErr_SetString(PyExc_ImportError, why.c_str());
        return nullptr;
    }
    if (!tp::init_opcode_tables(why)) {
        PyErr_Format(PyExc_ImportError, "teleporter cannot read this interpreter's opcodes: %s",
                     why.c_str());
        return nullptr;
    }
    tp::Ref m = tp::Ref::steal(PyModule_Create(&moduledef));
    if (!m) {
        return nullptr;
    }
    tp::Ref null_type = tp::Ref::steal(PyType_FromSpec(&null_spec));
    if (!null_type) {
        return nullptr;
    }
    g_null = PyType_GenericAlloc(reinterpret_cast<PyTypeObject *>(null_type.get()), 0);
    if (!g_null || PyModule_AddObjectRef(m.get(), "NULL", g_null) < 0) {
        return nullptr;
    }
    tp::CaptureError = PyErr_NewException("teleporter._teleporter_impl.CaptureError",
                                          PyExc_RuntimeError, nullptr);
    if (!tp::CaptureError ||
        PyModule_AddObjectRef(m.get(), "CaptureError", tp::CaptureError) < 0) {
        return nullptr;
    }
    tp::Ref sieve_type = tp::Ref::steal(PyType_FromSpec(&sieve_spec));
    if (!sieve_type || PyModule_AddObjectRef(m.get(), "BytesSieve", sieve_type.get()) < 0) {
        return nullptr;
    }
    if (!tp::resume_init(m.get()) || !tp::stream_init(m.get()) || !tp::mapped_init(m.get())) {
        return nullptr;
    }
    return m.release();
}
