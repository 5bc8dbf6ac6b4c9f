#include "resume/resume.hpp"

#include <structmember.h>

#include <cstdio>
#include <cstring>
#include <unistd.h>
#include <memory>
#include <string>
#include <vector>

#include "adapters/frame_adapter.hpp"
#include "capture/capture.hpp"
#include "pyutil/refs.hpp"
#include "stack_depth/stack_depth.hpp"

namespace tp {

PyObject *ResumeError = nullptr;

namespace {

struct Prepared {
    Ref code;
    Ref func;    // NULL for the __main__ module frame
    Ref globals;
    std::vector<Ref> localsplus; // NULL slots stay NULL
    std::vector<Ref> stack;
    adapter::CallShape shape;
    std::vector<PyObject *> args; // dummy call arguments (borrowed Py_None)
    Ref kwnames;
    long counter_before = 0;
    bool whole = false; // its stack as it is: the innermost of a parked or blocked thread,
                        // or a frame whose instruction re-enters the next one
    char entry = 'c';   // how it is entered (capture.hpp): 'c', 'i' or 'r'
    Ref gen;            // entry 'r' into a generator's frame: that generator
    Ref init_self;      // entry 'i': the object its class call gives back
    // The next frame is a signal handler run at this frame's instruction (its entry 's'
    // or 'a'): this frame stands in the instruction at `stood` (index `stood_index` of
    // `analysis`) while the handler runs, then goes on at shape.restart.
    char next_entry = 0;
    int stood = -1;
    int stood_index = -1;
    const CodeAnalysis *analysis = nullptr;
};

struct Replay {
    std::vector<Prepared> frames;
    std::vector<Ref> resumers; // resumers[k] re-enters frame k; the last returns result
    Ref result;
    Ref ready; // called just before the innermost frame runs, or NULL
    int armed = -1;
    adapter::EvalFunc previous_eval = nullptr;
    bool hook_installed = false;
};

// Each thread rebuilds its own chain; threads take turns (the eval hook is the
// interpreter's), so only the thread whose replay is running sees its hook armed.
thread_local Replay *g_replay = nullptr;

// The function to call to get a frame running `code`: `func` itself when it runs that
// code, else a new function for it with `globals` (e.g. a module that changed since).
Ref function_for(PyObject *code, PyObject *func, PyObject *globals)
{
    if (func && PyFunction_Check(func) && PyFunction_GET_CODE(func) == code) {
        return Ref::borrow(func);
    }
    auto *co = reinterpret_cast<PyCodeObject *>(code);
    Ref fn = Ref::steal(PyFunction_NewWithQualName(code, globals, co->co_qualname));
    if (!fn || co->co_nfreevars == 0) {
        return fn;
    }
    Ref cells = Ref::steal(PyTuple_New(co->co_nfreevars));
    if (!cells) {
        return Ref();
    }
    for (int i = 0; i < co->co_nfreevars; i++) {
        PyObject *cell = PyCell_New(nullptr);
        if (!cell) {
            return Ref();
        }
        PyTuple_SET_ITEM(cells.get(), i, cell);
    }
    if (PyFunction_SetClosure(fn.get(), cells.get()) < 0) {
        return Ref();
    }
    return fn;
}

// Dummy arguments that bind to any signature of this code: every positional parameter
// and every keyword-only one gets None.
bool dummy_arguments(PyCodeObject *co, std::vector<PyObject *> &args, Ref &kwnames)
{
    const int npos = co->co_argcount;
    const int nkw = co->co_kwonlyargcount;
    args.assign(static_cast<size_t>(npos + nkw), Py_None);
    // A generator expression's argument `.0`: from 3.15 on it gets the iterable and calls
    // iter() on it before the generator exists, so it must be one (the frame's own state
    // replaces it).
    static PyObject *empty = PyTuple_New(0);
    if (npos > 0 && (co->co_flags & CO_GENERATOR) && empty) {
        Ref names = Ref::steal(PyObject_GetAttrString(reinterpret_cast<PyObject *>(co), "co_varnames"));
        if (!names) {
            return false;
        }
        if (PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(names.get(), 0), ".0") == 0) {
            args[0] = empty;
        }
    }
    if (nkw) {
        Ref names = Ref::steal(PyObject_GetAttrString(reinterpret_cast<PyObject *>(co), "co_varnames"));
        if (!names) {
            return false;
        }
        kwnames = Ref::steal(PyTuple_GetSlice(names.get(), npos, npos + nkw));
        if (!kwnames) {
            return false;
        }
    }
    return true;
}

PyObject *call_dummy(PyObject *func, const std::vector<PyObject *> &args, const Ref &kwnames)
{
    Py_ssize_t nargs = static_cast<Py_ssize_t>(args.size()) -
                       (kwnames ? PyTuple_GET_SIZE(kwnames.get()) : 0);
    return PyObject_Vectorcall(func, args.data(), static_cast<size_t>(nargs), kwnames.get());
}


// ---- the resumer type --------------------------------------------------------------

struct ResumerObject {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    int index;
    Replay *owner;
    PyObject *code; // the code it re-enters (NULL for the innermost's result)
    char entry;     // how (capture.hpp): 'c' or 'i' (its value is then __init__'s object)
};

PyObject *enter_frame(int k);

PyObject *resumer_vectorcall(PyObject *self, PyObject *const *, size_t, PyObject *)
{
    auto *r = reinterpret_cast<ResumerObject *>(self);
    Replay *g = g_replay;
    if (!g || r->owner != g) {
        PyErr_SetString(PyExc_RuntimeError, "teleporter resumer called outside a resume");
        return nullptr;
    }
    if (r->index == static_cast<int>(g->frames.size())) {
        return Py_NewRef(g->result.get());
    }
    Prepared &p = g->frames[static_cast<size_t>(r->index)];
    Ref obj = std::move(p.init_self);
    PyObject *result = enter_frame(r->index);
    if (result && p.entry == 'i') {
        // The class call that ran __init__: its value is the object, as type.__call__ gives.
        if (result != Py_None) {
            PyErr_Format(PyExc_TypeError, "__init__() should return None, not '%.200s'",
                         Py_TYPE(result)->tp_name);
            Py_DECREF(result);
            return nullptr;
        }
        Py_DECREF(result);
        return obj.release();
    }
    return result;
}

PyMemberDef resumer_members[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(ResumerObject, vectorcall), READONLY,
     nullptr},
    {nullptr, 0, 0, 0, nullptr},
};

void resumer_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    Py_XDECREF(reinterpret_cast<ResumerObject *>(self)->code);
    tp->tp_free(self);
    Py_DECREF(tp);
}

PyType_Slot resumer_slots[] = {
    {Py_tp_members, resumer_members},
    {Py_tp_dealloc, reinterpret_cast<void *>(resumer_dealloc)},
    {Py_tp_call, reinterpret_cast<void *>(PyVectorcall_Call)},
    {Py_tp_doc, const_cast<char *>("Re-enters one saved frame when called (internal).")},
    {0, nullptr},
};

PyType_Spec resumer_spec = {"teleporter._teleporter_impl.Resumer", sizeof(ResumerObject), 0,
                            Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL, resumer_slots};

PyTypeObject *ResumerType = nullptr;

PyObject *new_resumer(Replay *owner, int index)
{
    auto *r = PyObject_New(ResumerObject, ResumerType);
    if (r) {
        r->vectorcall = resumer_vectorcall;
        r->index = index;
        r->owner = owner;
        const bool frame = index < static_cast<int>(owner->frames.size());
        r->code = frame ? Py_NewRef(owner->frames[static_cast<size_t>(index)].code.get())
                        : nullptr;
        r->entry = frame ? owner->frames[static_cast<size_t>(index)].entry : 'c';
    }
    return reinterpret_cast<PyObject *>(r);
}

}  // namespace

PyObject *resumer_target_code(PyObject *callee, char *entry)
{
    if (!ResumerType || Py_TYPE(callee) != ResumerType) {
        return nullptr;
    }
    *entry = reinterpret_cast<ResumerObject *>(callee)->entry;
    return reinterpret_cast<ResumerObject *>(callee)->code;
}

namespace {

// ---- the eval hook -------------------------------------------------------------------

void uninstall_hook(Replay *g)
{
    if (g->hook_installed) {
        adapter::set_eval_func(g->previous_eval);
        g->hook_installed = false;
    }
}

// The innermost frame is patched and about to run: `ready` runs with that frame linked as
// the current one (its caller, for Python code), then each (function, argument...) tuple
// in the list it returns is called from here, when no frame of teleporter's is left on
// the stack: what those calls switch on (sys.settrace, sys.monitoring events) sees the
// program's frames only, this one included. The last call lets the signals held since
// the rebuild in (_process_state.hold_signals): an exception it raises (a SIGINT's
// KeyboardInterrupt, the program's own handler's) is the program's, raised in this frame
// where it stands; returns whether one is pending. Other failures are reported.
bool call_ready(Replay *g, PyThreadState *tstate, adapter::Frame *frame)
{
    adapter::Frame *previous = adapter::link_current(tstate, frame);
    bool raise = false;
    Ref r = Ref::steal(PyObject_CallNoArgs(g->ready.get()));
    if (!r) {
        PyErr_WriteUnraisable(g->ready.get());
    }
    else if (r.get() != Py_None) {
        Ref calls = Ref::steal(PySequence_Tuple(r.get()));
        for (Py_ssize_t i = 0; calls && i < PyTuple_GET_SIZE(calls.get()); i++) {
            PyObject *call = PyTuple_GET_ITEM(calls.get(), i);
            if (!PyTuple_Check(call) || PyTuple_GET_SIZE(call) < 1) {
                PyErr_SetString(PyExc_TypeError, "a replay's ready calls must be tuples");
                PyErr_WriteUnraisable(g->ready.get());
                continue;
            }
            Ref args = Ref::steal(PyTuple_GetSlice(call, 1, PyTuple_GET_SIZE(call)));
            Ref done = args ? Ref::steal(PyObject_Call(PyTuple_GET_ITEM(call, 0), args.get(),
                                                       nullptr))
                            : Ref();
            if (!done && i + 1 == PyTuple_GET_SIZE(calls.get())) {
                raise = true; // the program's own: see above
            }
            else if (!done) {
                PyErr_WriteUnraisable(PyTuple_GET_ITEM(call, 0));
            }
        }
        if (!calls) {
            PyErr_WriteUnraisable(g->ready.get());
        }
    }
    adapter::unlink_current(tstate, previous);
    return raise;
}

// Whether `frame`, about to be evaluated, is the one the armed record stands for: a
// generator's own frame; a frame running the record's code; for a frame its caller's
// instruction re-enters (entry 'r'), also one running a code equal to it: the interpreter
// calls the destination's own function there, and a library function that pickle cannot
// find by its name (a property's getter) travelled as a copy, whose code is the origin's.
bool is_armed_frame(const Prepared &p, adapter::Frame *frame)
{
    PyObject *code = reinterpret_cast<PyObject *>(adapter::frame_code(frame));
    if (p.gen) {
        return frame == adapter::generator_frame(p.gen.get());
    }
    if (code == p.code.get()) {
        return true;
    }
    if (p.entry != 'r') {
        return false;
    }
    const int same = PyObject_RichCompareBool(code, p.code.get(), Py_EQ);
    if (same < 0) {
        PyErr_Clear();
    }
    return same > 0;
}

// The replay cannot go on: a saved frame will not be entered again, and the frame that
// should have entered it would run on with a wrong result. Nothing of the program may
// run further here (before the program's first instruction at the destination, the
// origin has not been told to stop; after, it has stopped, and so must this).
[[noreturn]] void lost_frame(const Prepared &p, const char *why)
{
    const char *name = PyUnicode_AsUTF8(reinterpret_cast<PyCodeObject *>(p.code.get())->co_qualname);
    std::fprintf(stderr, "teleporter: the destination could not rebuild the program: `%s` %s\n",
                 name ? name : "?", why);
    std::fflush(stderr);
    _exit(1);
}

// A frame of the same function, by name and file, as the armed one but not its code: the
// destination has another release of it.
bool same_function_other_code(const Prepared &p, adapter::Frame *frame)
{
    auto *armed = reinterpret_cast<PyCodeObject *>(p.code.get());
    PyCodeObject *co = adapter::frame_code(frame);
    return PyUnicode_Compare(co->co_qualname, armed->co_qualname) == 0 &&
           PyUnicode_Compare(co->co_filename, armed->co_filename) == 0;
}

PyObject *eval_hook(PyThreadState *tstate, adapter::Frame *frame, int throwflag)
{
    Replay *g = g_replay;
    if (!g || g->armed < 0 || !is_armed_frame(g->frames[static_cast<size_t>(g->armed)], frame)) {
        if (g && g->armed >= 0 && g->frames[static_cast<size_t>(g->armed)].entry == 'r' &&
            same_function_other_code(g->frames[static_cast<size_t>(g->armed)], frame)) {
            lost_frame(g->frames[static_cast<size_t>(g->armed)],
                       "has other code here than at the origin (another release of its module?)");
        }
        return adapter::eval_default(tstate, frame, throwflag);
    }
    const int k = g->armed;
    g->armed = -1;
    Prepared &p = g->frames[static_cast<size_t>(k)];
    if (p.entry == 'r' && throwflag) {
        // gen.throw(...) made again: the generator took that exception at the origin
        // already, and its frame continues inside the handler it reached.
        PyErr_Clear();
        throwflag = 0;
    }

    std::vector<PyObject *> locals(p.localsplus.size());
    for (size_t i = 0; i < locals.size(); i++) {
        locals[i] = p.localsplus[i].get();
    }
    std::vector<PyObject *> stack(p.stack.size());
    for (size_t i = 0; i < stack.size(); i++) {
        stack[i] = p.stack[i].get();
    }
    const bool innermost = k + 1 == static_cast<int>(g->frames.size());
    if (!p.whole) {
        stack[static_cast<size_t>(p.shape.callable_slot)] =
            g->resumers[static_cast<size_t>(k + 1)].get();
        stack[static_cast<size_t>(p.shape.null_slot)] = nullptr;
    }
    adapter::patch_frame(frame, locals.data(), stack.data(), static_cast<int>(stack.size()),
                         p.shape.restart);
    // The frame holds its own references now: drop ours, so that the program alone
    // decides how long its objects live.
    p.localsplus.clear();
    p.stack.clear();
    if (innermost) {
        uninstall_hook(g); // innermost: calls inline and specialise again from here on
        if (g->ready) {
            // Before the program's first instruction here: the thread reports that it is
            // rebuilt (and may wait until every thread is). The hook is gone first: the
            // next thread's replay installs its own.
            if (call_ready(g, tstate, frame)) {
                throwflag = 1; // as gen.throw() does: raised at the frame's instruction
            }
        }
    }
    // Give back the native recursion the replay itself spent reaching this frame, for as
    // long as the frame runs: the original program did not spend it.
    const long credit = p.counter_before - adapter::native_budget(tstate) +
                        (p.entry == 'r' ? 0 : adapter::kReplayEntryCost);
    adapter::native_credit(tstate, credit);
    if (!innermost && g->frames[static_cast<size_t>(k + 1)].entry == 'r') {
        // Its own instruction, started again, re-enters the next frame: armed for it now.
        g->armed = k + 1;
        g->frames[static_cast<size_t>(k + 1)].counter_before = adapter::native_budget(tstate);
    }
    if (!innermost && (p.next_entry == 's' || p.next_entry == 'a')) {
        // The signal handler the interpreter ran at this frame's instruction runs again
        // from here, as the interpreter called it: with this frame current, standing in
        // that instruction. Its value is dropped; what it raises, this frame raises there.
        adapter::stand_in(frame, p.stood);
        adapter::Frame *previous = adapter::link_current(tstate, frame);
        PyObject *handled = enter_frame(k + 1);
        adapter::unlink_current(tstate, previous);
        if (handled) {
            Py_DECREF(handled);
            adapter::go_on_at(frame, p.shape.restart);
        }
        else {
            adapter::raise_in(frame, *p.analysis, p.stood_index, p.stood);
            throwflag = 1;
        }
    }
    PyObject *r = adapter::eval_default(tstate, frame, throwflag);
    adapter::native_credit(tstate, -credit);
    if (g_replay == g && g->armed == k + 1) {
        // Its instruction, made again, ran to its end without entering the next saved
        // frame: this frame has run on past it.
        lost_frame(g->frames[static_cast<size_t>(k + 1)], "was not entered again by its caller");
    }
    return r;
}

PyObject *enter_frame(int k)
{
    Replay *g = g_replay;
    Prepared &p = g->frames[static_cast<size_t>(k)];
    PyThreadState *tstate = PyThreadState_Get();
    p.counter_before = adapter::native_budget(tstate);
    g->armed = k;
    PyObject *r;
    if (!p.func) {
        r = PyEval_EvalCode(p.code.get(), p.globals.get(), p.globals.get());
    }
    else {
        r = call_dummy(p.func.get(), p.args, p.kwnames);
    }
    if (g->armed == k) { // the hook never saw the frame: nothing of it ran
        g->armed = -1;
        Py_XDECREF(r);
        PyErr_SetString(ResumeError, "a saved frame could not be re-entered");
        return nullptr;
    }
    return r;
}

// ---- validation ----------------------------------------------------------------------

bool fail(const std::string &msg)
{
    PyErr_SetString(ResumeError, msg.c_str());
    return false;
}

// `thread`: the outermost frame is a thread's entry function, not __main__'s module.
// `whole`: this is the innermost frame of a parked or blocked thread.
// `next_entry`: how the next record's frame is entered (capture.hpp), 0 for none.
bool prepare(PyObject *rec, size_t k, Prepared &p, bool thread, bool whole, char next_entry)
{
    const bool next_reenters = next_entry == 'r';
    const bool next_handler = next_entry == 's' || next_entry == 'a';
    const std::string where = "frame " + std::to_string(k) + ": ";
    if (!PyTuple_Check(rec) || PyTuple_GET_SIZE(rec) != 7) {
        return fail(where + "malformed record");
    }
    PyObject *entry = PyTuple_GET_ITEM(rec, 6);
    const char *entry_s = PyUnicode_Check(entry) ? PyUnicode_AsUTF8(entry) : nullptr;
    if (!entry_s || std::strlen(entry_s) != 1 || !std::strchr("cirsa", entry_s[0]) ||
        (k == 0 && entry_s[0] != 'c')) {
        PyErr_Clear();
        return fail(where + "malformed record");
    }
    p.entry = entry_s[0];
    whole = whole || next_reenters;
    PyObject *code = PyTuple_GET_ITEM(rec, 0);
    PyObject *func = PyTuple_GET_ITEM(rec, 1);
    PyObject *globals = PyTuple_GET_ITEM(rec, 2);
    PyObject *locals = PyTuple_GET_ITEM(rec, 3);
    PyObject *stack = PyTuple_GET_ITEM(rec, 4);
    PyObject *call_at = PyTuple_GET_ITEM(rec, 5);
    const bool is_gen = PyGen_CheckExact(func) || PyCoro_CheckExact(func);
    if (!PyCode_Check(code) || !PyDict_Check(globals) || !PyTuple_Check(locals) ||
        !PyTuple_Check(stack) || !PyLong_Check(call_at) ||
        !(func == Py_None || PyFunction_Check(func) || (is_gen && p.entry == 'r'))) {
        return fail(where + "malformed record");
    }
    auto *co = reinterpret_cast<PyCodeObject *>(code);
    const bool module_level = func == Py_None;
    if ((module_level != (k == 0 && !thread)) ||
        module_level == bool(co->co_flags & CO_OPTIMIZED)) {
        return fail(where + "frame kind does not match its position in the stack");
    }
    if (is_gen) {
        // Its driver resumes it: a generator rebuilt fresh for this frame, running this code.
        if (adapter::generator_phase(func) != adapter::GenPhase::Created ||
            adapter::frame_code(adapter::generator_frame(func)) != co) {
            return fail(where + "the generator does not match its frame");
        }
        p.gen = Ref::borrow(func);
    }
    else if (co->co_flags & (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR)) {
        return fail(where + "a generator's frame without its generator");
    }
    std::string why;
    const CodeAnalysis *a = analyse(co, why);
    if (!a) {
        return fail(where + why);
    }
    int overflow = 0;
    long at = PyLong_AsLongAndOverflow(call_at, &overflow);
    if (overflow || at < 0 || at > INT32_MAX) {
        return fail(where + "call position out of range");
    }
    int idx = a->starting_at(static_cast<int>(at));
    adapter::BreakerSite site;
    if (next_handler) {
        // It stands anywhere inside the instruction that ran the handler (3.11: a
        // specialised PRECALL, or the CALL after it).
        idx = a->containing(static_cast<int>(at));
        adapter::CallShape call;
        if (idx < 0 || !adapter::breaker_site(*a, idx, &site) ||
            (next_entry == 'a' && (!site.call || !adapter::call_shape(*a, idx, &call, why)))) {
            return fail(where + "a signal handler's frame where the interpreter runs none");
        }
        p.whole = true;
        p.shape.restart = next_entry == 'a' ? call.restart : site.resume;
        p.shape.depth = next_entry == 'a' ? call.depth : site.depth;
        p.next_entry = next_entry;
        p.stood = static_cast<int>(at);
        p.stood_index = idx;
        p.analysis = a;
    }
    else if (idx < 0) {
        return fail(where + "call position is not an instruction boundary");
    }
    else if (whole) {
        // It starts exactly here, with the stack the instruction expects.
        p.whole = true;
        p.shape.restart = a->at(idx).start;
        p.shape.depth = a->at(idx).depth;
    }
    else if (!adapter::call_shape(*a, idx, &p.shape, why)) {
        return fail(where + why);
    }
    if (a->at(idx).depth < 0 || p.shape.depth > a->stacksize ||
        PyTuple_GET_SIZE(stack) != p.shape.depth) {
        return fail(where + "value stack size does not match the code");
    }
    if (PyTuple_GET_SIZE(locals) != a->nlocalsplus) {
        return fail(where + "number of locals does not match the code");
    }
    PyObject *null = null_object();
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(locals); i++) {
        PyObject *v = PyTuple_GET_ITEM(locals, i);
        p.localsplus.push_back(v == null ? Ref() : Ref::borrow(v));
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(stack); i++) {
        PyObject *v = PyTuple_GET_ITEM(stack, i);
        p.stack.push_back(v == null ? Ref() : Ref::borrow(v));
    }
    p.code = Ref::borrow(code);
    p.globals = Ref::borrow(globals);
    if (p.entry == 'r' && !is_gen) {
        // The interpreter calls the function itself (its __next__ or __enter__), whose
        // code object is the destination's own: the frame is recognised by that one.
        PyObject *own = PyFunction_GET_CODE(func);
        const int same = PyObject_RichCompareBool(own, code, Py_EQ);
        if (same < 0) {
            return false;
        }
        if (!same) {
            return fail(where + "the code of `" +
                        std::string(PyUnicode_AsUTF8(reinterpret_cast<PyCodeObject *>(own)->co_qualname)) +
                        "` differs from the origin's");
        }
        p.code = Ref::borrow(own);
    }
    if (p.entry == 'i') {
        if (co->co_argcount < 1 || !p.localsplus[0]) {
            return fail(where + "an __init__ frame without its object");
        }
        p.init_self = p.localsplus[0];
    }
    if (!module_level && !is_gen) {
        p.func = function_for(code, func, globals);
        if (!p.func || !dummy_arguments(co, p.args, p.kwnames)) {
            return false;
        }
    }
    return true;
}

}  // namespace

PyObject *new_generator(PyObject *func, PyObject *code, PyObject *globals)
{
    if (!PyCode_Check(code) || !PyDict_Check(globals) ||
        !(reinterpret_cast<PyCodeObject *>(code)->co_flags &
          (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR))) {
        PyErr_SetString(ResumeError, "malformed generator record");
        return nullptr;
    }
    auto *co = reinterpret_cast<PyCodeObject *>(code);
    Ref fn = function_for(code, func, globals);
    std::vector<PyObject *> args;
    Ref kwnames;
    if (!fn || !dummy_arguments(co, args, kwnames)) {
        return nullptr;
    }
    Ref gen = Ref::steal(call_dummy(fn.get(), args, kwnames));
    if (!gen) {
        return nullptr;
    }
    if ((!PyGen_CheckExact(gen.get()) && !PyCoro_CheckExact(gen.get()) &&
         !PyAsyncGen_CheckExact(gen.get())) ||
        adapter::generator_phase(gen.get()) != adapter::GenPhase::Created ||
        reinterpret_cast<PyObject *>(adapter::frame_code(adapter::generator_frame(gen.get()))) !=
            code) {
        PyErr_SetString(ResumeError, "the generator function did not make a fresh generator");
        return nullptr;
    }
    return gen.release();
}

PyObject *restore_generator(PyObject *gen, PyObject *state)
{
    const char *phase_name;
    int raw_state, position;
    PyObject *locals, *stack, *exc;
    if ((!PyGen_CheckExact(gen) && !PyCoro_CheckExact(gen) && !PyAsyncGen_CheckExact(gen)) ||
        !PyTuple_Check(state) ||
        !PyArg_ParseTuple(state, "siiOOO:generator state", &phase_name, &raw_state, &position,
                          &locals, &stack, &exc)) {
        PyErr_Clear();
        PyErr_SetString(ResumeError, "malformed generator state");
        return nullptr;
    }
    if (adapter::generator_phase(gen) != adapter::GenPhase::Created) {
        PyErr_SetString(ResumeError, "a generator can be restored only once, before it runs");
        return nullptr;
    }
    if (exc != Py_None && !PyExceptionInstance_Check(exc)) {
        PyErr_SetString(ResumeError, "malformed generator exception");
        return nullptr;
    }
    const std::string phase = phase_name;
    if (phase == "running") {
        // Its frame travels in a moving stack's record; the driver there resumes it, and
        // the replay fills its frame then. Until then it stays fresh.
        adapter::set_generator_exception(gen, exc == Py_None ? nullptr : exc);
        Py_RETURN_NONE;
    }
    if (phase == "finished") {
        if (!PyAsyncGen_CheckExact(gen)) {
            Ref r = Ref::steal(PyObject_CallMethod(gen, "close", nullptr));
            return r ? Py_NewRef(Py_None) : nullptr;
        }
        // An async generator closes through an awaitable: closing one that never ran
        // completes at its first step without running any of its code.
        Ref closing = Ref::steal(PyObject_CallMethod(gen, "aclose", nullptr));
        Ref r = closing ? Ref::steal(PyObject_CallMethod(closing.get(), "send", "O", Py_None))
                        : Ref();
        if (r || !PyErr_ExceptionMatches(PyExc_StopIteration)) {
            PyErr_Clear();
            PyErr_SetString(ResumeError, "cannot finish the async generator");
            return nullptr;
        }
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    adapter::GenPhase expect;
    if (!PyTuple_Check(locals) || !PyTuple_Check(stack) ||
        !adapter::generator_state_phase(raw_state, &expect) ||
        (phase == "created") != (expect == adapter::GenPhase::Created) ||
        (phase != "created" && phase != "suspended")) {
        PyErr_SetString(ResumeError, "malformed generator state");
        return nullptr;
    }
    PyCodeObject *co = adapter::frame_code(adapter::generator_frame(gen));
    std::string why;
    const CodeAnalysis *a = analyse(co, why);
    if (!a) {
        PyErr_SetString(ResumeError, why.c_str());
        return nullptr;
    }
    int depth = 0;
    if (expect == adapter::GenPhase::Suspended && !adapter::suspended_position(*a, position, &depth, why)) {
        PyErr_SetString(ResumeError, why.c_str());
        return nullptr;
    }
    if (PyTuple_GET_SIZE(locals) != a->nlocalsplus || PyTuple_GET_SIZE(stack) != depth ||
        depth > a->stacksize) {
        PyErr_SetString(ResumeError, "generator state does not match its code");
        return nullptr;
    }
    PyObject *null = null_object();
    std::vector<PyObject *> lv(static_cast<size_t>(a->nlocalsplus));
    for (int i = 0; i < a->nlocalsplus; i++) {
        PyObject *v = PyTuple_GET_ITEM(locals, i);
        lv[static_cast<size_t>(i)] = v == null ? nullptr : v;
    }
    std::vector<PyObject *> sv(static_cast<size_t>(depth));
    for (int i = 0; i < depth; i++) {
        PyObject *v = PyTuple_GET_ITEM(stack, i);
        sv[static_cast<size_t>(i)] = v == null ? nullptr : v;
    }
    adapter::patch_generator(gen, lv.data(), sv.data(), depth, position, raw_state,
                             exc == Py_None ? nullptr : exc);
    Py_RETURN_NONE;
}

bool resume_init(PyObject *module)
{
    ResumerType = reinterpret_cast<PyTypeObject *>(PyType_FromSpec(&resumer_spec));
    if (!ResumerType) {
        return false;
    }
    ResumeError = PyErr_NewException("teleporter._teleporter_impl.ResumeError",
                                     PyExc_ValueError, nullptr);
    return ResumeError && PyModule_AddObjectRef(module, "ResumeError", ResumeError) == 0;
}

PyObject *resume_stack(PyObject *records, PyObject *result, PyObject *handled_exception,
                       bool thread, bool whole, PyObject *ready)
{
    if (g_replay) {
        PyErr_SetString(ResumeError, "a resume is already in progress");
        return nullptr;
    }
    if (!PyList_Check(records) || PyList_GET_SIZE(records) == 0) {
        PyErr_SetString(ResumeError, "no frames to resume");
        return nullptr;
    }
    if (handled_exception != Py_None && !PyExceptionInstance_Check(handled_exception)) {
        PyErr_SetString(ResumeError, "malformed handled exception");
        return nullptr;
    }
    auto g = std::make_unique<Replay>();
    const size_t n = static_cast<size_t>(PyList_GET_SIZE(records));
    g->frames.resize(n);
    for (size_t k = 0; k < n; k++) {
        PyObject *next = k + 1 < n ? PyList_GET_ITEM(records, static_cast<Py_ssize_t>(k + 1))
                                   : nullptr;
        char next_entry = 0;
        if (next && PyTuple_Check(next) && PyTuple_GET_SIZE(next) == 7 &&
            PyUnicode_Check(PyTuple_GET_ITEM(next, 6)) &&
            PyUnicode_GET_LENGTH(PyTuple_GET_ITEM(next, 6)) == 1) {
            const Py_UCS4 c = PyUnicode_READ_CHAR(PyTuple_GET_ITEM(next, 6), 0);
            next_entry = c < 128 ? static_cast<char>(c) : 0;
        }
        if (!prepare(PyList_GET_ITEM(records, static_cast<Py_ssize_t>(k)), k, g->frames[k],
                     thread, whole && k + 1 == n, next_entry)) {
            return nullptr;
        }
    }
    for (size_t k = 0; k <= n; k++) {
        Ref r = Ref::steal(new_resumer(g.get(), static_cast<int>(k)));
        if (!r) {
            return nullptr;
        }
        g->resumers.push_back(r);
    }
    g->result = Ref::borrow(result);
    if (ready && ready != Py_None) {
        g->ready = Ref::borrow(ready);
    }

    g_replay = g.get();
    g->previous_eval = adapter::get_eval_func();
    adapter::set_eval_func(eval_hook);
    g->hook_installed = true;
    PyErr_SetHandledException(handled_exception == Py_None ? nullptr : handled_exception);
    // The destination's own start-up frames sit below the program's __main__ frame; the
    // original had none there. Give their recursion budget back while the program runs.
    PyThreadState *tstate = PyThreadState_Get();
    adapter::prepare_native_stack(tstate);
    const int base = adapter::python_depth(tstate);
    adapter::python_credit(tstate, base);
    PyObject *r;
    try {
        r = enter_frame(0);
    }
    catch (...) {
        // A daemon thread ended by the interpreter at exit (PyThread_exit_thread, while it
        // waits for the GIL): glibc unwinds its stack with abi::__forced_unwind, without the
        // GIL, so the replay's references are left as they are. (Caught as `...`: the forced
        // unwind has no exception object to bind a reference to.)
        (void)g.release();
        throw;
    }
    adapter::python_credit(tstate, -base);
    uninstall_hook(g.get());
    g_replay = nullptr;
    return r;
}

}  // namespace tp
