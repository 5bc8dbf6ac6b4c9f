// The half of the 3.11 and 3.12 adapters that they share. Included by
// adapters/cpython311/312.cpp, inside namespace tp::adapter, after the version has stated
//
//   // The instruction that makes the call a frame stands in at `index` (3.11: a
//   // specialised PRECALL makes it itself, its CALL stands for it).
//   int call_instruction(const CodeAnalysis &, int index);
//   // Where a pending CALL at instruction `index` restarts (the first of the instructions
//   // that make up the call) and the stack depth there; false with `why` when the call
//   // is not one the version knows.
//   bool call_start(const CodeAnalysis &, int index, int *restart, int *depth,
//                   std::string &why);
//
// Facts (the same in 3.11 and 3.12; Include/internal/pycore_frame.h, Python/ceval.c and
// bytecodes.c):
//  - prev_instr is the code unit *before* the next instruction: inside an inlined call
//    it sits on the CALL's last inline cache, inside a C call on the CALL itself; a
//    suspended generator's sits on its YIELD_VALUE;
//  - a call's stack is [method-or-NULL, callable-or-self, args x n];
//  - CALL_FUNCTION_EX's stack is [NULL, func, callargs, kwargs if oparg & 1];
//  - generators are suspended in one state, FRAME_SUSPENDED;
//  - neither publishes debug offsets: the version check is all the layout check can do.

PyObject *frame_globals(Frame *f) { return f->f_globals; }
PyObject *frame_locals_mapping(Frame *f) { return f->f_locals; }
int frame_position(Frame *f)
{
    return static_cast<int>(f->prev_instr - _PyCode_CODE(f->f_code));
}

bool call_shape(const CodeAnalysis &code, int index, CallShape *out, std::string &why)
{
    index = call_instruction(code, index);
    const Instr &in = code.at(index);
    CallShape s;
    if (in.op == CALL) {
        if (!call_start(code, index, &s.restart, &s.depth, &s.kwnames_const, why)) {
            return false;
        }
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

bool check_layout(std::string &why)
{
    (void)why; // no debug offsets to compare with
    return true;
}

// ---- version facts used by adapter_common.inl ------------------------------------------

namespace {
// The frame keeps no stack pointer while a call runs: whether a call has returned is read
// from its slots. An exception raised by evaluating the frame with throwflag is raised at
// prev_instr: its traceback line, and its handler, are that instruction's.
constexpr bool kSavesCallDepth = false;
constexpr bool kRaisesBeforeInstrPtr = false;
// A for loop's iterator is one stack slot.
constexpr int kIteratorSlots = 1;
bool is_suspended_state(int st) { return st == FRAME_SUSPENDED; }

// The index of the YIELD_VALUE whose opcode unit is exactly `position`, else -1.
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
