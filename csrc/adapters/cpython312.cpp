// CPython 3.12 frame adapter. See frame_adapter.hpp for the contract of each function.
//
// 3.12 facts used here (Include/internal/pycore_frame.h, Python/bytecodes.c of 3.12):
//  - the thread's innermost frame is tstate->cframe->current_frame;
//  - each fresh _PyEval_EvalFrameDefault call links a shim frame owned by
//    FRAME_OWNED_BY_CSTACK below the frame it evaluates: a shim marks "entered from C";
//  - calls, positions and generator states as adapter_prev_instr.inl says (shared with
//    3.11); a call's first instruction as call_start() below says;
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

namespace {
int call_instruction(const CodeAnalysis &, int index) { return index; }

// A call is CALL n, optionally preceded by KW_NAMES (which stores the keyword names in a
// C local that CALL reads): a re-executed call restarts there.
bool call_start(const CodeAnalysis &code, int index, int *restart, int *depth, int *kwnames,
                std::string &)
{
    *restart = code.at(index).start;
    if (index > 0 && code.at(index - 1).op == KW_NAMES) {
        *restart = code.at(index - 1).start;
        *kwnames = code.at(index - 1).oparg;
    }
    *depth = code.at(index).depth;
    return true;
}
}  // namespace

#include "adapters/adapter_prev_instr.inl"

PyObject *entering_manager(const CodeAnalysis &code, int index, PyObject *top)
{
    // BEFORE_WITH writes its results when __enter__ returns: meanwhile the slot holds the
    // manager (its reference given up, but the bound __exit__ it holds keeps it alive).
    return code.at(index).op == BEFORE_WITH ? top : nullptr;
}

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

namespace {
// COMPARE_OP's operator is its oparg shifted right this much; LOAD_ATTR's name index too
// (from 3.12 on, its low bit asks for a method). WITH_EXCEPT_START finds the `with`
// statement's __exit__ in this many slots below its lasti: the bound method.
constexpr int kCompareShift = 4;
constexpr int kLoadAttrShift = 1;
constexpr int kExitSlots = 1;
}  // namespace

#include "adapters/slots_object.inl"
#include "adapters/adapter_common.inl"

}  // namespace tp::adapter
