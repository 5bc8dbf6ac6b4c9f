#include "capture/capture.hpp"

#include <cstring>
#include <string>
#include <vector>

#include "adapters/frame_adapter.hpp"
#include "capture/special_entry.hpp"
#include "pyutil/refs.hpp"
#include "resume/resume.hpp"
#include "stack_depth/stack_depth.hpp"
#include "threads/park.hpp"

namespace tp {

PyObject *CaptureError = nullptr;

namespace {

std::string describe(PyCodeObject *co, int unit)
{
    const char *name = PyUnicode_AsUTF8(co->co_qualname);
    const char *file = PyUnicode_AsUTF8(co->co_filename);
    int line = PyCode_Addr2Line(co, unit * 2);
    PyErr_Clear();
    return std::string("`") + (name ? name : "?") + "` (" + (file ? file : "?") + ":" +
           std::to_string(line) + ")";
}

PyObject *refuse(const std::string &msg)
{
    PyErr_SetString(CaptureError, msg.c_str());
    return nullptr;
}

// "`qsort` (_FuncPtr)", "`sorted` (builtin_function_or_method)": what the user would
// recognise of a native caller.
std::string describe_callable(PyObject *o)
{
    std::string type = Py_TYPE(o)->tp_name;
    for (const char *attr : {"__qualname__", "__name__"}) {
        Ref name = Ref::steal(PyObject_GetAttrString(o, attr));
        if (name && PyUnicode_Check(name.get())) {
            const char *s = PyUnicode_AsUTF8(name.get());
            if (s) {
                return std::string("`") + s + "` (" + type + ")";
            }
        }
        PyErr_Clear();
    }
    return "an object of type " + type;
}

PyObject *slot(PyObject *v) { return v ? v : null_object(); }

}  // namespace

// ---- signal handlers ---------------------------------------------------------------------

namespace {

// What set_signal_context() last said (see capture.hpp). Plain pointers, never released
// by a destructor: one would run after the interpreter has finalised.
PyObject *g_handler_codes = nullptr; // frozenset of the code objects of the handlers
PyObject *g_made_again = nullptr;    // frozenset of the C callables made again after one
PyObject *g_return_none = nullptr;   // frozenset of those that give None once one has run

bool contains(PyObject *set, PyObject *o)
{
    const int r = set ? PySet_Contains(set, o) : 0;
    if (r < 0) {
        PyErr_Clear(); // unhashable
    }
    return r > 0;
}

bool is_signal_handler(PyCodeObject *co)
{
    return contains(g_handler_codes, reinterpret_cast<PyObject *>(co));
}

// How a frame goes on after a signal handler that ran inside its call of `callee`: 'a' the
// call is made again, 's' it gives None, 0 neither is known. A builtin method bound to
// its object is known by its type's method descriptor.
char after_handler(PyObject *callee)
{
    for (int pass = 0; pass < 2 && callee; pass++) {
        if (contains(g_made_again, callee)) {
            return 'a';
        }
        if (contains(g_return_none, callee)) {
            return 's';
        }
        if (pass || !PyCFunction_Check(callee) || !PyCFunction_GET_SELF(callee) ||
            PyModule_Check(PyCFunction_GET_SELF(callee))) {
            break;
        }
        const char *name = reinterpret_cast<PyCFunctionObject *>(callee)->m_ml->ml_name;
        Ref descriptor = Ref::steal(PyObject_GetAttrString(
            reinterpret_cast<PyObject *>(Py_TYPE(PyCFunction_GET_SELF(callee))), name));
        PyErr_Clear();
        if (!descriptor) {
            break;
        }
        callee = descriptor.get();
        if (contains(g_made_again, callee)) {
            return 'a';
        }
        if (contains(g_return_none, callee)) {
            return 's';
        }
        break;
    }
    return 0;
}

}  // namespace

bool set_signal_context(PyObject *handler_codes, PyObject *made_again, PyObject *return_none)
{
    for (PyObject *o : {handler_codes, made_again, return_none}) {
        if (!PyFrozenSet_Check(o)) {
            PyErr_SetString(PyExc_TypeError, "signal_context() takes three frozensets");
            return false;
        }
    }
    Py_XSETREF(g_handler_codes, Py_NewRef(handler_codes));
    Py_XSETREF(g_made_again, Py_NewRef(made_again));
    Py_XSETREF(g_return_none, Py_NewRef(return_none));
    return true;
}

namespace {

// How the innermost captured frame continues at the destination.
enum class Inner {
    Resumer, // the thread that moves: its pending call is replaced by the move's result
    Parked,  // another thread, stopped between two instructions: it starts at the next one
    Blocked, // another thread inside a C call: the call is made again, with its arguments
};

bool runs_code(PyObject *func, PyCodeObject *code)
{
    return func && PyFunction_Check(func) &&
           PyFunction_GET_CODE(func) == reinterpret_cast<PyObject *>(code);
}

// A Python-level __next__ of `it`'s type that runs `code` (an iterator class).
bool next_runs(PyObject *it, PyCodeObject *code)
{
    return it && !PyGen_CheckExact(it) && !PyCoro_CheckExact(it) &&
           runs_code(special_function(Py_TYPE(it), "__next__"), code);
}

// What a frame's pending instruction re-enters when it is executed again with the same
// value stack: the next frame outward resumes (or iterates) `inner` that way. `inner`
// is the generator that owns the inner frame, or the iterator whose Python __next__ the
// inner frame runs. On success: the shape to restart with (whole stack) and `sent`, the
// stack slot holding a value sent into the generator (replaced by None: the generator
// received it already; a restarted generator is a fresh one, which takes only None), or
// -1. Otherwise `why` names the driver, for the refusal.
bool reentering_driver(const CodeAnalysis &a, int idx, adapter::Frame *f, PyObject *inner,
                       bool is_gen, adapter::CallShape *shape, int *sent, std::string &why)
{
    const Instr &in = a.at(idx);
    *sent = -1;
    auto slot_at = [&](int i) { return adapter::frame_slot(f, a.nlocalsplus + i); };
    const adapter::Driven d = adapter::drive_kind(a, idx);
    PyObject *driven = d.kind != adapter::Drive::None && in.depth >= d.below
                           ? slot_at(in.depth - d.below)
                           : nullptr;
    switch (d.kind) {
    case adapter::Drive::ForIter:
        if (driven && driven == inner) {
            shape->restart = in.start;
            shape->depth = in.depth;
            return true;
        }
        if (driven) {
            why = describe_callable(reinterpret_cast<PyObject *>(Py_TYPE(driven)));
        }
        return false;
    case adapter::Drive::Send:
        if (is_gen && driven && driven == inner) {
            shape->restart = in.start;
            shape->depth = in.depth;
            *sent = in.depth - 1;
            return true;
        }
        if (driven) {
            why = "an object of type " + std::string(Py_TYPE(driven)->tp_name);
        }
        return false;
    case adapter::Drive::None:
        break;
    }
    adapter::CallShape call;
    std::string ignored;
    if (!adapter::call_shape(a, idx, &call, ignored) || call.callargs_slot >= 0 ||
        call.depth > a.stacksize) {
        why = std::string("the interpreter's ") + opcode_name(in.op);
        return false;
    }
    std::vector<PyObject *> stack(static_cast<size_t>(call.depth));
    for (int i = 0; i < call.depth; i++) {
        stack[static_cast<size_t>(i)] = slot_at(i);
    }
    PyObject *callable = nullptr, *self = nullptr;
    adapter::pending_call(call, stack.data(), &callable, &self);
    if (!callable) {
        return false;
    }
    // next(it) and next(it, default): the builtin, with the iterator first.
    PyObject *builtin_next = PyDict_GetItemString(PyEval_GetBuiltins(), "next");
    const int nargs = call.args_end - call.args_begin;
    if (callable == builtin_next && !self && nargs >= 1 &&
        stack[static_cast<size_t>(call.args_begin)] == inner) {
        *shape = call;
        return true;
    }
    // gen.send(v), gen.throw(...), gen.__next__(): the generator's own methods, bound
    // (a builtin method of it) or called as methods (the descriptor, with it as self).
    if (is_gen) {
        const bool descriptor = Py_IS_TYPE(callable, &PyMethodDescr_Type) ||
                                Py_IS_TYPE(callable, &PyWrapperDescr_Type);
        const bool bound = PyCFunction_Check(callable) ||
                           std::string(Py_TYPE(callable)->tp_name) == "method-wrapper";
        PyObject *bound_to = nullptr;
        if (descriptor && self) {
            bound_to = self;
        }
        else if (bound && !self) {
            bound_to = PyCFunction_Check(callable) ? PyCFunction_GET_SELF(callable) : nullptr;
            if (!bound_to) {
                Ref s = Ref::steal(PyObject_GetAttrString(callable, "__self__"));
                PyErr_Clear();
                bound_to = s.get() == inner ? inner : nullptr;
            }
        }
        Ref name = Ref::steal(PyObject_GetAttrString(callable, "__name__"));
        PyErr_Clear();
        const char *n = name && PyUnicode_Check(name.get()) ? PyUnicode_AsUTF8(name.get()) : nullptr;
        PyErr_Clear();
        if (bound_to == inner && n) {
            const std::string method = n;
            if (method == "send" && nargs == 1) {
                *shape = call;
                *sent = call.args_begin;
                return true;
            }
            if (method == "throw" || method == "__next__") {
                *shape = call;
                return true;
            }
        }
    }
    why = describe_callable(callable);
    return false;
}

// Whether `callable`, called with `self` (NULL: none) before its arguments, is
// contextvars.Context.run: it enters the context, calls its first argument with the rest
// and leaves the context, keeping nothing else (threading starts a thread's run() in it
// from 3.14 on; asyncio runs callbacks in it).
bool is_context_run(PyObject *callable, PyObject *self)
{
    if (PyObject_TypeCheck(callable, &PyMethodDescr_Type)) {
        auto *d = reinterpret_cast<PyMethodDescrObject *>(callable);
        return d->d_common.d_type == &PyContext_Type && self && PyContext_CheckExact(self) &&
               std::strcmp(d->d_method->ml_name, "run") == 0;
    }
    return PyCFunction_Check(callable) && PyCFunction_GET_SELF(callable) &&
           PyContext_CheckExact(PyCFunction_GET_SELF(callable)) &&
           std::strcmp(reinterpret_cast<PyCFunctionObject *>(callable)->m_ml->ml_name, "run") ==
               0;
}

// How a frame was entered from its caller's pending call, when the caller made a native
// call: 'c' the call made again reaches the frame's function directly (e.g. f(*args), a
// functools.partial, an object whose class defines __call__), 'i' the call was a class
// call that is running __init__ (made again, it must give the object back), 'r' the call
// must be made again as it is, whole stack and all (Context.run(f, ...)), or 0.
// `args`/`nargs`: the call's positional arguments after `self`.
char native_entry(PyObject *callable, PyObject *self, PyObject *const *args, int nargs,
                  PyObject *inner_self, PyCodeObject *inner_code)
{
    if (!callable) {
        return 0;
    }
    if (nargs >= 1 && args[0] && is_context_run(callable, self)) {
        // Made again as it is (entry 'r'): it enters its context again at the destination.
        return native_entry(args[0], nullptr, args + 1, nargs - 1, inner_self, inner_code) == 'c'
                   ? 'r'
                   : 0;
    }
    if (callable == inner_self) {
        // A bound method's (or a partial's) vectorcall puts the first argument in the
        // callable's slot while the call runs (PY_VECTORCALL_ARGUMENTS_OFFSET): the slot
        // holds the inner frame's own first argument, and the call gives back what its
        // function returns.
        return 'c';
    }
    PyObject *target = callable;
    if (PyMethod_Check(target)) {
        target = PyMethod_GET_FUNCTION(target);
    }
    if (runs_code(target, inner_code)) {
        return 'c';
    }
    char resumed = 'c';
    if (resumer_target_code(target, &resumed) == reinterpret_cast<PyObject *>(inner_code)) {
        // A frame resumed here and not yet returned: entered as it was at the origin (a
        // class call's __init__ still gives its object back).
        return resumed;
    }
    if (!self && runs_code(first_builtin_callee(callable, args, nargs), inner_code)) {
        // len(x), repr(x), getattr(x, name)...: made again as it is, the builtin calls
        // the same special method first (special_entry.hpp).
        return 'r';
    }
    if (PyType_Check(target)) {
        auto *type = reinterpret_cast<PyTypeObject *>(target);
        if (Py_TYPE(target)->tp_call == PyType_Type.tp_call && inner_self &&
            PyObject_TypeCheck(inner_self, type) &&
            runs_code(special_function(type, "__init__"), inner_code)) {
            return 'i';
        }
        return 0;
    }
    if (runs_code(special_function(Py_TYPE(target), "__call__"), inner_code)) {
        return 'c';
    }
    if (std::string(Py_TYPE(target)->tp_name) == "functools.partial") {
        Ref func = Ref::steal(PyObject_GetAttrString(target, "func"));
        PyErr_Clear();
        return runs_code(func.get(), inner_code) ? 'c' : 0;
    }
    return 0;
}

// The records of a chain of frames, innermost `f` first walked outward (reversed at the
// end). `inner_code`/`inner_native`: the frame above `f` (the caller of the move) and
// whether it was entered from C. `thread`: the bottom of the chain is a thread's entry
// function, not the __main__ module frame. For Inner::Blocked, `blocked_call` receives
// (callable, args_begin, args_end, keyword names or None) of the call the innermost frame
// waits in.
PyObject *capture_chain(adapter::Frame *f, PyCodeObject *inner_code, bool inner_native,
                        PyObject *main_globals, Inner inner, bool thread,
                        PyObject *entry = nullptr, Ref *blocked_call = nullptr)
{
    Ref records = Ref::steal(PyList_New(0));
    if (!records) {
        return nullptr;
    }
    std::string why;
    bool reached_bottom = false;
    bool innermost = true;
    PyObject *inner_gen = nullptr;  // the generator owning the frame above `f`, if any
    PyObject *inner_self = nullptr; // that frame's first local (its `self`, for __init__)
    adapter::Frame *inner_frame = nullptr;
    while (f) {
        PyCodeObject *co = adapter::frame_code(f);
        const int pos = adapter::frame_position(f);
        const CodeAnalysis *a = analyse(co, why);
        if (!a) {
            return refuse("cannot analyse " + describe(co, pos) + ": " + why);
        }
        const int idx = a->containing(pos);
        adapter::CallShape shape;
        const bool parked = innermost && inner == Inner::Parked;
        const bool blocked = innermost && inner == Inner::Blocked;
        PyObject *entering = nullptr; // the manager of a `with` being entered
        bool reenters = false; // its instruction, made again, re-enters the frame above
        int sent = -1;         // ... with a value sent into a generator in this slot
        char inner_entry = 'c';
        if (blocked && idx >= 0 && a->at(idx).depth > 0 && a->at(idx).depth <= a->stacksize) {
            entering = adapter::entering_manager(
                *a, idx, adapter::frame_slot(f, a->nlocalsplus + a->at(idx).depth - 1));
        }
        if (parked) {
            // Stopped at a line: about to run the instruction at `pos`.
            if (idx < 0 || a->at(idx).depth < 0 || a->at(idx).depth > a->stacksize) {
                return refuse("cannot capture " + describe(co, pos) +
                              ": no consistent stack depth where the thread stopped");
            }
            shape.restart = a->at(idx).start;
            shape.depth = a->at(idx).depth;
        }
        else if (entering) {
            // Waiting in a `with` statement's __enter__ (`with lock:`): the statement
            // starts again, with its manager where it was.
            shape.restart = a->at(idx).start;
            shape.depth = a->at(idx).depth;
        }
        else if (!innermost && idx >= 0 && a->at(idx).depth >= 0 &&
                 (inner_gen || (inner_native && inner_self))) {
            // The frame above runs a generator this frame drives (`for`, `yield from`,
            // next(), send()), or a Python __next__ its `for` or next() called: made
            // again, this instruction resumes it.
            PyObject *it = inner_gen ? inner_gen : inner_self;
            std::string driver;
            reenters = (inner_gen || next_runs(inner_self, inner_code)) &&
                       reentering_driver(*a, idx, f, it, inner_gen != nullptr, &shape, &sent,
                                         driver);
            PyObject *top = a->at(idx).depth > 0 && a->at(idx).depth <= a->stacksize
                                ? adapter::frame_slot(f, a->nlocalsplus + a->at(idx).depth - 1)
                                : nullptr;
            PyObject *mgr = !inner_gen && !reenters && top
                                ? adapter::entering_manager(*a, idx, top)
                                : nullptr;
            if (mgr && mgr == inner_self &&
                runs_code(special_function(Py_TYPE(mgr), "__enter__"), inner_code)) {
                // A `with` statement inside its manager's Python __enter__: the statement
                // starts again with its manager, which calls that __enter__ again.
                reenters = true;
                entering = mgr;
                shape.restart = a->at(idx).start;
                shape.depth = a->at(idx).depth;
            }
            if (reenters) {
                inner_entry = 'r';
            }
            else if (inner_gen) {
                return refuse("cannot teleport from inside the generator or coroutine " +
                              describe(inner_code, 0) + ": it is driven by " +
                              (driver.empty() ? std::string("native code") : driver) +
                              ", called from " + describe(co, pos) +
                              ", whose progress cannot be carried");
            }
        }
        if (!innermost && inner_native && !inner_gen && !reenters && !entering && idx >= 0 &&
            is_signal_handler(inner_code)) {
            // The frame above is a Python signal handler, run at this frame's instruction
            // (the eval breaker, or a C function this frame calls that runs handlers): it
            // moves with this frame standing in that instruction, and at the destination
            // it is called again from there before the frame goes on (capture.hpp, entry
            // 's' or 'a').
            adapter::BreakerSite site;
            if (!adapter::breaker_site(*a, idx, &site)) {
                // Run by a C part of another instruction (`with lock:` waiting in its
                // __enter__, a long integer operation): not one that can go on after it.
                return refuse("cannot teleport from the signal handler " +
                              describe(inner_code, 0) + ": it ran inside " +
                              describe(co, pos) + "'s " + opcode_name(a->at(idx).op) +
                              ", an instruction that cannot go on after a handler elsewhere");
            }
            char kind = 's';
            int depth = site.depth;
            if (site.call) {
                adapter::CallShape call;
                std::string unused;
                (void)adapter::call_shape(*a, idx, &call, unused); // breaker_site checked it
                std::vector<PyObject *> slots(static_cast<size_t>(call.depth));
                for (int i = 0; i < call.depth; i++) {
                    slots[static_cast<size_t>(i)] = adapter::frame_slot(f, a->nlocalsplus + i);
                }
                const adapter::CallState state =
                    adapter::call_state(f, call, slots.data(), site.depth);
                if (state != adapter::CallState::Returned) {
                    // Still inside the call (a C function ran the handler): known calls
                    // are made again (a sleep, a lock's acquire) or give None (os.kill).
                    // A call whose first slot holds a callable may also have returned
                    // that callable; the known ones return None, so theirs is a call.
                    PyObject *callee = adapter::pending_callee(call, slots.data());
                    kind = callee ? after_handler(callee) : 0;
                    if (!kind) {
                        return refuse(
                            "cannot teleport from the signal handler " +
                            describe(inner_code, 0) + ": the signal arrived while " +
                            describe(co, pos) + " was " +
                            (state == adapter::CallState::Running ? "in a call of "
                                                                  : "in or just back from a call of ") +
                            (callee ? describe_callable(callee) : std::string("native code")) +
                            ", whose progress cannot be carried");
                    }
                    if (kind == 'a') {
                        depth = call.depth;
                    }
                    else {
                        sent = depth - 1; // the call's result: None
                    }
                }
            }
            reenters = true;
            inner_entry = kind;
            shape.restart = pos;
            shape.depth = depth;
        }
        const adapter::SpecialCall special =
            !innermost && !inner_gen && !reenters && !entering && idx >= 0 &&
                    a->at(idx).depth >= 0 && a->at(idx).depth <= a->stacksize
                ? adapter::special_call(*a, idx)
                : adapter::SpecialCall{};
        if (special.kind != adapter::Special::None) {
            // An operator, subscript, attribute access, truth test... whose special method
            // runs the frame above: made again, the instruction calls it first.
            const int depth = a->at(idx).depth;
            std::vector<PyObject *> operands(static_cast<size_t>(depth));
            for (int i = 0; i < depth; i++) {
                operands[static_cast<size_t>(i)] = adapter::frame_slot(f, a->nlocalsplus + i);
            }
            // A call the interpreter inlined (a property's getter, __getitem__) moved the
            // operands above the depth it saved into the new frame's arguments: their slots
            // still hold them, unless that frame rebound them (then they may be gone: an
            // operand is used only when one of its arguments is that very object).
            const int live = inner_native ? depth : adapter::saved_stack_depth(f);
            bool operands_known = live >= 0 && live <= depth;
            for (int i = live; operands_known && i < depth; i++) {
                PyObject *v = operands[static_cast<size_t>(i)];
                bool passed = false;
                for (int j = 0; j < inner_code->co_argcount && !passed; j++) {
                    passed = v && adapter::frame_slot(inner_frame, j) == v;
                }
                operands_known = passed;
            }
            if (!operands_known) {
                return refuse("cannot teleport from " + describe(inner_code, 0) +
                              ": it rebound an argument that " + describe(co, pos) +
                              " passed it (" + opcode_name(a->at(idx).op) +
                              "), needed to enter it again");
            }
            if (runs_code(first_special_callee(special, operands.data(), co->co_names),
                          inner_code)) {
                reenters = true;
                inner_entry = 'r';
                shape.restart = a->at(idx).start;
                shape.depth = depth;
            }
        }
        if (!parked && !entering && !reenters &&
            (idx < 0 || !adapter::call_shape(*a, idx, &shape, why))) {
            if (blocked) {
                return refuse("it waits inside " + describe(co, pos) + ", not in a call " +
                              "that can be made again (" + why + ")");
            }
            if (inner_native) {
                return refuse("cannot teleport from code called by native code: " +
                              describe(inner_code, 0) + " was called by the interpreter " +
                              "from " + describe(co, pos) + " (" + why + ")");
            }
            return refuse("cannot capture " + describe(co, pos) + ": " + why);
        }
        if (shape.depth > a->stacksize) {
            return refuse("inconsistent stack depth in " + describe(co, pos));
        }
        std::vector<PyObject *> stack(static_cast<size_t>(shape.depth));
        for (int i = 0; i < shape.depth; i++) {
            stack[static_cast<size_t>(i)] = adapter::frame_slot(f, a->nlocalsplus + i);
        }
        if (entering) {
            stack[static_cast<size_t>(shape.depth - 1)] = entering;
        }
        if (sent >= 0) {
            stack[static_cast<size_t>(sent)] = Py_None;
        }
        if (blocked && blocked_call) {
            // The call it waits in: the callable (functions unwrapped from bound methods)
            // and where its positional arguments sit; for a `with`, the manager's type's
            // __enter__.
            Ref callee = entering ? Ref::steal(PyObject_GetAttrString(
                                        reinterpret_cast<PyObject *>(Py_TYPE(entering)),
                                        "__enter__"))
                                  : Ref::borrow(adapter::pending_callee(shape, stack.data()));
            if (entering && !callee) {
                PyErr_Clear();
                return refuse("inconsistent call in a blocked thread");
            }
            PyObject *kwnames = Py_None;
            if (!entering && shape.kwnames_slot >= 0 &&
                stack[static_cast<size_t>(shape.kwnames_slot)]) {
                kwnames = stack[static_cast<size_t>(shape.kwnames_slot)];
            }
            else if (!entering && shape.kwnames_const >= 0 &&
                     shape.kwnames_const < PyTuple_GET_SIZE(co->co_consts)) {
                kwnames = PyTuple_GET_ITEM(co->co_consts, shape.kwnames_const);
            }
            if (!PyTuple_Check(kwnames)) {
                kwnames = Py_None;
            }
            *blocked_call = Ref::steal(Py_BuildValue(
                "(OiiO)", callee ? callee.get() : Py_None, entering ? 0 : shape.args_begin,
                entering ? 0 : shape.args_end, kwnames));
            if (!*blocked_call) {
                return nullptr;
            }
        }
        if (inner_native && !reenters) {
            // Only a call that reaches the inner frame's function itself can be made
            // again (f(*args) through PyObject_Call, a partial, a __call__), or a class
            // call running __init__ (which then gives its object back).
            PyObject *callable = nullptr, *self = nullptr;
            adapter::pending_call(shape, stack.data(), &callable, &self);
            inner_entry = native_entry(callable, self, stack.data() + shape.args_begin,
                                       shape.args_end - shape.args_begin, inner_self,
                                       inner_code);
            reenters = inner_entry == 'r';
            if (!inner_entry) {
                PyObject *callee = adapter::pending_callee(shape, stack.data());
                return refuse("cannot teleport from code called by native code: " +
                              describe(inner_code, 0) + " was called by " +
                              (callee ? describe_callable(callee) : std::string("native code")) +
                              ", called from " + describe(co, pos));
            }
        }
        if (!innermost && inner_entry != 'c') {
            // How the frame above is entered (capture.hpp); its record, built as 'c', is
            // held by the list alone.
            PyObject *above = PyList_GET_ITEM(records.get(), PyList_GET_SIZE(records.get()) - 1);
            PyObject *kind = PyUnicode_FromStringAndSize(&inner_entry, 1);
            if (!kind) {
                return nullptr;
            }
            PyObject *was = PyTuple_GET_ITEM(above, 6);
            PyTuple_SET_ITEM(above, 6, kind);
            Py_DECREF(was);
        }
        // The thread that moves leaves its pending call out (the resumers take its place);
        // a parked or blocked thread keeps its whole stack, and so does a frame whose
        // instruction re-enters the frame above.
        const bool whole = (innermost && inner != Inner::Resumer) || reenters;

        Ref locals = Ref::steal(PyTuple_New(a->nlocalsplus));
        Ref stk = Ref::steal(PyTuple_New(shape.depth));
        if (!locals || !stk) {
            return nullptr;
        }
        for (int i = 0; i < a->nlocalsplus; i++) {
            PyTuple_SET_ITEM(locals.get(), i, Py_NewRef(slot(adapter::frame_slot(f, i))));
        }
        for (int i = 0; i < shape.depth; i++) {
            PyObject *v = stack[static_cast<size_t>(i)];
            if (whole) {
                // as it is
            }
            else if (i == shape.callable_slot || i == shape.null_slot) {
                v = nullptr;
            }
            else if (i >= shape.args_begin && i < shape.args_end) {
                v = Py_None;
            }
            else if (i == shape.callargs_slot) {
                v = PyTuple_New(0);
                PyTuple_SET_ITEM(stk.get(), i, v);
                continue;
            }
            else if (i == shape.kwargs_slot) {
                v = PyDict_New();
                if (!v) {
                    return nullptr;
                }
                PyTuple_SET_ITEM(stk.get(), i, v);
                continue;
            }
            PyTuple_SET_ITEM(stk.get(), i, Py_NewRef(slot(v)));
        }

        PyObject *globals = adapter::frame_globals(f);
        const bool optimized = co->co_flags & CO_OPTIMIZED;
        const bool module_level = !optimized && adapter::frame_locals_mapping(f) == globals;
        if (!optimized && !module_level) {
            return refuse("cannot teleport from inside a class body: " + describe(co, pos));
        }
        if (module_level && (thread || globals != main_globals)) {
            return refuse("cannot teleport while a module is being imported: " +
                          describe(co, pos));
        }
        const bool gen_frame = adapter::is_generator_frame(f);
        // A generator's frame travels with the generator itself (the same object at the
        // destination, where its driver resumes it).
        PyObject *func = module_level ? Py_None
                         : gen_frame  ? adapter::frame_generator(f)
                                      : adapter::frame_function(f);
        // Where the frame starts again: the call instruction itself for a frame whose call
        // resume re-creates (resume finds the call's shape from it); for a whole stack,
        // where the instruction (or the call, with what precedes it) begins.
        const int at = whole ? shape.restart : a->at(idx).start;
        Ref rec = Ref::steal(Py_BuildValue("(OOOOOis)", co, func ? func : Py_None, globals,
                                           locals.get(), stk.get(), at, "c"));
        if (!rec || PyList_Append(records.get(), rec.get()) < 0) {
            return nullptr;
        }
        if (module_level) {
            reached_bottom = true;
            break;
        }
        innermost = false;
        inner_frame = f;
        inner_code = co;
        inner_gen = gen_frame ? adapter::frame_generator(f) : nullptr;
        inner_self = a->nlocalsplus > 0 && (co->co_argcount > 0 || co->co_flags & CO_VARARGS)
                         ? adapter::frame_slot(f, 0)
                         : nullptr;
        f = adapter::outer_frame(f, &inner_native);
        if (thread && f && reinterpret_cast<PyObject *>(adapter::frame_code(f)) == entry) {
            f = nullptr; // below: teleporter's own entry of a thread it started
        }
        if (!f && inner_gen) { // no Python frame drives it
            return refuse("cannot teleport from inside the generator or coroutine " +
                          describe(inner_code, 0) + ": it is driven by native code");
        }
        if (!f && thread) {
            reached_bottom = PyList_GET_SIZE(records.get()) > 0;
        }
    }
    if (!reached_bottom) {
        if (thread) {
            return refuse("it has no Python frame (it runs native code only)");
        }
        return refuse("teleport() must run in the main thread of a program started as a "
                      "script, with -m or from stdin: no __main__ module frame was found "
                      "on the stack");
    }
    if (PyList_Reverse(records.get()) < 0) {
        return nullptr;
    }
    return records.release();
}

// The exception the thread's frames are handling outside any generator (borrowed): its
// base exception state. A running generator keeps its own, which travels with it.
PyObject *handled_exception(PyThreadState *ts)
{
    PyObject *v = ts->exc_state.exc_value;
    return v ? v : Py_None;
}

}  // namespace

PyObject *base_handled_exception()
{
    return Py_NewRef(handled_exception(PyThreadState_Get()));
}

PyObject *capture_stack(int skip, PyObject *main_globals, PyObject *entry)
{
    PyThreadState *tstate = PyThreadState_Get();
    adapter::Frame *f = adapter::current_frame(tstate);
    PyCodeObject *inner_code = nullptr;
    bool inner_native = false;
    for (int i = 0; i < skip; i++) {
        if (!f) {
            return refuse("no Python frame to capture");
        }
        inner_code = adapter::frame_code(f);
        f = adapter::outer_frame(f, &inner_native);
    }
    return capture_chain(f, inner_code, inner_native, main_globals, Inner::Resumer,
                         entry != nullptr, entry);
}

PyObject *capture_thread(unsigned long ident, PyObject *main_globals, bool main_thread,
                         PyObject *entry)
{
    bool parked = false;
    PyThreadState *ts = parked_thread(ident, &parked);
    if (!ts) {
        PyErr_SetString(PyExc_LookupError, "no parked thread with this ident");
        return nullptr;
    }
    adapter::Frame *f = adapter::current_frame(ts);
    // The main thread's chain ends at __main__'s module frame; another's at the function
    // its thread started with. A blocked thread's call comes with it.
    Ref call = Ref::borrow(Py_None);
    Ref records = Ref::steal(capture_chain(f, nullptr, false, main_globals,
                                           parked ? Inner::Parked : Inner::Blocked,
                                           !main_thread, entry, &call));
    if (!records) {
        return nullptr;
    }
    return Py_BuildValue("(OOOO)", records.get(), handled_exception(ts),
                         parked ? Py_True : Py_False, call.get());
}

bool capturable_here(PyThreadState *ts, PyObject *main_globals, bool main_thread,
                     PyObject *entry, std::string *why)
{
    if (PyErr_Occurred()) {
        return true; // not at a line event: nothing to tell
    }
    Ref records = Ref::steal(capture_chain(adapter::current_frame(ts), nullptr, false,
                                           main_globals, Inner::Parked, !main_thread, entry));
    if (records || !PyErr_ExceptionMatches(CaptureError)) {
        PyErr_Clear(); // another failure: the capture itself reports it
        return true;
    }
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    Ref held[] = {Ref::steal(type), Ref::steal(value), Ref::steal(tb)};
    Ref text = Ref::steal(value ? PyObject_Str(value) : nullptr);
    const char *s = text ? PyUnicode_AsUTF8(text.get()) : nullptr;
    *why = s ? s : "it cannot be captured there";
    PyErr_Clear(); // a failure of str() or of its UTF-8 form
    return false;
}

PyObject *capture_generator(PyObject *gen)
{
    const bool async_gen = PyAsyncGen_CheckExact(gen);
    if (!PyGen_CheckExact(gen) && !PyCoro_CheckExact(gen) && !async_gen) {
        PyErr_SetString(PyExc_TypeError,
                        "capture_generator() expects a generator, coroutine or async generator");
        return nullptr;
    }
    adapter::Frame *f = adapter::generator_frame(gen);
    const adapter::GenPhase phase = adapter::generator_phase(gen);
    if (phase == adapter::GenPhase::Running) {
        // Its frame is in a chain that moves (a moving thread's stack): that record
        // carries the frame, and its driver resumes it at the destination. Only its own
        // handled exception travels here.
        Ref code = Ref::steal(PyObject_GetAttrString(gen, PyGen_CheckExact(gen) ? "gi_code"
                                                          : async_gen           ? "ag_code"
                                                                                : "cr_code"));
        if (!code) {
            return nullptr;
        }
        adapter::Frame *gf = adapter::generator_frame(gen);
        PyObject *func = adapter::frame_function(gf);
        PyObject *exc = adapter::generator_exception(gen);
        return Py_BuildValue("(OOOsiiOOO)", code.get(), func ? func : Py_None,
                             adapter::frame_globals(gf), "running", 0, 0, Py_None, Py_None,
                             exc ? exc : Py_None);
    }
    if (async_gen && adapter::generator_running_async(gen)) {
        return refuse("the async generator is being awaited (an __anext__, asend or athrow of "
                      "it is in progress)");
    }
    // A finished generator's frame is cleared; its code stays reachable from the object.
    const char *code_attr = PyGen_CheckExact(gen) ? "gi_code" : async_gen ? "ag_code" : "cr_code";
    Ref code = Ref::steal(PyObject_GetAttrString(gen, code_attr));
    if (!code) {
        return nullptr;
    }
    if (phase == adapter::GenPhase::Finished) {
        return Py_BuildValue("(OOOsiiOOO)", code.get(), Py_None, Py_None, "finished", 0, 0,
                             Py_None, Py_None, Py_None);
    }
    auto *co = reinterpret_cast<PyCodeObject *>(code.get());
    std::string why;
    const CodeAnalysis *a = analyse(co, why);
    if (!a) {
        return refuse("cannot analyse " + describe(co, 0) + ": " + why);
    }
    const int position = adapter::frame_position(f);
    int depth = 0;
    if (phase == adapter::GenPhase::Suspended) {
        if (!adapter::suspended_position(*a, position, &depth, why) ||
            depth != adapter::generator_saved_depth(gen)) {
            return refuse("cannot capture the generator " + describe(co, position) + ": " +
                          (why.empty() ? "inconsistent stack depth" : why));
        }
    }
    Ref locals = Ref::steal(PyTuple_New(a->nlocalsplus));
    Ref stack = Ref::steal(PyTuple_New(depth));
    if (!locals || !stack) {
        return nullptr;
    }
    for (int i = 0; i < a->nlocalsplus; i++) {
        PyTuple_SET_ITEM(locals.get(), i, Py_NewRef(slot(adapter::frame_slot(f, i))));
    }
    for (int i = 0; i < depth; i++) {
        PyTuple_SET_ITEM(stack.get(), i,
                         Py_NewRef(slot(adapter::frame_slot(f, a->nlocalsplus + i))));
    }
    PyObject *func = adapter::frame_function(f);
    PyObject *exc = adapter::generator_exception(gen);
    return Py_BuildValue("(OOOsiiOOO)", code.get(), func ? func : Py_None,
                         adapter::frame_globals(f),
                         phase == adapter::GenPhase::Created ? "created" : "suspended",
                         adapter::generator_raw_state(gen), position, locals.get(), stack.get(),
                         exc ? exc : Py_None);
}

}  // namespace tp
