#include "run/signal_wake.hpp"

#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>
#include <vector>

namespace tp {

namespace {

PyObject *g_callback = nullptr; // guarded by the GIL
pid_t g_pid = 0;

// The C-level actions that Python's signal module installed for the watched signals,
// called by forward_or_default in the process that armed them.
struct sigaction g_python_action[NSIG];

void forward_or_default(int sig, siginfo_t *info, void *context)
{
    if (getpid() != g_pid) {
        // A child forked by the program: the signal does what it does by default, at
        // once (Python's own handler would run only once the child runs Python code, and
        // not at all before the child's interpreter reset its signal state).
        signal(sig, SIG_DFL);
        raise(sig); // delivered when this handler returns (the signal is blocked in it)
        return;
    }
    const struct sigaction &a = g_python_action[sig];
    if (a.sa_flags & SA_SIGINFO) {
        a.sa_sigaction(sig, info, context);
    }
    else if (a.sa_handler != SIG_DFL && a.sa_handler != SIG_IGN) {
        a.sa_handler(sig);
    }
}

// How long the program waits for the checkpoint's thread to start, at most.
constexpr PY_TIMEOUT_T kStartTimeoutUs = 10 * 1000 * 1000;

struct Wake {
    PyObject *callback; // a strong reference, released by the thread
    int sig;
    PyThread_type_lock started; // released once the thread has its thread state
};

void wake_thread(void *p)
{
    Wake *w = static_cast<Wake *>(p);
    PyGILState_STATE st = PyGILState_Ensure();
    PyThread_release_lock(w->started); // owned by signal_wake from now on
    PyObject *r = PyObject_CallFunction(w->callback, "i", w->sig);
    if (!r) {
        PyErr_WriteUnraisable(w->callback);
    }
    Py_XDECREF(r);
    Py_DECREF(w->callback);
    delete w;
    PyGILState_Release(st);
}

// A move's guard (hold_signals): where held signals are written, and the actions they
// had before. Written only while the GIL is held and the signals are blocked in the
// calling thread; read by hold_action.
volatile sig_atomic_t g_hold_fd = -1;
pid_t g_hold_pid = 0;
struct sigaction g_unheld_action[NSIG];
bool g_holding[NSIG];

void hold_action(int sig)
{
    const int saved = errno;
    if (getpid() != g_hold_pid) {
        // A child forked meanwhile (by the program, or before its exec): the signal does
        // what it did before the hold, once this handler returns (it is blocked in it).
        sigaction(sig, &g_unheld_action[sig], nullptr);
        raise(sig);
        errno = saved;
        return;
    }
    const int fd = g_hold_fd;
    if (fd >= 0) {
        const unsigned char byte = static_cast<unsigned char>(sig);
        ssize_t n = write(fd, &byte, 1); // a full pipe: the signal is already there
        (void)n;
    }
    errno = saved;
}

}  // namespace

PyObject *signal_wake(PyObject *, PyObject *args)
{
    int sig;
    PyObject *frame;
    if (!PyArg_ParseTuple(args, "iO:signal_wake", &sig, &frame)) {
        return nullptr;
    }
    if (getpid() != g_pid) {
        // A forked child (a process pool's worker) inherited the handler: the signal does
        // what it does by default there.
        PyOS_setsig(sig, SIG_DFL);
        raise(sig);
        Py_RETURN_NONE;
    }
    if (!g_callback) {
        Py_RETURN_NONE;
    }
    PyThread_type_lock started = PyThread_allocate_lock();
    if (!started) {
        return PyErr_NoMemory();
    }
    PyThread_acquire_lock(started, WAIT_LOCK);
    Wake *w = new Wake{Py_NewRef(g_callback), sig, started};
    if (PyThread_start_new_thread(wake_thread, w) == PYTHREAD_INVALID_THREAD_ID) {
        Py_DECREF(w->callback);
        delete w;
        PyThread_free_lock(started);
        // Said, not raised: an exception would come out of the program's own code.
        PySys_WriteStderr("teleporter: no checkpoint on signal %d: cannot start a thread\n", sig);
        Py_RETURN_NONE;
    }
    // The program goes on once the thread has its thread state: made while the main thread
    // is here, never while the interpreter finalizes (a signal in a program's last
    // moments: PyGILState_Ensure there crashed 3.14), and the thread is then one the
    // interpreter knows, which its shut-down stops safely.
    PyLockStatus got;
    Py_BEGIN_ALLOW_THREADS
    got = PyThread_acquire_lock_timed(started, kStartTimeoutUs, 0);
    Py_END_ALLOW_THREADS
    if (got == PY_LOCK_ACQUIRED) {
        PyThread_free_lock(started);
    } // else left to the thread, which releases it late (never freed: a few bytes)
    Py_RETURN_NONE;
}

PyObject *forward_signal(PyObject *, PyObject *arg)
{
    const long sig = PyLong_AsLong(arg);
    if (sig == -1 && PyErr_Occurred()) {
        return nullptr;
    }
    if (sig <= 0 || sig >= NSIG) {
        PyErr_Format(PyExc_ValueError, "signal number %ld out of range", sig);
        return nullptr;
    }
    struct sigaction current;
    if (sigaction(static_cast<int>(sig), nullptr, &current) != 0) {
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    if (current.sa_flags & SA_SIGINFO && current.sa_sigaction == forward_or_default) {
        Py_RETURN_NONE; // already
    }
    g_python_action[sig] = current;
    struct sigaction ours = current; // the same flags (EINTR as Python has it) and mask
    ours.sa_flags |= SA_SIGINFO;
    ours.sa_sigaction = forward_or_default;
    if (sigaction(static_cast<int>(sig), &ours, nullptr) != 0) {
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    Py_RETURN_NONE;
}

PyObject *die_by_signal(PyObject *, PyObject *arg)
{
    const long sig = PyLong_AsLong(arg);
    if (sig == -1 && PyErr_Occurred()) {
        return nullptr;
    }
    PyOS_setsig(static_cast<int>(sig), SIG_DFL);
    kill(getpid(), static_cast<int>(sig));
    Py_RETURN_NONE; // a signal whose default is to be ignored
}

PyObject *hold_signals(PyObject *, PyObject *args)
{
    int fd;
    PyObject *signums;
    if (!PyArg_ParseTuple(args, "iO:hold_signals", &fd, &signums)) {
        return nullptr;
    }
    PyObject *seq = PySequence_Fast(signums, "hold_signals: expected a sequence of signals");
    if (!seq) {
        return nullptr;
    }
    std::vector<int> sigs;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); ++i) {
        const long sig = PyLong_AsLong(PySequence_Fast_GET_ITEM(seq, i));
        if (sig == -1 && PyErr_Occurred()) {
            Py_DECREF(seq);
            return nullptr;
        }
        if (sig <= 0 || sig >= NSIG) {
            Py_DECREF(seq);
            PyErr_Format(PyExc_ValueError, "signal number %ld out of range", sig);
            return nullptr;
        }
        sigs.push_back(static_cast<int>(sig));
    }
    Py_DECREF(seq);
    struct sigaction ours;
    std::memset(&ours, 0, sizeof ours);
    ours.sa_handler = hold_action;
    sigemptyset(&ours.sa_mask);
    for (int sig : sigs) {
        sigaddset(&ours.sa_mask, sig); // one at a time into the pipe
    }
    // Interrupted system calls go on: the guard's watcher sees the signal in the pipe.
    ours.sa_flags = SA_RESTART | SA_ONSTACK;
    g_hold_fd = fd;
    g_hold_pid = getpid();
    for (int sig : sigs) {
        if (g_holding[sig]) {
            continue;
        }
        if (sigaction(sig, &ours, &g_unheld_action[sig]) != 0) {
            return PyErr_SetFromErrno(PyExc_OSError);
        }
        g_holding[sig] = true;
    }
    Py_RETURN_NONE;
}

PyObject *unhold_signals(PyObject *, PyObject *)
{
    for (int sig = 1; sig < NSIG; ++sig) {
        if (!g_holding[sig]) {
            continue;
        }
        g_holding[sig] = false;
        struct sigaction current;
        // One the program set meanwhile (signal.signal() from another thread) stays.
        if (sigaction(sig, nullptr, &current) == 0 && !(current.sa_flags & SA_SIGINFO) &&
            current.sa_handler == hold_action) {
            sigaction(sig, &g_unheld_action[sig], nullptr);
        }
    }
    g_hold_fd = -1;
    Py_RETURN_NONE;
}

PyObject *set_wake_callback(PyObject *, PyObject *callback)
{
    Py_CLEAR(g_callback);
    if (callback != Py_None) {
        g_callback = Py_NewRef(callback);
        g_pid = getpid();
    }
    Py_RETURN_NONE;
}

}  // namespace tp
