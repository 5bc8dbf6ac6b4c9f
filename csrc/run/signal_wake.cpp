#include "run/signal_wake.hpp"

#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include <vector>

namespace tp {

namespace {

volatile sig_atomic_t g_fd = -1;
volatile pid_t g_pid = 0;

struct Saved {
    int sig;
    struct sigaction action;
};
std::vector<Saved> g_saved; // changed with the GIL held, never from the handler

void on_signal(int sig)
{
    const int saved_errno = errno;
    if (getpid() != g_pid) {
        // A forked child (a process pool's worker) inherited the handler: the signal
        // does what it does by default.
        signal(sig, SIG_DFL);
        raise(sig);
        errno = saved_errno;
        return;
    }
    const unsigned char byte = static_cast<unsigned char>(sig);
    if (g_fd >= 0) {
        ssize_t n = write(g_fd, &byte, 1); // a full pipe already has a pending wake-up
        (void)n;
    }
    errno = saved_errno;
}

}  // namespace

PyObject *remove_signal_wake()
{
    for (const Saved &s : g_saved) {
        sigaction(s.sig, &s.action, nullptr);
    }
    g_saved.clear();
    g_fd = -1;
    Py_RETURN_NONE;
}

PyObject *install_signal_wake(int fd, PyObject *signals)
{
    std::vector<int> sigs;
    PyObject *it = PyObject_GetIter(signals);
    if (!it) {
        return nullptr;
    }
    while (PyObject *item = PyIter_Next(it)) {
        const long sig = PyLong_AsLong(item);
        Py_DECREF(item);
        if (sig == -1 && PyErr_Occurred()) {
            Py_DECREF(it);
            return nullptr;
        }
        if (sig <= 0 || sig >= NSIG || sig == SIGKILL || sig == SIGSTOP) {
            Py_DECREF(it);
            PyErr_Format(PyExc_ValueError, "signal number %ld cannot be caught", sig);
            return nullptr;
        }
        sigs.push_back(static_cast<int>(sig));
    }
    Py_DECREF(it);
    if (PyErr_Occurred()) {
        return nullptr;
    }
    PyObject *r = remove_signal_wake();
    Py_XDECREF(r);
    g_pid = getpid();
    g_fd = fd;
    struct sigaction act = {};
    act.sa_handler = on_signal;
    act.sa_flags = SA_RESTART; // the program's system calls go on as if nothing came
    sigemptyset(&act.sa_mask);
    for (int sig : sigs) {
        Saved s{sig, {}};
        if (sigaction(sig, &act, &s.action) != 0) {
            PyErr_SetFromErrno(PyExc_OSError);
            r = remove_signal_wake();
            Py_XDECREF(r);
            return nullptr;
        }
        g_saved.push_back(s);
    }
    Py_RETURN_NONE;
}

}  // namespace tp
