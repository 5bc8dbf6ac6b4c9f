// Parking: bring every other thread of the program to a point where its stack can be read.
//
// A thread is readable when it is
//   parked:  inside teleporter's trace function at a `line` event, i.e. between two
//            instructions with its stack pointer saved, waiting (without the GIL) until
//            it is released; or
//   blocked: inside a C call made by its innermost frame's call instruction, waiting in a
//            system call that is not the GIL's (a lock, a sleep): the call's callable and
//            arguments are alive on the frame's value stack until the call returns, and
//            the call cannot return into Python while the capturing thread holds the GIL.
// A thread waiting for the GIL is neither: it may have just returned from a call (its
// stack no longer holds the operands the frame shows) or be between instructions with
// no saved stack pointer. It gets a slice of time instead, reaches a line and parks.
//
// While threads are parked the capturing thread must not let a blocked one run: it keeps
// the GIL until the capture is serialised, with the switch interval raised so that a
// waiter cannot ask for it.
#pragma once
#include <Python.h>

namespace tp {

// Parks every thread but the calling one and those whose ident is in `exempt` (a set, or
// None), giving up after `timeout` seconds. Returns a list of dicts, one per thread:
//   ident, native_id, state ("parked", "blocked" or "running": did not settle in time),
//   syscall (the system call a blocked thread waits in: "futex", "clock_nanosleep", a
//   number, or None), remaining (seconds left of its wait's deadline, or None), refused
//   (for a thread that ran on: why the capture would refuse it where it last stood, or
//   None).
// `check`: null, or what capture_thread() is given: a thread then parks only at a line
// where that capture would take it, and runs on past the others (a generator that native
// code drives, a function that native code called: it stands there only for a while).
// When every thread has settled, the switch interval is raised (so that a blocked thread
// whose call ends cannot ask for the GIL); the caller puts the program's back once the
// capture is serialised. The threads stay parked until unpark_threads().
struct ParkCheck {
    PyObject *main_globals;   // __main__'s dict (borrowed)
    unsigned long main_ident; // the main thread's ident, when it is parked too (else 0)
    PyObject *entry;          // a resume's thread entry code, or None (borrowed)
};
PyObject *park_threads(double timeout, PyObject *exempt, const ParkCheck *check);
// Lets parked threads run again and removes the trace function (restoring each thread's
// own, a debugger's or coverage's, where the version allows; else the thread restores
// its own at its next event). Idempotent.
PyObject *unpark_threads();

// Whether every thread that park_threads() reported blocked in a wait without a timeout
// (a lock, a Condition's waiter) is still in the same system call with the same
// arguments: false when one's wait ended meanwhile (what it waited for was let go just
// before it was parked) and it took what it waited for, or even ran on to its next line
// while the capturing thread gave up the GIL for I/O.
PyObject *blocked_unchanged();
// The thread state of a thread parked or blocked by park_threads(), or NULL.
PyThreadState *parked_thread(unsigned long ident, bool *parked);
// Per-thread state of a parked or blocked thread, as that thread would read it:
// (its current contextvars.Context or None, its own trace function's object (the one
// parking replaced) or None, its profile function's object or None, its thread-state
// dict or None, its key in threading.local tables (3.13+) or None).
PyObject *parked_thread_state(unsigned long ident);

}  // namespace tp
