// CPython 3.12 frame adapter. See frame_adapter.hpp for the contract of each function.
//
// 3.12 facts used here (Include/internal/pycore_frame.h, Python/bytecodes.c of 3.12):
//  - the thread's innermost frame is tstate->cframe->current_frame;
//  - each fresh _PyEval_EvalFrameDefault call links a shim frame owned by
//    FRAME_OWNED_BY_CSTACK below the frame it evaluates: a shim marks "entered from C";
//  - prev_instr is the code unit *before* the next instruction: inside an inlined call
//    it sits on the CALL's last inline cache, inside a C call on the CALL itself;
//  - a call is CALL n, optionally preceded by KW_NAMES (which stores the keyword names
//    in a C local that CALL reads: a re-executed call restarts there); the stack is
//    [method-or-NULL, callable-or-self, args x n];
//  - CALL_FUNCTION_EX's stack is [NULL, func, callargs, kwargs if oparg & 1];
//  - C recursion is charged to c_recursion_remaining, Python frames to their own counter.
#define Py_BUILD_CORE 1
#include <Python.h>

#include "internal/pycore_frame.h"
#include "opcode.h"

#include "adapters/frame_adapter.hpp"

namespace tp::adapter {

const char *version_name() { return "3.12"; }

namespace {
bool is_shim(Frame *f) { return f->owner == FRAME_OWNED_BY_CSTACK; }

Frame *skip_incomplete(Frame *f)
{
    while (f && (is_shim(f) || _PyFrame_IsIncomplete(f))) {
        f = f->previous;
    }
    return f;
}
}  // namespace

namespace {
// Where the thread's innermost frame is kept (adapter_common.inl links frames there too).
Frame *&current_frame_slot(PyThreadState *tstate) { return tstate->cframe->current_frame; }
}  // namespace

Frame *current_frame(PyThreadState *tstate)
{
    return skip_incomplete(current_frame_slot(tstate));
}

Frame *outer_frame(Frame *f, bool *entered_from_native)
{
    *entered_from_native = f->previous && is_shim(f->previous);
    return skip_incomplete(f->previous);
}

bool is_generator_frame(Frame *f) { return f->owner == FRAME_OWNED_BY_GENERATOR; }
PyCodeObject *frame_code(Frame *f) { return f->f_code; }
PyObject *frame_function(Frame *f) { return f->f_funcobj; }
PyObject *frame_globals(Frame *f) { return f->f_globals; }
PyObject *frame_locals_mapping(Frame *f) { return f->f_locals; }
int frame_position(Frame *f)
{
    return static_cast<int>(f->prev_instr - _PyCode_CODE(f->f_code));
}

bool call_shape(const CodeAnalysis &code, int index, CallShape *out, std::string &why)
{
    const Instr &in = code.at(index);
    CallShape s;
    if (in.op == CALL) {
        s.restart = in.start;
        if (index > 0 && code.at(index - 1).op == KW_NAMES) {
            s.restart = code.at(index - 1).start;
        }
        s.depth = in.depth;
        int n = in.oparg;
        s.null_slot = s.depth - n - 2;
        s.callable_slot = s.depth - n - 1;
        s.args_begin = s.depth - n;
        s.args_end = s.depth;
        s.opname = "CALL";
    }
    else if (in.op == CALL_FUNCTION_EX) {
        int kw = in.oparg & 1;
        s.restart = in.start;
        s.depth = in.depth;
        s.null_slot = s.depth - 3 - kw;
        s.callable_slot = s.depth - 2 - kw;
        s.callargs_slot = s.depth - 1 - kw;
        s.kwargs_slot = kw ? s.depth - 1 : -1;
        s.args_begin = s.args_end = s.depth;
        s.opname = "CALL_FUNCTION_EX";
    }
    else {
        why = std::string("the frame is inside ") + opcode_name(in.op) + ", not a call";
        return false;
    }
    if (s.depth < 0 || s.null_slot < 0) {
        why = "no consistent stack depth at the call";
        return false;
    }
    *out = s;
    return true;
}

PyObject *pending_callee(const CallShape &s, PyObject *const *stack)
{
    PyObject *callee = stack[s.null_slot] ? stack[s.null_slot] : stack[s.callable_slot];
    if (callee && PyMethod_Check(callee)) {
        callee = PyMethod_GET_FUNCTION(callee);
    }
    return callee;
}

void pending_call(const CallShape &s, PyObject *const *stack, PyObject **callable,
                  PyObject **self)
{
    if (stack[s.null_slot]) { // [method, self, args...]
        *callable = stack[s.null_slot];
        *self = stack[s.callable_slot];
    }
    else { // [NULL, callable, args...]
        *callable = stack[s.callable_slot];
        *self = nullptr;
    }
}

PyObject *entering_manager(const CodeAnalysis &code, int index, PyObject *top)
{
    // BEFORE_WITH writes its results when __enter__ returns: meanwhile the slot holds the
    // manager (its reference given up, but the bound __exit__ it holds keeps it alive).
    return code.at(index).op == BEFORE_WITH ? top : nullptr;
}

// ---- version facts used by adapter_common.inl ------------------------------------------

namespace {
bool is_suspended_state(int st) { return st == FRAME_SUSPENDED; }

// A suspended generator's prev_instr sits on its YIELD_VALUE: the index of the YIELD_VALUE
// whose opcode unit is exactly `position`, else -1.
int yield_index(const CodeAnalysis &code, int position)
{
    const int idx = code.containing(position);
    return (idx >= 0 && code.at(idx).opunit == position) ? idx : -1;
}

// A frame runs prev_instr + 1 next.
void set_next_instruction(Frame *f, PyCodeObject *co, int unit)
{
    f->prev_instr = _PyCode_CODE(co) + unit - 1;
}

void set_suspended_position(Frame *f, PyCodeObject *co, int position)
{
    f->prev_instr = _PyCode_CODE(co) + position;
}
}  // namespace

// Measured: each replayed level spends 2 units of c_recursion_remaining (the call into
// the resumer and the evaluator's entry from C) that an inlined call does not spend
// (tests/test_scenarios.py::test_recursion_headroom checks it).
const int kReplayEntryCost = 2;
int *python_recursion_counter(PyThreadState *tstate) { return &tstate->py_recursion_remaining; }
int python_recursion_limit(PyThreadState *tstate) { return tstate->py_recursion_limit; }
int *native_recursion_counter(PyThreadState *tstate) { return &tstate->c_recursion_remaining; }

bool check_layout(std::string &why)
{
    (void)why; // 3.12 publishes no debug offsets: the version check is all we can do
    return true;
}

// ---- other threads ---------------------------------------------------------------------

// Weak: a build loaded into another version must reach the version check (which refuses
// it in one line) instead of failing to load on a symbol that version lacks.
#pragma weak _PyEval_SetTrace
#pragma weak PyEval_SetTraceAllThreads


bool set_thread_trace(PyThreadState *ts, Py_tracefunc func, PyObject *obj)
{
    if (_PyEval_SetTrace(ts, func, obj) < 0) {
        PyErr_WriteUnraisable(nullptr); // only an audit hook can refuse it
    }
    return true;
}

void set_all_threads_trace(Py_tracefunc func, PyObject *obj)
{
    PyEval_SetTraceAllThreads(func, obj);
}

PyObject *thread_local_key(PyThreadState *) { return nullptr; }

#include "adapters/adapter_common.inl"

}  // namespace tp::adapter
