// The one interface between the version-neutral engine and CPython's frame internals.
//
// Everything that depends on a CPython minor version's struct layouts, opcode numbers or
// calling convention is implemented once per version in adapters/cpython3XX.cpp; CMake
// compiles only the one matching the interpreter. The engine never includes internal
// CPython headers. See docs/internals/frames.md for the prose.
#pragma once
#include <Python.h>

#include <cstdint>
#include <string>

#include "stack_depth/stack_depth.hpp"

struct _PyInterpreterFrame;

namespace tp::adapter {

using tp::CodeAnalysis;

using Frame = struct ::_PyInterpreterFrame;

// "3.12" etc.: the minor version this build supports.
const char *version_name();

// Compares the compiled-in layout with the running interpreter. Returns false and fills
// `why` (one line) when the interpreter is not the one this build knows.
bool check_layout(std::string &why);

// ---- walking (capture) -----------------------------------------------------------------

// Innermost complete Python frame of the thread, or NULL.
Frame *current_frame(PyThreadState *tstate);
// Next complete frame outward. *entered_from_native is set when `f` was entered from C
// (its caller made a C call that ended up evaluating `f`), i.e. there is a native
// boundary between `f` and the returned frame.
Frame *outer_frame(Frame *f, bool *entered_from_native);
bool is_generator_frame(Frame *f);
// The generator, coroutine or async generator that owns the generator frame `f` (borrowed).
PyObject *frame_generator(Frame *f);

PyCodeObject *frame_code(Frame *f);       // borrowed
PyObject *frame_function(Frame *f);       // borrowed, may be NULL
PyObject *frame_globals(Frame *f);        // borrowed
PyObject *frame_locals_mapping(Frame *f); // borrowed, may be NULL (f_locals)
// Code-unit index of the instruction pointer, normalised so that it lies inside the
// instruction being executed (possibly on one of its inline caches).
int frame_position(Frame *f);
// Slot `i` of the frame's locals-plus-stack array (locals, cells, then the value stack),
// borrowed; NULL when empty. Reading a stack slot is valid only below the live depth.
PyObject *frame_slot(Frame *f, int i);

// The frame a frame object stands for (its f_frame), or NULL when it has none.
Frame *object_frame(PyObject *frame_object);
// Replaces slot `i` of a frame's fast locals (a new reference is taken; NULL empties it).
void set_local(Frame *f, int i, PyObject *value);

// ---- calls -----------------------------------------------------------------------------

// How the value stack of a frame looks while an instruction that calls something is
// pending, and how to re-execute that call.
struct CallShape {
    int restart = -1;       // code-unit index at which to re-execute the call
    int depth = -1;         // stack items live at `restart`
    int callable_slot = -1; // stack index (from the stack base) of the callable
    int null_slot = -1;     // stack index that must hold NULL ("self or NULL")
    int args_begin = 0;     // [args_begin, args_end): positional/keyword argument slots
    int args_end = 0;
    int callargs_slot = -1; // CALL_FUNCTION_EX: the tuple of positional arguments
    int kwargs_slot = -1;   // CALL_FUNCTION_EX with a mapping: the dict of keywords
    // The names of the last keyword arguments in [args_begin, args_end): a constant of the
    // code (KW_NAMES, 3.11/3.12) or a stack slot (CALL_KW, 3.13+); -1 when none.
    int kwnames_const = -1;
    int kwnames_slot = -1;
    const char *opname = "";
};

// Describes the call pending at instruction `index` of `code` (the instruction the frame
// is suspended in). Returns false with `why` (one line) when that instruction is not a
// call teleporter can re-execute.
bool call_shape(const CodeAnalysis &code, int index, CallShape *out, std::string &why);

// The object actually called by the pending call (functions unwrapped from bound
// methods), borrowed; NULL if it cannot be told.
PyObject *pending_callee(const CallShape &shape, PyObject *const *stack);

// The callable of a pending call as the instruction calls it, and the `self` the
// instruction passes before the arguments when it is a method call (else NULL). Only the
// slots' values are read, never the objects: a slot the instruction has already consumed
// may be compared, not dereferenced.
void pending_call(const CallShape &shape, PyObject *const *stack, PyObject **callable,
                  PyObject **self);

// Instructions that resume the iterator (or generator, or coroutine) on their value stack
// themselves: `for` (FOR_ITER) and `yield from`/`await` (SEND, the value sent on top).
// `below` counts the slots from the top of the stack down to the driven object (1: the
// top slot); a sent value, when there is one, is the top slot.
enum class Drive { None, ForIter, Send };
struct Driven {
    Drive kind;
    int below;
};
Driven drive_kind(const CodeAnalysis &code, int index);

// The context manager a frame is entering, borrowed, when instruction `index` of `code` is
// the one that calls `__enter__` (BEFORE_WITH) and the frame waits inside that call;
// NULL otherwise. `top` is the frame's top stack slot, as the instruction left it while
// `__enter__` runs (the bound `__exit__` on 3.11, the manager itself after).
PyObject *entering_manager(const CodeAnalysis &code, int index, PyObject *top);

// Instructions that call special methods of objects on their value stack through the
// objects' types: operators, comparisons, `in`, subscripts, attribute access, truth
// tests, iter(), f-string conversions and formatting, and the call of a `with`
// statement's __exit__ with the exception leaving its block.
enum class Special {
    None,
    Binary,   // arg: the NB_* operator (NB_INPLACE_* for an augmented assignment)
    Compare,  // arg: Py_LT ... Py_GE
    Contains, // subject: the container
    GetItem,  // subject: the container (also for a slice)
    SetItem,
    DelItem,
    Unary,    // arg: 0 negative, 1 invert, 2 positive
    Truth,
    GetAttr,  // arg: the name's index in co_names
    SetAttr,
    DelAttr,
    Iter,
    Convert,  // arg: 1 str(), 2 repr(), 3 ascii()
    Format,   // other: the format spec, or -1 for none
    Exit,     // subject: __exit__ (bound), or its function with its self in `other`
};
struct SpecialCall {
    Special kind = Special::None;
    int arg = 0;
    int subject = -1; // stack index (from the base) of the object consulted first
    int other = -1;   // the second operand (Binary, Compare), the spec (Format), Exit's self
};
// What instruction `index` of `code` calls, when it is one of those.
SpecialCall special_call(const CodeAnalysis &code, int index);
// Stack items live in a frame whose callee is a Python frame it pushed itself (a call the
// interpreter inlined, not one entered from C): the depth it saved when it pushed it.
int saved_stack_depth(Frame *f);

// ---- signal handlers ----------------------------------------------------------------------
// The interpreter runs a Python signal handler between two instructions of the frame it
// interrupts (its eval breaker: after a backward jump, at a RESUME, at the end of a call),
// or from inside a C function the frame calls that runs pending handlers itself (os.kill,
// time.sleep, a lock's acquire...).

// Where a frame standing in instruction `index` while a handler runs goes on once the
// handler has returned: `resume` (a code unit) with `depth` stack items; `call` when the
// instruction is a call (whose result, if it returned, is the top item there). False
// when the interpreter runs no handler at that instruction.
struct BreakerSite {
    int resume = -1;
    int depth = -1;
    bool call = false;
};
bool breaker_site(const CodeAnalysis &code, int index, BreakerSite *out);

// Whether the call of `shape` that frame `f` stands in while a handler runs is still
// running (the C function called the handler) or has returned (its result at the bottom
// of the call's slots, the others consumed), told from `stack` (the frame's slots from
// the stack base, read as values: a consumed slot is never dereferenced) or, where the
// version saves it, from the frame's stack pointer. Either: it cannot be told from the
// frame (a callable at the bottom slot, which may be the call's or its result).
enum class CallState { Running, Returned, Either };
CallState call_state(Frame *f, const CallShape &shape, PyObject *const *stack, int returned_depth);

// Positions the frame so that it stands in the instruction at code unit `unit`, the
// position the frame reported while the handler ran (f_lasti, f_lineno).
void stand_in(Frame *f, int unit);
// Positions it so that, evaluated with an exception raised (throwflag), it raises that
// exception in instruction `index` (at `unit`), as the instruction does when a handler it
// ran raised: the same traceback line and the same exception handler.
void raise_in(Frame *f, const CodeAnalysis &code, int index, int unit);
// Positions it so that it runs the instruction at code unit `unit` next.
void go_on_at(Frame *f, int unit);

// ---- generators and coroutines -----------------------------------------------------------

enum class GenPhase { Created, Suspended, Running, Finished };

// `gen` is a generator or coroutine object (checked by the caller).
GenPhase generator_phase(PyObject *gen);
int generator_raw_state(PyObject *gen);      // gi_frame_state, as the version numbers it
void set_generator_exception(PyObject *gen, PyObject *exc); // its own handled exception
Frame *generator_frame(PyObject *gen);       // its frame (meaningless once Finished)
PyObject *generator_exception(PyObject *gen); // borrowed gi_exc_state value, may be NULL
bool generator_running_async(PyObject *gen);   // an async generator inside asend/athrow
// Stack items of a suspended generator's frame (its stacktop is valid while suspended).
int generator_saved_depth(PyObject *gen);
// Validates a travelling generator state: the phase it denotes, or false.
bool generator_state_phase(int raw_state, GenPhase *phase);
// Checks that `position` (as frame_position reports it for a suspended generator) is just
// at a yield of `code`, and gives the stack depth the generator keeps there.
bool suspended_position(const CodeAnalysis &code, int position, int *depth, std::string &why);
// Fills a fresh, never-started generator `gen` with saved state. For Suspended, the frame
// resumes at `position`; for Created only the locals are written.
void patch_generator(PyObject *gen, PyObject *const *localsplus, PyObject *const *stack,
                     int nstack, int position, int raw_state, PyObject *exc);

// ---- resume ----------------------------------------------------------------------------

// Overwrites a freshly pushed frame (never evaluated yet) with saved state:
// `localsplus` holds co_nlocalsplus values, `stack` `nstack` values (NULL allowed,
// new references are taken), and the frame will start at code-unit index `restart`.
void patch_frame(Frame *f, PyObject *const *localsplus, PyObject *const *stack, int nstack,
                 int restart);

// Makes `f` (pushed and patched, not evaluated yet) the thread's current frame until
// unlink_current: Python code called meanwhile has it as its caller (sys._getframe), and
// what instruments the running frames (sys.settrace, sys.monitoring) reaches it. Every
// evaluation links its frame to the current one again on entry, so nothing is left
// behind. Returns the frame that was current.
Frame *link_current(PyThreadState *tstate, Frame *f);
void unlink_current(PyThreadState *tstate, Frame *previous);

using EvalFunc = PyObject *(*)(PyThreadState *, Frame *, int);
EvalFunc get_eval_func();
void set_eval_func(EvalFunc fn); // NULL restores the default evaluator
PyObject *eval_default(PyThreadState *tstate, Frame *f, int throwflag);

// ---- recursion budgets ------------------------------------------------------------------
// Replay nests one C call per rebuilt frame where the original program's Python calls
// were inlined: it spends native recursion that the program did not. Versions that count
// native recursion (3.11-3.13) give it back for as long as each rebuilt frame runs;
// versions whose limit is the thread's real C stack (3.14+) have no count to give back:
// there the destination grows its stack limit first (_state._reserve_stack) and
// prepare_native_stack() re-reads the thread's stack bounds.

// Called once before a replay starts.
void prepare_native_stack(PyThreadState *tstate);
// Native recursion left, in the version's own units (0 where there is no counter).
long native_budget(PyThreadState *tstate);
// Adds `units` to the native budget (negative: takes them back); no effect where the
// limit is the real C stack.
void native_credit(PyThreadState *tstate, long units);
// What entering one replayed frame costs on the native budget beyond what the resumer
// measured before the eval hook ran (the evaluator's own entry), measured per version.
extern const long kReplayEntryCost;
// Python frames charged against the recursion limit now, and a credit (negative: debit)
// to that count.
int python_depth(PyThreadState *tstate);
void python_credit(PyThreadState *tstate, int units);

// ---- other threads -----------------------------------------------------------------------

// Sets the C trace function of thread state `ts` (as sys.settrace does for the calling
// thread). Returns false, doing nothing, when this version cannot set another thread's
// (3.13 exports no such function): then only ts == the calling thread works.
bool set_thread_trace(PyThreadState *ts, Py_tracefunc func, PyObject *obj);
// Sets it on every thread state of the interpreter, the calling thread's included.
void set_all_threads_trace(Py_tracefunc func, PyObject *obj);
// The key of thread state `ts` in a threading.local's table of per-thread dicts
// (borrowed), or NULL where a local keeps its per-thread dicts by weak references to the
// dummies held in ts->dict (3.11, 3.12).
PyObject *thread_local_key(PyThreadState *ts);

}  // namespace tp::adapter

// The address range of the interpreter's GIL state (its mutex and condition variables):
// a thread blocked on a futex inside it waits for the GIL (adapters/interp_state.c).
extern "C" void tp_gil_range(const void **begin, size_t *size);

// The Python-level atexit callbacks of this interpreter, in registration order: a new
// list of (func, args tuple, kwargs dict or None). The atexit module has no way to list
// them; interp->atexit holds them. In C (adapters/interp_state.c): 3.11's internal
// headers use C11 atomics that C++ cannot include.
extern "C" PyObject *tp_atexit_callbacks(void);

// contextvars.Token's state that Python cannot read or set (adapters/interp_state.c).
extern "C" int tp_token_used(PyObject *token);
extern "C" PyObject *tp_token_context(PyObject *token, PyObject *ctx);
extern "C" PyObject *tp_current_context(void);
extern "C" int tp_token_restore(PyObject *token, PyObject *old_value, int used);

// The context that was current before the outermost Context.run still running entered
// `ctx` (NULL: this thread's current context), as a new reference; None when `ctx` is not
// entered; a new empty context when the thread had none before (adapters/interp_state.c).
extern "C" PyObject *tp_outer_context(PyObject *ctx);

// The flag CPython sets when a KeyboardInterrupt ends code run from a string (exec, eval,
// PyRun_String), caught afterwards or not, and reads when the program ends: set, the
// interpreter kills itself with SIGINT instead of exiting with its code
// (adapters/interp_state.c).
extern "C" int *tp_unhandled_keyboard_interrupt(void);
