// The version-neutral half of every adapter: frame and generator slot writing, generator
// state, the eval-frame function. Included at the end of each adapters/cpython3XX.cpp,
// inside namespace tp::adapter, after that file has stated its version's facts:
//
//   bool is_suspended_state(int gi_frame_state);
//   int yield_index(const CodeAnalysis &, int position);  // the YIELD_VALUE at position
//   void set_next_instruction(Frame *, PyCodeObject *, int unit);  // the frame runs unit
//   void set_suspended_position(Frame *, PyCodeObject *, int position);  // as captured
//   Frame *&current_frame_slot(PyThreadState *);  // where the innermost frame is kept
//   constexpr int kIteratorSlots;  // stack slots of a for loop's iterator (and a SEND's receiver)
//   constexpr bool kSavesCallDepth;  // the stack pointer is saved while a C call runs
//   constexpr bool kRaisesBeforeInstrPtr;  // throwflag looks up handlers at instr_ptr - 1
//
// and frame_code(), and its frame slots (slots_object.inl for 3.11-3.13, whose slots are
// object pointers; slots_stackref.inl for 3.14+, whose slots are tagged stack references):
//
//   int stack_top(Frame *);                     // index of the first free slot
//   void set_stack_top(Frame *, int);
//   void clear_slot(Frame *, int i);            // drops slot i's reference
//   void store_slot(Frame *, int i, PyObject *);  // a new reference (NULL: empty)
//
// The generator fields used here (gi_iframe, gi_frame_state, gi_exc_state,
// gi_running_async) have the same names and meaning in 3.11-3.15.

namespace {

// Replaces everything a fresh frame holds (its bound arguments) with saved locals and a
// saved value stack; new references are taken, NULL slots stay NULL.
void write_slots(Frame *f, PyCodeObject *co, PyObject *const *localsplus, PyObject *const *stack,
                 int nstack)
{
    const int nl = co->co_nlocalsplus;
    for (int i = 0, top = stack_top(f); i < top; i++) {
        clear_slot(f, i);
    }
    for (int i = 0; i < nl; i++) {
        store_slot(f, i, localsplus[i]);
    }
    for (int i = 0; i < nstack; i++) {
        store_slot(f, nl + i, stack[i]);
    }
    set_stack_top(f, nl + nstack);
}

PyGenObject *as_gen(PyObject *gen) { return reinterpret_cast<PyGenObject *>(gen); }

}  // namespace

PyObject *frame_generator(Frame *f)
{
    return reinterpret_cast<PyObject *>(reinterpret_cast<char *>(f) -
                                        offsetof(PyGenObject, gi_iframe));
}

Driven drive_kind(const CodeAnalysis &code, int index)
{
    const int op = code.at(index).op;
    return op == FOR_ITER ? Driven{Drive::ForIter, kIteratorSlots}
           : op == SEND   ? Driven{Drive::Send, kIteratorSlots + 1}
                          : Driven{Drive::None, 0};
}

SpecialCall special_call(const CodeAnalysis &code, int index)
{
    const Instr &in = code.at(index);
    const int d = in.depth;
    const int op = in.op;
    auto at = [&](Special kind, int subject, int other = -1, int arg = 0) {
        return subject >= 0 ? SpecialCall{kind, arg, subject, other} : SpecialCall{};
    };
    switch (op) {
    case BINARY_OP:
#ifdef NB_SUBSCR
        if (in.oparg == NB_SUBSCR) {
            return at(Special::GetItem, d - 2);
        }
#endif
        return at(Special::Binary, d - 2, d - 1, in.oparg);
    case COMPARE_OP:
        return at(Special::Compare, d - 2, d - 1, in.oparg >> kCompareShift);
    case CONTAINS_OP:
        return at(Special::Contains, d - 1);
#ifdef BINARY_SUBSCR
    case BINARY_SUBSCR:
        return at(Special::GetItem, d - 2);
#endif
    case STORE_SUBSCR:
        return at(Special::SetItem, d - 2);
    case DELETE_SUBSCR:
        return at(Special::DelItem, d - 2);
#ifdef BINARY_SLICE
    case BINARY_SLICE:
        return at(Special::GetItem, d - 3);
    case STORE_SLICE:
        return at(Special::SetItem, d - 3);
#endif
    case UNARY_NEGATIVE:
        return at(Special::Unary, d - 1, -1, 0);
    case UNARY_INVERT:
        return at(Special::Unary, d - 1, -1, 1);
#ifdef UNARY_POSITIVE
    case UNARY_POSITIVE:
        return at(Special::Unary, d - 1, -1, 2);
#endif
#ifdef TO_BOOL
    case TO_BOOL:
        return at(Special::Truth, d - 1);
#else
    case UNARY_NOT: // it tests the truth of any object before 3.13
        return at(Special::Truth, d - 1);
#endif
#ifdef POP_JUMP_FORWARD_IF_TRUE
    case POP_JUMP_FORWARD_IF_TRUE:
    case POP_JUMP_FORWARD_IF_FALSE:
    case POP_JUMP_BACKWARD_IF_TRUE:
    case POP_JUMP_BACKWARD_IF_FALSE:
    case JUMP_IF_TRUE_OR_POP:
    case JUMP_IF_FALSE_OR_POP:
        return at(Special::Truth, d - 1);
#elif !defined(TO_BOOL)
    case POP_JUMP_IF_TRUE:
    case POP_JUMP_IF_FALSE:
        return at(Special::Truth, d - 1);
#endif
    case LOAD_ATTR:
        return at(Special::GetAttr, d - 1, -1, in.oparg >> kLoadAttrShift);
#if defined(LOAD_METHOD) && LOAD_METHOD < 256
    case LOAD_METHOD:
        return at(Special::GetAttr, d - 1, -1, in.oparg);
#endif
    case STORE_ATTR:
        return at(Special::SetAttr, d - 1, -1, in.oparg);
    case DELETE_ATTR:
        return at(Special::DelAttr, d - 1, -1, in.oparg);
    case GET_ITER:
        return at(Special::Iter, d - 1);
#ifdef FORMAT_VALUE
    case FORMAT_VALUE: {
        const bool spec = in.oparg & FVS_HAVE_SPEC;
        const int value = d - 1 - (spec ? 1 : 0);
        if (in.oparg & FVC_MASK) {
            return at(Special::Convert, value, -1, in.oparg & FVC_MASK);
        }
        return at(Special::Format, value, spec ? d - 1 : -1);
    }
#else
    case CONVERT_VALUE:
        return at(Special::Convert, d - 1, -1, in.oparg);
    case FORMAT_SIMPLE:
        return at(Special::Format, d - 1);
    case FORMAT_WITH_SPEC:
        return at(Special::Format, d - 2, d - 1);
#endif
    case WITH_EXCEPT_START:
        // Below the exception, the exception it replaced and lasti.
        return kExitSlots == 1 ? at(Special::Exit, d - 4)
                               : at(Special::Exit, d - 3 - kExitSlots, d - 4);
    default:
        return SpecialCall{};
    }
}

int saved_stack_depth(Frame *f) { return stack_top(f) - frame_code(f)->co_nlocalsplus; }

// ---- signal handlers ---------------------------------------------------------------------

bool breaker_site(const CodeAnalysis &code, int index, BreakerSite *out)
{
    const Instr &in = code.at(index);
    BreakerSite site;
    switch (in.op) {
    case JUMP_BACKWARD:
#ifdef POP_JUMP_BACKWARD_IF_TRUE
    case POP_JUMP_BACKWARD_IF_TRUE: // 3.11: it checks the breaker when it jumps
    case POP_JUMP_BACKWARD_IF_FALSE:
    case POP_JUMP_BACKWARD_IF_NONE:
    case POP_JUMP_BACKWARD_IF_NOT_NONE:
#endif
        site.resume = in.next - in.oparg;
        break;
    case RESUME:
        // At a function's start and after a yield, not after `yield from` or `await`
        // (the low two bits of oparg say where).
        if ((in.oparg & 3) >= 2) {
            return false;
        }
        site.resume = in.next;
        break;
    default: {
        CallShape shape;
        std::string why;
        if (!call_shape(code, index, &shape, why)) {
            return false;
        }
        site.call = true;
        site.resume = in.next;
#ifdef PRECALL
        if (in.op == PRECALL) { // 3.11: a specialised PRECALL makes the call and skips the CALL
            site.resume = code.at(index + 1).next;
        }
#endif
    }
    }
    const int at = code.starting_at(site.resume);
    if (at < 0 || code.at(at).depth < 0) {
        return false;
    }
    site.depth = code.at(at).depth;
    *out = site;
    return true;
}

namespace {
// Whether `obj` may be the callable of a call still running C code: any callable but a
// Python function or a method of one (whose call has a frame of its own above the caller)
// and an instance whose class's __call__ is a Python function (the same).
bool may_run_native(PyObject *obj)
{
    if (PyFunction_Check(obj) || (PyMethod_Check(obj) && PyFunction_Check(PyMethod_GET_FUNCTION(obj)))) {
        return false;
    }
    if (!PyCallable_Check(obj)) {
        return false;
    }
    if (!PyType_Check(obj)) {
        static PyObject *name = PyUnicode_InternFromString("__call__");
        PyObject *call = name ? _PyType_Lookup(Py_TYPE(obj), name) : nullptr;
        if (call && PyFunction_Check(call)) {
            return false;
        }
    }
    return true;
}
}  // namespace

CallState call_state(Frame *f, const CallShape &shape, PyObject *const *stack, int returned_depth)
{
    if (kSavesCallDepth) {
        const int saved = saved_stack_depth(f);
        return saved == shape.depth      ? CallState::Running
               : saved == returned_depth ? CallState::Returned
                                         : CallState::Either;
    }
    // The result takes the call's first slot: a NULL (a plain call's, before 3.13) or the
    // callable (a method, before 3.13) while it runs.
    PyObject *first = stack[shape.null_slot < shape.callable_slot ? shape.null_slot
                                                                  : shape.callable_slot];
    if (!first) {
        return CallState::Running;
    }
    return may_run_native(first) ? CallState::Either : CallState::Returned;
}

void stand_in(Frame *f, int unit) { set_suspended_position(f, frame_code(f), unit); }

void raise_in(Frame *f, const CodeAnalysis &code, int index, int unit)
{
    const Instr &in = code.at(index);
    // Where handlers are looked up one unit before instr_ptr, stand on the instruction's
    // first inline cache (the same line), when it has one.
    const int at = kRaisesBeforeInstrPtr && in.next > in.opunit + 1 ? in.opunit + 1 : unit;
    set_suspended_position(f, frame_code(f), at);
}

void go_on_at(Frame *f, int unit) { set_next_instruction(f, frame_code(f), unit); }

Frame *object_frame(PyObject *frame_object)
{
    return reinterpret_cast<PyFrameObject *>(frame_object)->f_frame;
}

void set_local(Frame *f, int i, PyObject *value)
{
    clear_slot(f, i);
    store_slot(f, i, value);
}

void patch_frame(Frame *f, PyObject *const *localsplus, PyObject *const *stack, int nstack,
                 int restart)
{
    PyCodeObject *co = frame_code(f);
    write_slots(f, co, localsplus, stack, nstack);
    set_next_instruction(f, co, restart);
}

// ---- generators ----------------------------------------------------------------------------

GenPhase generator_phase(PyObject *gen)
{
    const int st = as_gen(gen)->gi_frame_state;
    if (st == FRAME_CREATED) {
        return GenPhase::Created;
    }
    if (is_suspended_state(st)) {
        return GenPhase::Suspended;
    }
    return st == FRAME_EXECUTING ? GenPhase::Running : GenPhase::Finished;
}

void set_generator_exception(PyObject *gen, PyObject *exc)
{
    Py_XSETREF(as_gen(gen)->gi_exc_state.exc_value, Py_XNewRef(exc));
}

int generator_raw_state(PyObject *gen) { return as_gen(gen)->gi_frame_state; }

Frame *generator_frame(PyObject *gen)
{
    return reinterpret_cast<Frame *>(&as_gen(gen)->gi_iframe); // an array before 3.14
}

PyObject *generator_exception(PyObject *gen) { return as_gen(gen)->gi_exc_state.exc_value; }

bool generator_running_async(PyObject *gen) { return as_gen(gen)->gi_running_async != 0; }

int generator_saved_depth(PyObject *gen)
{
    Frame *f = generator_frame(gen);
    return stack_top(f) - frame_code(f)->co_nlocalsplus;
}

bool generator_state_phase(int raw_state, GenPhase *phase)
{
    if (raw_state == FRAME_CREATED) {
        *phase = GenPhase::Created;
        return true;
    }
    if (is_suspended_state(raw_state)) {
        *phase = GenPhase::Suspended;
        return true;
    }
    return false;
}

bool suspended_position(const CodeAnalysis &code, int position, int *depth, std::string &why)
{
    const int idx = yield_index(code, position);
    if (idx < 0 || code.at(idx).op != YIELD_VALUE || code.at(idx).depth < 1) {
        why = "a suspended generator's position is not at a yield";
        return false;
    }
    *depth = code.at(idx).depth - 1; // the yielded value has left the stack
    return true;
}

void patch_generator(PyObject *gen, PyObject *const *localsplus, PyObject *const *stack,
                     int nstack, int position, int raw_state, PyObject *exc)
{
    Frame *f = generator_frame(gen);
    PyCodeObject *co = frame_code(f);
    write_slots(f, co, localsplus, stack, nstack);
    if (is_suspended_state(raw_state)) {
        set_suspended_position(f, co, position);
        as_gen(gen)->gi_frame_state = static_cast<int8_t>(raw_state);
    }
    Py_XSETREF(as_gen(gen)->gi_exc_state.exc_value, Py_XNewRef(exc));
}

// ---- evaluation ------------------------------------------------------------------------------

Frame *link_current(PyThreadState *tstate, Frame *f)
{
    Frame *&current = current_frame_slot(tstate);
    Frame *previous = current;
    f->previous = previous;
    current = f;
    return previous;
}

void unlink_current(PyThreadState *tstate, Frame *previous)
{
    current_frame_slot(tstate) = previous;
}

EvalFunc get_eval_func()
{
    return _PyInterpreterState_GetEvalFrameFunc(PyInterpreterState_Get());
}
void set_eval_func(EvalFunc fn) { _PyInterpreterState_SetEvalFrameFunc(PyInterpreterState_Get(), fn); }
PyObject *eval_default(PyThreadState *tstate, Frame *f, int throwflag)
{
    return _PyEval_EvalFrameDefault(tstate, f, throwflag);
}
