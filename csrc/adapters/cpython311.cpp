// CPython 3.11 frame adapter. See frame_adapter.hpp for the contract of each function.
//
// 3.11 facts used here (Include/internal/pycore_frame.h, Python/ceval.c of 3.11):
//  - the thread's innermost frame is tstate->cframe->current_frame;
//  - a frame evaluated by a fresh _PyEval_EvalFrameDefault call has is_entry set: it was
//    entered from C (its caller is in a C call, or there is no Python caller);
//  - calls, positions and generator states as adapter_prev_instr.inl says (shared with
//    3.12); a call's first instruction as call_start() below says (specialised PRECALLs of
//    builtins make the call themselves);
//  - one counter, recursion_remaining, is charged for Python frames and C recursion.
#define Py_BUILD_CORE 1
#include <Python.h>

#include "internal/pycore_frame.h"
#include "opcode.h"

#include "adapters/frame_adapter.hpp"

namespace tp::adapter {

const char *version_name() { return "3.11"; }

namespace {
Frame *skip_incomplete(Frame *f)
{
    while (f && _PyFrame_IsIncomplete(f)) {
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
    *entered_from_native = f->is_entry;
    return skip_incomplete(f->previous);
}

bool is_generator_frame(Frame *f) { return f->owner == FRAME_OWNED_BY_GENERATOR; }
PyCodeObject *frame_code(Frame *f) { return f->f_code; }
PyObject *frame_function(Frame *f) { return reinterpret_cast<PyObject *>(f->f_func); }

namespace {
// Specialised PRECALLs of builtins and method descriptors make the call themselves (and
// skip the CALL): a thread blocked in one stands inside the PRECALL. The call is the CALL.
int call_instruction(const CodeAnalysis &code, int index)
{
    if (code.at(index).op == PRECALL && index + 1 < static_cast<int>(code.instrs.size()) &&
        code.at(index + 1).op == CALL) {
        return index + 1;
    }
    return index;
}

// A call is PRECALL n; CALL n, optionally preceded by KW_NAMES (which stores the keyword
// names in a C local that CALL reads): a re-executed call restarts at the first of them.
bool call_start(const CodeAnalysis &code, int index, int *restart, int *depth, int *kwnames,
                std::string &why)
{
    const int pre = index - 1;
    if (pre < 0 || code.at(pre).op != PRECALL) {
        why = "CALL without PRECALL";
        return false;
    }
    *restart = code.at(pre).start;
    if (pre > 0 && code.at(pre - 1).op == KW_NAMES) {
        *restart = code.at(pre - 1).start;
        *kwnames = code.at(pre - 1).oparg;
    }
    *depth = code.at(pre).depth;
    return true;
}
}  // namespace

#include "adapters/adapter_prev_instr.inl"

PyObject *entering_manager(const CodeAnalysis &code, int index, PyObject *top)
{
    if (code.at(index).op != BEFORE_WITH || !top) {
        return nullptr;
    }
    // BEFORE_WITH has put the bound __exit__ in the manager's slot before calling __enter__.
    if (PyMethod_Check(top)) {
        return PyMethod_GET_SELF(top);
    }
    if (PyCFunction_Check(top)) {
        return PyCFunction_GET_SELF(top);
    }
    return nullptr;
}

// Measured: a replayed level costs nothing beyond the frame's own unit on the shared
// counter (tests/scenarios/headroom.py checks it).
const long kReplayEntryCost = 0;
void prepare_native_stack(PyThreadState *) {}
long native_budget(PyThreadState *tstate) { return tstate->recursion_remaining; }
void native_credit(PyThreadState *tstate, long units)
{
    tstate->recursion_remaining += static_cast<int>(units);
}
int python_depth(PyThreadState *tstate)
{
    return tstate->recursion_limit - tstate->recursion_remaining;
}
void python_credit(PyThreadState *tstate, int units) { tstate->recursion_remaining += units; }

// ---- other threads ---------------------------------------------------------------------

// Weak: a build loaded into another version must reach the version check (which refuses
// it in one line) instead of failing to load on a symbol that version lacks.
#pragma weak _PyEval_SetTrace


bool set_thread_trace(PyThreadState *ts, Py_tracefunc func, PyObject *obj)
{
    if (_PyEval_SetTrace(ts, func, obj) < 0) {
        PyErr_WriteUnraisable(nullptr); // only an audit hook can refuse it
    }
    return true;
}

void set_all_threads_trace(Py_tracefunc func, PyObject *obj)
{
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(PyInterpreterState_Get()); ts;
         ts = PyThreadState_Next(ts)) {
        set_thread_trace(ts, func, obj);
    }
}

PyObject *thread_local_key(PyThreadState *) { return nullptr; }

namespace {
// COMPARE_OP's operator is its oparg shifted right this much; LOAD_ATTR's name index too
// (from 3.12 on, its low bit asks for a method). WITH_EXCEPT_START finds the `with`
// statement's __exit__ in this many slots below its lasti: the bound method.
constexpr int kCompareShift = 0;
constexpr int kLoadAttrShift = 0;
constexpr int kExitSlots = 1;
}  // namespace

#include "adapters/slots_object.inl"
#include "adapters/adapter_common.inl"

}  // namespace tp::adapter
