#include "capture/capture.hpp"

#include <string>
#include <vector>

#include "adapters/frame_adapter.hpp"
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

namespace {

// How the innermost captured frame continues at the destination.
enum class Inner {
    Resumer, // the thread that moves: its pending call is replaced by the move's result
    Parked,  // another thread, stopped between two instructions: it starts at the next one
    Blocked, // another thread inside a C call: the call is made again, with its arguments
};

// The records of a chain of frames, innermost `f` first walked outward (reversed at the
// end). `inner_code`/`inner_native`: the frame above `f` (the caller of the move) and
// whether it was entered from C. `thread`: the bottom of the chain is a thread's entry
// function, not the __main__ module frame. For Inner::Blocked, `blocked_call` receives
// (callable, args_begin, args_end) of the call the innermost frame waits in.
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
    while (f) {
        PyCodeObject *co = adapter::frame_code(f);
        const int pos = adapter::frame_position(f);
        if (adapter::is_generator_frame(f)) {
            return refuse("cannot teleport from inside the generator or coroutine " +
                          describe(co, pos) + ": only ordinary function frames can move");
        }
        const CodeAnalysis *a = analyse(co, why);
        if (!a) {
            return refuse("cannot analyse " + describe(co, pos) + ": " + why);
        }
        const int idx = a->containing(pos);
        adapter::CallShape shape;
        const bool parked = innermost && inner == Inner::Parked;
        const bool blocked = innermost && inner == Inner::Blocked;
        PyObject *entering = nullptr; // the manager of a `with` being entered
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
        else if (idx < 0 || !adapter::call_shape(*a, idx, &shape, why)) {
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
            *blocked_call = Ref::steal(Py_BuildValue(
                "(Oii)", callee ? callee.get() : Py_None, entering ? 0 : shape.args_begin,
                entering ? 0 : shape.args_end));
            if (!*blocked_call) {
                return nullptr;
            }
        }
        if (inner_native) {
            // Only a call instruction that called the inner frame's function directly
            // (e.g. f(*args) going through PyObject_Call) can be re-executed.
            PyObject *callee = adapter::pending_callee(shape, stack.data());
            PyObject *ccode = nullptr;
            if (callee && PyFunction_Check(callee)) {
                ccode = PyFunction_GET_CODE(callee);
            }
            else if (callee) {
                ccode = resumer_target_code(callee); // a frame rebuilt by a resume
            }
            if (ccode != reinterpret_cast<PyObject *>(inner_code)) {
                return refuse("cannot teleport from code called by native code: " +
                              describe(inner_code, 0) + " was called by " +
                              (callee ? describe_callable(callee) : std::string("native code")) +
                              ", called from " + describe(co, pos));
            }
        }
        // The thread that moves leaves its pending call out (the resumers take its place);
        // a parked or blocked thread keeps its whole stack.
        const bool whole = innermost && inner != Inner::Resumer;

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
        PyObject *func = module_level ? Py_None : adapter::frame_function(f);
        // Where the frame starts again: the call instruction itself for a frame whose call
        // resume re-creates (resume finds the call's shape from it); for a whole stack,
        // where the instruction (or the call, with what precedes it) begins.
        const int at = whole ? shape.restart : a->at(idx).start;
        Ref rec = Ref::steal(Py_BuildValue("(OOOOOi)", co, func ? func : Py_None, globals,
                                           locals.get(), stk.get(), at));
        if (!rec || PyList_Append(records.get(), rec.get()) < 0) {
            return nullptr;
        }
        if (module_level) {
            reached_bottom = true;
            break;
        }
        innermost = false;
        inner_code = co;
        f = adapter::outer_frame(f, &inner_native);
        if (thread && f && reinterpret_cast<PyObject *>(adapter::frame_code(f)) == entry) {
            f = nullptr; // below: teleporter's own entry of a thread it started
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

// The exception the thread is handling (sys.exception() in it), borrowed: the innermost
// entry of its exception-state chain that holds one.
PyObject *handled_exception(PyThreadState *ts)
{
    for (_PyErr_StackItem *item = ts->exc_info; item; item = item->previous_item) {
        if (item->exc_value && item->exc_value != Py_None) {
            return item->exc_value;
        }
    }
    return Py_None;
}

}  // namespace

PyObject *capture_stack(int skip, PyObject *main_globals)
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
    return capture_chain(f, inner_code, inner_native, main_globals, Inner::Resumer, false);
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
        return refuse("the generator or coroutine is running (it is on the stack being moved "
                      "or on another thread's)");
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
