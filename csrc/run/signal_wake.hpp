// Signals that ask for a checkpoint (`teleporter run`, checkpoint_on): the Python-level
// handler is signal_wake, a builtin (no Python frame of teleporter's runs in the main
// thread), which starts a new thread to call the registered callback with the signal's
// number. No thread of teleporter's exists before a signal comes: the program's own view
// of its process (its thread count, fork()'s warning about threads) is unchanged.
#pragma once
#include <Python.h>

namespace tp {

// signal_wake(signum, frame): the handler. In a child forked from the process that set
// the callback, it does what the signal does by default.
PyObject *signal_wake(PyObject *self, PyObject *args);
// forward_signal(signum), after signal.signal(signum, signal_wake): the C-level action
// becomes one that forwards to Python's in this process, and in a child forked from it
// does the default action at once. A later signal.signal() for it replaces both.
PyObject *forward_signal(PyObject *self, PyObject *arg);
// die_by_signal(signum): the signal's default action, from any thread (the process ends
// as the signal would have ended it without teleporter).
PyObject *die_by_signal(PyObject *self, PyObject *arg);
// Registers the callback (None: none; a signal is then ignored) for this process.
PyObject *set_wake_callback(PyObject *self, PyObject *callback);
// hold_signals(fd, signums): a move's guard, from any thread. The C-level action of each
// signal becomes one that writes its number to `fd` (non-blocking) and nothing else:
// Python's handler table and wakeup fd are left as they are, so that the program's
// dispositions read as its own meanwhile. unhold_signals() puts the saved actions back.
PyObject *hold_signals(PyObject *self, PyObject *args);
PyObject *unhold_signals(PyObject *self, PyObject *unused);

}  // namespace tp
