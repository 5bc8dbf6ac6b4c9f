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
