// CPython 3.15 frame adapter. See frame_adapter.hpp for the contract of each function.
//
// 3.15 keeps 3.14's frame layout (adapter_stackref.inl, slots_stackref.inl); its own
// facts (Include/internal/pycore_interpframe_structs.h, pycore_frame.h of 3.15.0):
//  - owners: THREAD 0, GENERATOR 1, FRAME_OBJECT 2, INTERPRETER 3 (CSTACK is gone);
//  - generator states are renumbered: CREATED 0, SUSPENDED 1, SUSPENDED_YIELD_FROM 2,
//    SUSPENDED_YIELD_FROM_LOCKED 3 (held only while another thread of a free-threaded
//    build sends into it: never seen with a GIL), EXECUTING 4, CLEARED 5;
//  - PEP 523 keeps its 3.14 names in 3.15.0 (_PyInterpreterState_Get/SetEvalFrameFunc,
//    Include/cpython/pystate.h).
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

const char *version_name() { return "3.15"; }

namespace {
// A for loop's iterator is two stack slots: the iterator and its index (a tagged int for a
// list or tuple iterated in place, NULL otherwise); `yield from`/`await` push the same pair.
constexpr int kIteratorSlots = 2;
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
