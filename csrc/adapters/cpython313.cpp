// CPython 3.13 frame adapter. See frame_adapter.hpp for the contract of each function.
//
// 3.13 facts used here (Include/internal/pycore_frame.h, Python/bytecodes.c of 3.13):
//  - the thread's innermost frame is tstate->current_frame;
//  - f_executable holds the code object (it may be something else for shim frames);
//  - each fresh _PyEval_EvalFrameDefault call links a shim frame owned by
//    FRAME_OWNED_BY_CSTACK below the frame it evaluates: a shim marks "entered from C";
//  - instr_ptr points at the instruction being executed (the CALL itself while a call
//    is pending), and a frame starts at instr_ptr;
//  - CALL n's stack is [callable, self-or-NULL, args x n]; CALL_KW n adds the tuple of
//    keyword names on top;
//  - CALL_FUNCTION_EX's stack is [func, NULL, callargs, kwargs if oparg & 1];
//  - C recursion is charged to c_recursion_remaining, Python frames to their own counter;
//  - CALL_ALLOC_AND_ENTER_INIT links an _Py_InitCleanup frame (EXIT_INIT_CHECK) between a
//    class call and its __init__ frame, and shrinks the caller's stack.
#define Py_BUILD_CORE 1
#include <Python.h>

#include "internal/pycore_frame.h"
#include "internal/pycore_runtime.h"

#include <cstddef>
#include <cstring>
#include "opcode.h"

#include "adapters/frame_adapter.hpp"

namespace tp::adapter {

const char *version_name() { return "3.13"; }

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
Frame *&current_frame_slot(PyThreadState *tstate) { return tstate->current_frame; }
}  // namespace

Frame *current_frame(PyThreadState *tstate)
{
    return skip_incomplete(current_frame_slot(tstate));
}

namespace {
// The frame CALL_ALLOC_AND_ENTER_INIT (a specialised `Cls(...)` whose class has a Python
// __init__) links between the caller and __init__: it runs EXIT_INIT_CHECK when __init__
// returns, and the caller's stack no longer holds the call. For the caller, __init__ was
// entered by the class call, as an unspecialised call enters it through type.__call__.
bool is_init_trampoline(Frame *f)
{
    return f->owner == FRAME_OWNED_BY_THREAD &&
           _PyCode_CODE(_PyFrame_GetCode(f))[0].op.code == EXIT_INIT_CHECK;
}
}  // namespace

Frame *outer_frame(Frame *f, bool *entered_from_native)
{
    *entered_from_native =
        f->previous && (is_shim(f->previous) || is_init_trampoline(f->previous));
    return skip_incomplete(f->previous);
}

bool is_generator_frame(Frame *f) { return f->owner == FRAME_OWNED_BY_GENERATOR; }
PyCodeObject *frame_code(Frame *f) { return _PyFrame_GetCode(f); }
PyObject *frame_function(Frame *f) { return f->f_funcobj; }
PyObject *frame_globals(Frame *f) { return f->f_globals; }
PyObject *frame_locals_mapping(Frame *f) { return f->f_locals; }
int frame_position(Frame *f)
{
    return static_cast<int>(f->instr_ptr - _PyCode_CODE(_PyFrame_GetCode(f)));
}

bool call_shape(const CodeAnalysis &code, int index, CallShape *out, std::string &why)
{
    const Instr &in = code.at(index);
    CallShape s;
    if (in.op == CALL || in.op == CALL_KW) {
        int kw = in.op == CALL_KW; // the names tuple stays on top, untouched
        int n = in.oparg;
        s.restart = in.start;
        s.depth = in.depth;
        s.callable_slot = s.depth - kw - n - 2;
        s.null_slot = s.depth - kw - n - 1;
        s.args_begin = s.depth - kw - n;
        s.args_end = s.depth - kw;
        s.kwnames_slot = kw ? s.depth - 1 : -1;
        s.opname = kw ? "CALL_KW" : "CALL";
    }
    else if (in.op == CALL_FUNCTION_EX) {
        int kw = in.oparg & 1;
        s.restart = in.start;
        s.depth = in.depth;
        s.callable_slot = s.depth - 3 - kw;
        s.null_slot = s.depth - 2 - kw;
        s.callargs_slot = s.depth - 1 - kw;
        s.kwargs_slot = kw ? s.depth - 1 : -1;
        s.args_begin = s.args_end = s.depth;
        s.opname = "CALL_FUNCTION_EX";
    }
    else {
        why = std::string("the frame is inside ") + opcode_name(in.op) + ", not a call";
        return false;
    }
    if (s.depth < 0 || s.callable_slot < 0) {
        why = "no consistent stack depth at the call";
        return false;
    }
    *out = s;
    return true;
}

PyObject *pending_callee(const CallShape &s, PyObject *const *stack)
{
    PyObject *callee = stack[s.callable_slot];
    if (callee && PyMethod_Check(callee)) {
        callee = PyMethod_GET_FUNCTION(callee);
    }
    return callee;
}

void pending_call(const CallShape &s, PyObject *const *stack, PyObject **callable,
                  PyObject **self)
{
    *callable = stack[s.callable_slot]; // [callable, self-or-NULL, args...]
    *self = stack[s.null_slot];
}

PyObject *entering_manager(const CodeAnalysis &code, int index, PyObject *top)
{
    // BEFORE_WITH writes its results when __enter__ returns: meanwhile the slot holds the
    // manager (its reference given up, but the bound __exit__ it holds keeps it alive).
    return code.at(index).op == BEFORE_WITH ? top : nullptr;
}

// ---- version facts used by adapter_common.inl ------------------------------------------

namespace {
// The frame keeps no stack pointer while a call runs: whether a call has returned is read
// from its slots. Evaluated with throwflag, the frame raises at instr_ptr (its traceback
// line) but looks up the exception's handler at the code unit before it.
constexpr bool kSavesCallDepth = false;
constexpr bool kRaisesBeforeInstrPtr = true;
// A for loop's iterator is one stack slot.
constexpr int kIteratorSlots = 1;
// 3.13 also marks a yield inside `yield from`/`await`.
bool is_suspended_state(int st)
{
    return st == FRAME_SUSPENDED || st == FRAME_SUSPENDED_YIELD_FROM;
}

// A suspended generator's instr_ptr already points past its YIELD_VALUE: the index of the
// YIELD_VALUE that ends exactly at `position`, else -1.
int yield_index(const CodeAnalysis &code, int position)
{
    const int next = code.starting_at(position);
    return (next > 0 && code.at(next - 1).next == position) ? next - 1 : -1;
}

// A frame starts at instr_ptr.
void set_next_instruction(Frame *f, PyCodeObject *co, int unit)
{
    f->instr_ptr = _PyCode_CODE(co) + unit;
}

void set_suspended_position(Frame *f, PyCodeObject *co, int position)
{
    f->instr_ptr = _PyCode_CODE(co) + position;
}
}  // namespace

// Measured: each replayed level spends 2 units of c_recursion_remaining (the call into
// the resumer and the evaluator's entry from C) that an inlined call does not spend
// (tests/scenarios/headroom.py checks it).
const long kReplayEntryCost = 2;
void prepare_native_stack(PyThreadState *) {}
long native_budget(PyThreadState *tstate) { return tstate->c_recursion_remaining; }
void native_credit(PyThreadState *tstate, long units)
{
    tstate->c_recursion_remaining += static_cast<int>(units);
}
int python_depth(PyThreadState *tstate)
{
    return tstate->py_recursion_limit - tstate->py_recursion_remaining;
}
void python_credit(PyThreadState *tstate, int units) { tstate->py_recursion_remaining += units; }

bool check_layout(std::string &why)
{
    // 3.13 publishes its own offsets (_Py_DebugOffsets, used by out-of-process tools):
    // compare the fields we touch with what this build was compiled against.
    const _Py_DebugOffsets &d = _PyRuntime.debug_offsets;
    if (std::memcmp(d.cookie, _Py_Debug_Cookie, sizeof(d.cookie)) != 0) {
        why = "the interpreter publishes no debug offsets";
        return false;
    }
    const auto &fr = d.interpreter_frame;
    if (fr.size != sizeof(_PyInterpreterFrame) ||
        fr.previous != offsetof(_PyInterpreterFrame, previous) ||
        fr.executable != offsetof(_PyInterpreterFrame, f_executable) ||
        fr.instr_ptr != offsetof(_PyInterpreterFrame, instr_ptr) ||
        fr.localsplus != offsetof(_PyInterpreterFrame, localsplus) ||
        fr.owner != offsetof(_PyInterpreterFrame, owner) ||
        d.thread_state.current_frame != offsetof(PyThreadState, current_frame)) {
        why = "its frame layout differs from the one teleporter was built for";
        return false;
    }
    return true;
}

// ---- other threads ---------------------------------------------------------------------

// Weak: a build loaded into another version must reach the version check (which refuses
// it in one line) instead of failing to load on a symbol that version lacks.
#pragma weak PyEval_SetTraceAllThreads


// 3.13 no longer exports _PyEval_SetTrace: another thread's trace function can be set
// only together with every thread's.
bool set_thread_trace(PyThreadState *ts, Py_tracefunc func, PyObject *obj)
{
    if (ts != PyThreadState_Get()) {
        return false;
    }
    PyEval_SetTrace(func, obj);
    return true;
}

void set_all_threads_trace(Py_tracefunc func, PyObject *obj)
{
    PyEval_SetTraceAllThreads(func, obj);
}

PyObject *thread_local_key(PyThreadState *ts) { return ts->threading_local_key; }

namespace {
// COMPARE_OP's operator is its oparg shifted right this much; LOAD_ATTR's name index too
// (from 3.12 on, its low bit asks for a method). WITH_EXCEPT_START finds the `with`
// statement's __exit__ in this many slots below its lasti: the bound method.
constexpr int kCompareShift = 5;
constexpr int kLoadAttrShift = 1;
constexpr int kExitSlots = 1;
}  // namespace

#include "adapters/slots_object.inl"
#include "adapters/adapter_common.inl"

}  // namespace tp::adapter
