// Capture: read the calling thread's stack, from a given depth out to the __main__
// module frame, into plain Python objects (one record per frame, outermost first).
//
// A record is the tuple (code, function-or-None, globals, localsplus, stack, call_at, entry):
//   function    for a generator's frame, the generator (or coroutine) that owns it;
//   localsplus  every fast local, cell and free variable slot (NULL as tp::null_object());
//   stack       the value stack below and including the pending call, with the call's
//               callable replaced by NULL and its arguments by None: the callable is
//               what resume puts back (the next frame's resumer), so it never travels;
//               whole, as it is, when the next frame is entered by this frame's own
//               instruction (entry "r" there);
//   call_at     code unit where the pending call instruction starts (or, for a whole
//               stack, where the instruction starts again);
//   entry       how the frame is entered from the one outside it: "c" by the call its
//               caller makes again (a resumer takes the callable's place), "i" the same
//               for an __init__ run by a class call (which gives its object back), "r" by
//               the caller's instruction made again with its whole stack (a `for` or
//               `yield from` resuming a generator, next() or send() on it, a `for` over an
//               iterator whose __next__ is Python code, an operator, subscript, attribute
//               access... or builtin whose special method runs first: special_entry.hpp),
//               's' or 'a' for a Python signal handler the interpreter ran at the
//               instruction the frame outside stands in (its call_at, whose stack is the
//               one it goes on with: 's' after that instruction, a call's result on top;
//               'a' the call it stood in made again, whole stack and all).
#pragma once
#include <Python.h>

#include <string>

namespace tp {

// The sentinel that stands for a NULL slot, borrowed.
PyObject *null_object();

// Raised (as a Python exception of this type) when the stack cannot be moved.
extern PyObject *CaptureError;

// `skip`: frames to leave out, counted from the innermost Python frame (teleporter's own
// API frames). `main_globals`: the __main__ module's dict, which marks the bottom of the
// main thread's stack. `entry`: NULL for the main thread; for another thread, the code of
// teleporter's own entry of a thread it started (or None): its stack ends at the function
// the thread started with.
PyObject *capture_stack(int skip, PyObject *main_globals, PyObject *entry = nullptr);

// The program's Python signal handlers (a frozenset of their code objects) and the C
// callables that run handlers themselves, by what a frame calling one does once the
// handler has returned: made again (time.sleep, a lock's acquire) or given None
// (os.kill). Captures read them; false with TypeError on other arguments.
bool set_signal_context(PyObject *handler_codes, PyObject *made_again, PyObject *return_none);

// The exception the calling thread handles outside any running generator (new reference).
PyObject *base_handled_exception();

// Another thread's stack, parked or blocked by park_threads(), as the tuple
// (records, handled exception, parked, call). Its innermost record keeps the whole value
// stack and `call_at` is where it starts again: the next instruction of a parked thread,
// the call of a blocked one (made again with the same callable and arguments). `call`
// is None for a parked thread, else (callable, args_begin, args_end, kwnames): the
// callable (functions unwrapped from bound methods), the stack slots of its arguments
// and the names of the last of them passed by keyword (a tuple, or None). `main_thread`: the chain ends at __main__'s module frame, else at the
// function the thread started with (the one called by `entry`'s code, when the thread
// was started by a resume: teleporter's entry, which does not travel).
PyObject *capture_thread(unsigned long ident, PyObject *main_globals, bool main_thread,
                         PyObject *entry);

// Whether capture_thread() would take the calling thread `ts` (parked at a line, from the
// trace function) where it stands now; when not, `why` receives the refusal. Other
// failures (an exception other than a refusal) count as capturable: the capture itself
// reports them. Keeps the thread's exception state.
bool capturable_here(PyThreadState *ts, PyObject *main_globals, bool main_thread,
                     PyObject *entry, std::string *why);
// A generator or coroutine, as the tuple
// (code, function, globals, phase, raw_state, position, localsplus, stack, exception):
// phase is "created", "suspended", "finished" (then only code, function and globals
// are meaningful) or "running" (its frame travels in the record of a moving stack; only
// its handled exception here).
PyObject *capture_generator(PyObject *gen);

}  // namespace tp
