// The half of the 3.14+ adapters that 3.14 and 3.15 share: frame walking, positions,
// call shapes, recursion budgets and the layout check. Included by
// adapters/cpython314/315.cpp, inside namespace tp::adapter, after the version's headers.
// Facts (the same in 3.14 and 3.15 unless said; Include/internal/pycore_interpframe*.h,
// Python/bytecodes.c, Python/ceval.c):
//  - the thread's innermost frame is tstate->current_frame; f_executable holds the code
//    object and f_funcobj the function, both as stack references;
//  - each fresh _PyEval_EvalFrameDefault call links an entry frame owned by the
//    interpreter (FRAME_OWNED_BY_INTERPRETER) below the frame it evaluates; 3.14 keeps
//    FRAME_OWNED_BY_CSTACK above it, assigned nowhere, and 3.15 drops it. An owner at or
//    above FRAME_OWNED_BY_INTERPRETER marks "entered from C", as CPython's own
//    _PyFrame_IsIncomplete tests it;
//  - instr_ptr points at the instruction being executed (the CALL itself while a call is
//    pending), and a frame starts at instr_ptr (a GIL build has one copy of the bytecode:
//    _PyFrame_GetBytecode is _PyCode_CODE);
//  - CALL n's stack is [callable, self-or-NULL, args x n]; CALL_KW n adds the tuple of
//    keyword names on top; CALL_FUNCTION_EX has no oparg: [func, NULL, callargs, kwargs
//    or NULL];
//  - CALL_ALLOC_AND_ENTER_INIT links a frame running _Py_InitCleanup (an exported code
//    object: EXIT_INIT_CHECK) between a class call and its __init__ frame, and shrinks
//    the caller's stack;
//  - C recursion has no counter: the limit is an address on the thread's real stack
//    (_PyThreadStateImpl.c_stack_soft_limit), set by _Py_InitializeRecursionLimits from
//    the stack's bounds (pthread_getattr_np: for the main thread, its RLIMIT_STACK at the
//    time of the call); Python frames are charged to py_recursion_remaining.

namespace {
bool is_shim(Frame *f) { return f->owner >= FRAME_OWNED_BY_INTERPRETER; }

Frame *skip_incomplete(Frame *f)
{
    while (f && (is_shim(f) || _PyFrame_IsIncomplete(f))) {
        f = f->previous;
    }
    return f;
}

// For the caller, __init__ was entered by the class call, as an unspecialised call enters
// it through type.__call__.
bool is_init_trampoline(Frame *f)
{
    return f->owner == FRAME_OWNED_BY_THREAD &&
           PyStackRef_AsPyObjectBorrow(f->f_executable) ==
               reinterpret_cast<const PyObject *>(&_Py_InitCleanup);
}
}  // namespace

Frame *current_frame(PyThreadState *tstate) { return skip_incomplete(tstate->current_frame); }

namespace {
// Set by outer_frame() when the frame it steps out of was entered through an init
// trampoline, for pending_callee() on the caller's call, which the engine asks next: the
// specialised call consumed its stack, whose stale slots then hold __init__ and the new
// object, while the call that entered __init__ was the class's.
bool g_through_init_trampoline = false;
}  // namespace

Frame *outer_frame(Frame *f, bool *entered_from_native)
{
    g_through_init_trampoline = f->previous && is_init_trampoline(f->previous);
    *entered_from_native = f->previous && (is_shim(f->previous) || g_through_init_trampoline);
    return skip_incomplete(f->previous);
}

bool is_generator_frame(Frame *f) { return f->owner == FRAME_OWNED_BY_GENERATOR; }
PyCodeObject *frame_code(Frame *f) { return _PyFrame_GetCode(f); }
PyObject *frame_function(Frame *f)
{
    return PyStackRef_IsNull(f->f_funcobj) ? nullptr : PyStackRef_AsPyObjectBorrow(f->f_funcobj);
}
PyObject *frame_globals(Frame *f) { return f->f_globals; }
PyObject *frame_locals_mapping(Frame *f) { return f->f_locals; }
int frame_position(Frame *f) { return static_cast<int>(f->instr_ptr - _PyFrame_GetBytecode(f)); }

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
        // The kwargs slot is always there; the engine writes {} into it, which the call
        // takes as no keywords.
        s.restart = in.start;
        s.depth = in.depth;
        s.callable_slot = s.depth - 4;
        s.null_slot = s.depth - 3;
        s.callargs_slot = s.depth - 2;
        s.kwargs_slot = s.depth - 1;
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
    if (g_through_init_trampoline) {
        g_through_init_trampoline = false;
        PyObject *self = stack[s.null_slot];
        return self ? reinterpret_cast<PyObject *>(Py_TYPE(self)) : nullptr;
    }
    PyObject *callee = stack[s.callable_slot];
    if (callee && PyMethod_Check(callee)) {
        callee = PyMethod_GET_FUNCTION(callee);
    }
    return callee;
}

void pending_call(const CallShape &s, PyObject *const *stack, PyObject **callable,
                  PyObject **self)
{
    if (g_through_init_trampoline) {
        // The class's call, which gives back the object its __init__ sets up.
        PyObject *obj = stack[s.null_slot];
        *callable = obj ? reinterpret_cast<PyObject *>(Py_TYPE(obj)) : nullptr;
        *self = nullptr;
        return;
    }
    *callable = stack[s.callable_slot]; // [callable, self-or-NULL, args...]
    *self = stack[s.null_slot];
}

namespace {
// The frame's stack pointer is saved around every call that may run Python code, and
// around the eval breaker: while a C call runs it counts the call's operands, once the
// call has returned its result. Evaluated with throwflag, the frame raises at instr_ptr
// (its traceback line) but looks up the exception's handler at the code unit before it.
constexpr bool kSavesCallDepth = true;
constexpr bool kRaisesBeforeInstrPtr = true;
}  // namespace

namespace {
// A suspended generator's instr_ptr already points past its YIELD_VALUE: the index of the
// YIELD_VALUE that ends exactly at `position`, else -1.
int yield_index(const CodeAnalysis &code, int position)
{
    const int next = code.starting_at(position);
    return (next > 0 && code.at(next - 1).next == position) ? next - 1 : -1;
}

void set_next_instruction(Frame *f, PyCodeObject *co, int unit)
{
    f->instr_ptr = _PyCode_CODE(co) + unit;
}

void set_suspended_position(Frame *f, PyCodeObject *co, int position)
{
    f->instr_ptr = _PyCode_CODE(co) + position;
}
}  // namespace

// ---- recursion budgets ----------------------------------------------------------------------

// The destination may have raised RLIMIT_STACK since the thread state read its stack
// bounds (_state._reserve_stack does for deep stacks): read them again, so that the limit
// is the real stack's. A replay then needs no credit: it spends real stack, which is there.
void prepare_native_stack(PyThreadState *tstate) { _Py_InitializeRecursionLimits(tstate); }
long native_budget(PyThreadState *) { return 0; }
void native_credit(PyThreadState *, long) {}
const long kReplayEntryCost = 0;
int python_depth(PyThreadState *tstate)
{
    return tstate->py_recursion_limit - tstate->py_recursion_remaining;
}
void python_credit(PyThreadState *tstate, int units) { tstate->py_recursion_remaining += units; }

// ---- layout check ----------------------------------------------------------------------------

bool check_layout(std::string &why)
{
    // The interpreter publishes its own offsets (_Py_DebugOffsets, for out-of-process
    // tools): compare the fields we touch with what this build was compiled against.
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
        fr.stackpointer != offsetof(_PyInterpreterFrame, stackpointer) ||
        d.thread_state.current_frame != offsetof(PyThreadState, current_frame) ||
        d.gen_object.gi_iframe != offsetof(PyGenObject, gi_iframe) ||
        d.gen_object.gi_frame_state != offsetof(PyGenObject, gi_frame_state)) {
        why = "its frame layout differs from the one teleporter was built for";
        return false;
    }
    return true;
}

// ---- other threads -------------------------------------------------------------------------

// Weak: a build loaded into another version must reach the version check (which refuses
// it in one line) instead of failing to load on a symbol that version lacks.
#pragma weak PyEval_SetTraceAllThreads

// As in 3.13, _PyEval_SetTrace is not exported: another thread's trace function can be
// set only together with every thread's.
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

Frame *&current_frame_slot(PyThreadState *tstate) { return tstate->current_frame; }

// 3.14+ has no BEFORE_WITH: `with` loads __enter__ (LOAD_SPECIAL) and calls it with an
// ordinary CALL, which re-executes as any other call.
PyObject *entering_manager(const CodeAnalysis &, int, PyObject *) { return nullptr; }
