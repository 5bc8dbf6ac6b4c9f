// Signals that ask for a checkpoint (`teleporter run`, checkpoint_on): a C handler writes
// the signal's number to a pipe that a helper thread reads. No Python code runs in the
// handler and Python's own table is untouched: signal.getsignal() says what it said, and
// a program that installs a handler of its own for one of these signals replaces this
// one, as it would replace the default.
#pragma once
#include <Python.h>

namespace tp {

// Installs the handler for each signal number in `signals` (an iterable of ints), writing
// to `fd` (non-blocking). In a child forked from this process, the handler acts as the
// default action (the signal is not the program's to checkpoint there).
PyObject *install_signal_wake(int fd, PyObject *signals);
// Puts back the actions these signals had before install_signal_wake().
PyObject *remove_signal_wake();

}  // namespace tp
