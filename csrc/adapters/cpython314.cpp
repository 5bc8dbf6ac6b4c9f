// CPython 3.14 frame adapter. See frame_adapter.hpp for the contract of each function.
//
// 3.14 facts used here (Include/internal/pycore_interpframe_structs.h, pycore_stackref.h,
// pycore_interpframe.h, Python/bytecodes.c and Python/ceval.c of 3.14):
//  - _PyInterpreterFrame lives in pycore_interpframe_structs.h; its slots, f_executable
//    and f_funcobj are tagged stack references (slots_stackref.inl), and the stack top
//    is a pointer, stackpointer;
//  - the thread's innermost frame is tstate->current_frame;
//  - each fresh _PyEval_EvalFrameDefault call links an entry frame owned by the
//    interpreter (FRAME_OWNED_BY_INTERPRETER; FRAME_OWNED_BY_CSTACK above it is kept for
//    compatibility and assigned nowhere) below the frame it evaluates: an owner at or
//    above FRAME_OWNED_BY_INTERPRETER marks "entered from C";
//  - instr_ptr points at the instruction being executed (the CALL itself while a call is
//    pending), and a frame starts at instr_ptr;
//  - CALL n's stack is [callable, self-or-NULL, args x n]; CALL_KW n adds the tuple of
//    keyword names on top;
//  - CALL_FUNCTION_EX has no oparg: its stack is [func, NULL, callargs, kwargs or NULL];
//  - the C recursion limit is an address on the thread's real stack
//    (_PyThreadStateImpl.c_stack_soft_limit), set from the stack's bounds when the
//    thread state is made; Python frames are charged to py_recursion_remaining;
//  - CALL_ALLOC_AND_ENTER_INIT links an _Py_InitCleanup frame (EXIT_INIT_CHECK) between a
//    class call and its __init__ frame, as in 3.13.
#define Py_BUILD_CORE 1
#include <Python.h>

#include "internal/pycore_ceval.h"
#include "internal/pycore_code.h"
#include "internal/pycore_frame.h"
#include "internal/pycore_genobject.h"
#include "internal/pycore_interpframe.h"
#include "internal/pycore_runtime.h"
#include "internal/pycore_stackref.h"
#include "internal/pycore_tstate.h"

#include <cstddef>
#include <cstring>
#include "opcode.h"

#include "adapters/frame_adapter.hpp"

namespace tp::adapter {

const char *version_name() { return "3.14"; }

#include "adapters/adapter_stackref.inl"

// ---- version facts used by adapter_common.inl ------------------------------------------

namespace {
bool is_suspended_state(int st)
{
    return st == FRAME_SUSPENDED || st == FRAME_SUSPENDED_YIELD_FROM;
}
}  // namespace

#include "adapters/slots_stackref.inl"
#include "adapters/adapter_common.inl"

}  // namespace tp::adapter
