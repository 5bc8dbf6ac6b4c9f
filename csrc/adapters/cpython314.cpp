// CPython 3.14 frame adapter. See frame_adapter.hpp for the contract of each function.
//
// 3.14 moved _PyInterpreterFrame to Include/internal/pycore_interpframe_structs.h (its
// inline functions to pycore_interpframe.h) and made its slots, f_executable and
// f_funcobj tagged stack references (pycore_stackref.h), with a stack pointer instead of
// an index; the C recursion limit became an address on the thread's stack. What 3.14
// and 3.15 share is in adapter_stackref.inl and slots_stackref.inl; the facts below are
// 3.14's own:
//  - owners: THREAD 0, GENERATOR 1, FRAME_OBJECT 2, INTERPRETER 3, CSTACK 4 (CSTACK is
//    assigned nowhere: entry frames are owned by the interpreter);
//  - generator states: CREATED -3, SUSPENDED -2, SUSPENDED_YIELD_FROM -1, EXECUTING 0,
//    COMPLETED 1, CLEARED 4 (Include/internal/pycore_frame.h).
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

namespace {
// A for loop's iterator is one stack slot.
constexpr int kIteratorSlots = 1;
bool is_suspended_state(int st)
{
    return st == FRAME_SUSPENDED || st == FRAME_SUSPENDED_YIELD_FROM;
}
}  // namespace

namespace {
// COMPARE_OP's operator is its oparg shifted right this much; LOAD_ATTR's name index too
// (from 3.12 on, its low bit asks for a method). WITH_EXCEPT_START finds the `with`
// statement's __exit__ in this many slots below its lasti: the function, then its self
// (NULL when it is bound).
constexpr int kCompareShift = 5;
constexpr int kLoadAttrShift = 1;
constexpr int kExitSlots = 2;
}  // namespace

#include "adapters/adapter_stackref.inl"
#include "adapters/slots_stackref.inl"
#include "adapters/adapter_common.inl"

}  // namespace tp::adapter
