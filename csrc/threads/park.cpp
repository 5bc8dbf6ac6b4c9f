#include "threads/park.hpp"

#include <frameobject.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "adapters/frame_adapter.hpp"
#include "capture/capture.hpp"
#include "pyutil/refs.hpp"

namespace tp {

namespace {

struct Entry {
    PyThreadState *ts = nullptr;
    unsigned long ident = 0;
    unsigned long native_id = 0;
    Py_tracefunc prev_func = nullptr; // the thread's own trace function, restored after
    Ref prev_obj;
    bool parked = false; // guarded by Park::mu
    bool restore_pending = false; // restores its own trace at its next event
    // Last observation of a thread that is not parked.
    enum class Seen { Running, Gil, Blocked } seen = Seen::Running;
    long syscall = -1;
    unsigned long args[6] = {};
    bool reported_blocked = false; // park_threads() reported it blocked in `syscall`
    // Why it did not park at its last line: the capture would refuse it there (with the
    // GIL held; read by park_threads with the GIL too).
    std::string refused;
    // In which frame, and when: the same frame is looked at again only after
    // kRecheckRefused (the refusal of a generator that native code drives lasts as long as
    // its frame; looking again at each of its lines would slow the thread down tenfold).
    const void *refused_frame = nullptr;
    std::chrono::steady_clock::time_point refused_at;
};

constexpr auto kRecheckRefused = std::chrono::milliseconds(1);

struct Park {
    std::mutex mu;
    std::condition_variable cv;
    bool requested = false; // guarded by mu (written with the GIL held too)
    unsigned long generation = 0;
    PyThreadState *owner = nullptr;
    Py_tracefunc owner_prev = nullptr;
    Ref owner_prev_obj;
    std::vector<std::unique_ptr<Entry>> entries; // changed only with the GIL held
    // A thread parks only where its capture would take it (park_threads' `check`): the
    // __main__ module's dict, the main thread's ident, the entry code of a thread a
    // resume started. Unset: it parks at its next line. Guarded by the GIL.
    Ref check_globals;
    unsigned long check_main = 0;
    Ref check_entry;
};

Park &park_state()
{
    static Park *p = new Park(); // never freed: parked threads may outlive a module
    return *p;
}

Entry *find(Park &g, PyThreadState *ts)
{
    for (auto &e : g.entries) {
        if (e->ts == ts) {
            return e.get();
        }
    }
    return nullptr;
}

int park_trace(PyObject *, PyFrameObject *, int what, PyObject *);

// Puts back the calling thread's own trace function (none if it had none).
void restore_own(Park &g, PyThreadState *ts)
{
    Entry *e = find(g, ts);
    Py_tracefunc func = e ? e->prev_func : nullptr;
    PyObject *obj = e ? e->prev_obj.get() : nullptr;
    if (e) {
        e->restore_pending = false;
    }
    adapter::set_thread_trace(ts, func, obj);
}

int park_trace(PyObject *, PyFrameObject *, int what, PyObject *)
{
    if (what != PyTrace_LINE && what != PyTrace_OPCODE) {
        return 0;
    }
    Park &g = park_state();
    PyThreadState *ts = PyThreadState_Get();
    Entry *e = find(g, ts);
    bool requested;
    {
        std::lock_guard<std::mutex> lk(g.mu);
        requested = g.requested;
    }
    if (!requested || !e) {
        restore_own(g, ts);
        return 0;
    }
    if (g.check_globals) {
        // Not where it can be captured (inside a generator that native code drives, a
        // function native code called): it runs on to a line where it can be.
        const void *frame = adapter::current_frame(ts);
        const auto now = std::chrono::steady_clock::now();
        if (!e->refused.empty() && frame == e->refused_frame &&
            now - e->refused_at < kRecheckRefused) {
            return 0;
        }
        if (!capturable_here(ts, g.check_globals.get(), e->ident == g.check_main,
                             g.check_entry.get(), &e->refused)) {
            e->refused_frame = frame;
            e->refused_at = now;
            return 0;
        }
        e->refused.clear();
    }
    const unsigned long gen = g.generation;
    Py_BEGIN_ALLOW_THREADS
    {
        std::unique_lock<std::mutex> lk(g.mu);
        e->parked = true;
        g.cv.notify_all();
        g.cv.wait(lk, [&] { return !g.requested || g.generation != gen; });
        e->parked = false;
        g.cv.notify_all();
    }
    Py_END_ALLOW_THREADS
    if (e->restore_pending) {
        restore_own(g, ts);
    }
    return 0;
}

// What /proc says a thread of this process is doing: in a system call (its number and
// arguments) or running.
bool read_syscall(unsigned long native_id, long *nr, unsigned long args[6])
{
    char path[64];
    std::snprintf(path, sizeof path, "/proc/self/task/%lu/syscall", native_id);
    FILE *f = std::fopen(path, "re");
    if (!f) {
        return false;
    }
    char buf[256] = {};
    const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = '\0';
    if (std::strncmp(buf, "running", 7) == 0) {
        *nr = -2;
        return true;
    }
    char *p = buf;
    *nr = std::strtol(p, &p, 10);
    for (int i = 0; i < 6; i++) {
        args[i] = std::strtoul(p, &p, 16);
    }
    return true;
}

constexpr long kFutexWaitBitset = 9, kFutexClockRealtime = 256;
constexpr long kTimerAbstime = 1;

bool waits_for_gil(long nr, const unsigned long args[6])
{
    if (nr != SYS_futex) {
        return false;
    }
    const void *gil;
    size_t size;
    tp_gil_range(&gil, &size);
    const auto begin = reinterpret_cast<uintptr_t>(gil);
    return args[0] >= begin && args[0] < begin + size;
}

// Seconds left until the absolute deadline `ts` on clock `clock`, or -1 when it does not
// look like one (the waiting thread owns that memory; a thread that has just left the
// system call may have reused it: a value out of range is ignored).
double remaining_until(const unsigned long addr, clockid_t clock)
{
    if (!addr) {
        return -1;
    }
    timespec deadline;
    std::memcpy(&deadline, reinterpret_cast<const void *>(addr), sizeof deadline);
    if (deadline.tv_nsec < 0 || deadline.tv_nsec >= 1000000000L || deadline.tv_sec < 0) {
        return -1;
    }
    timespec now;
    clock_gettime(clock, &now);
    const double left = static_cast<double>(deadline.tv_sec - now.tv_sec) +
                        static_cast<double>(deadline.tv_nsec - now.tv_nsec) * 1e-9;
    return left < 0 ? 0.0 : left;
}

// The time left of a blocked thread's wait, when it waits for an absolute deadline
// (time.sleep, a lock acquired with a timeout): -1 when it has none or cannot be told.
double remaining_time(const Entry &e)
{
    if (e.syscall == SYS_clock_nanosleep && (e.args[1] & kTimerAbstime)) {
        return remaining_until(e.args[2], static_cast<clockid_t>(e.args[0]));
    }
    if (e.syscall == SYS_futex && (e.args[1] & 127) == kFutexWaitBitset) {
        return remaining_until(e.args[3], (e.args[1] & kFutexClockRealtime) ? CLOCK_REALTIME
                                                                            : CLOCK_MONOTONIC);
    }
    return -1; // FUTEX_WAIT's timeout is relative: its start is unknown
}

bool exempted(PyObject *exempt, unsigned long ident)
{
    if (!exempt || exempt == Py_None) {
        return false;
    }
    Ref key = Ref::steal(PyLong_FromUnsignedLong(ident));
    const int r = key ? PySet_Contains(exempt, key.get()) : -1;
    PyErr_Clear();
    return r == 1;
}

// Brings the table up to date with the interpreter's thread states: new threads get the
// trace function, ended ones leave. Holds the GIL (thread states are linked and unlinked
// only by threads holding it).
void refresh(Park &g, PyObject *exempt)
{
    PyThreadState *me = PyThreadState_Get();
    std::vector<PyThreadState *> live;
    bool added = false;
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(me->interp); ts;
         ts = PyThreadState_Next(ts)) {
        if (ts == me || exempted(exempt, ts->thread_id)) {
            continue;
        }
        live.push_back(ts);
        if (find(g, ts)) {
            continue;
        }
        auto e = std::make_unique<Entry>();
        e->ts = ts;
        e->ident = ts->thread_id;
        e->native_id = ts->native_thread_id;
        e->prev_func = ts->c_tracefunc;
        e->prev_obj = Ref::borrow(ts->c_traceobj);
        if (!adapter::set_thread_trace(ts, park_trace, nullptr)) {
            added = true; // set below, with every thread's
        }
        g.entries.push_back(std::move(e));
    }
    if (added) {
        adapter::set_all_threads_trace(park_trace, nullptr);
        adapter::set_thread_trace(me, g.owner_prev, g.owner_prev_obj.get());
    }
    std::lock_guard<std::mutex> lk(g.mu);
    for (size_t i = 0; i < g.entries.size();) {
        bool found = false;
        for (PyThreadState *ts : live) {
            found = found || ts == g.entries[i]->ts;
        }
        if (!found && !g.entries[i]->parked) {
            g.entries.erase(g.entries.begin() + static_cast<std::ptrdiff_t>(i));
        }
        else {
            i++;
        }
    }
}

// Observes every thread once (with the GIL held); true when each is parked or blocked.
bool observe(Park &g)
{
    bool settled = true;
    std::lock_guard<std::mutex> lk(g.mu);
    for (auto &e : g.entries) {
        if (e->parked) {
            continue;
        }
        long nr = -1;
        unsigned long args[6] = {};
        if (!read_syscall(e->native_id, &nr, args) || nr < 0) {
            e->seen = Entry::Seen::Running;
            settled = false;
            continue;
        }
        if (waits_for_gil(nr, args)) {
            e->seen = Entry::Seen::Gil;
            settled = false;
            continue;
        }
        // The same system call, with the same arguments, as last time: not a thread
        // passing through one on its way elsewhere.
        const bool same = e->seen == Entry::Seen::Blocked && e->syscall == nr &&
                          std::memcmp(e->args, args, sizeof args) == 0;
        e->seen = Entry::Seen::Blocked;
        e->syscall = nr;
        std::memcpy(e->args, args, sizeof args);
        settled = settled && same;
    }
    return settled;
}

const char *syscall_name(long nr)
{
    switch (nr) {
    case SYS_futex: return "futex";
    case SYS_clock_nanosleep: return "clock_nanosleep";
    case SYS_nanosleep: return "nanosleep";
    case SYS_read: return "read";
    case SYS_write: return "write";
    case SYS_recvfrom: return "recvfrom";
    case SYS_sendto: return "sendto";
    case SYS_accept: return "accept";
    case SYS_accept4: return "accept4";
    case SYS_connect: return "connect";
    case SYS_poll: return "poll";
    case SYS_ppoll: return "ppoll";
    case SYS_select: return "select";
    case SYS_pselect6: return "pselect6";
    case SYS_epoll_wait: return "epoll_wait";
    case SYS_epoll_pwait: return "epoll_pwait";
    case SYS_wait4: return "wait4";
    case SYS_waitid: return "waitid";
    default: return nullptr;
    }
}

// The switch interval while threads are parked: a thread whose blocking call ends must
// not get the GIL (it waits for the capturing thread to let it go).
constexpr double kHoldInterval = 1e6;

// Sets sys.setswitchinterval (when `value` >= 0); returns the interval before, or -1 with
// an exception set. Only C runs here: no eval breaker can hand the GIL over meanwhile.
double switch_interval(double value)
{
    PyObject *sys = PyImport_ImportModule("sys");
    if (!sys) {
        return -1;
    }
    Ref mod = Ref::steal(sys);
    Ref before = Ref::steal(PyObject_CallMethod(mod.get(), "getswitchinterval", nullptr));
    if (!before) {
        return -1;
    }
    if (value >= 0) {
        Ref r = Ref::steal(PyObject_CallMethod(mod.get(), "setswitchinterval", "d", value));
        if (!r) {
            return -1;
        }
    }
    return PyFloat_AsDouble(before.get());
}

}  // namespace

PyObject *park_threads(double timeout, PyObject *exempt, const ParkCheck *check)
{
    Park &g = park_state();
    PyThreadState *me = PyThreadState_Get();
    {
        std::unique_lock<std::mutex> lk(g.mu);
        if (g.requested) {
            PyErr_SetString(PyExc_RuntimeError, "threads are already parked");
            return nullptr;
        }
        // Threads released by the last unpark leave the trace function before their
        // entries go.
        Py_BEGIN_ALLOW_THREADS
        g.cv.wait(lk, [&] {
            for (auto &e : g.entries) {
                if (e->parked) {
                    return false;
                }
            }
            return true;
        });
        Py_END_ALLOW_THREADS
        g.entries.clear();
        g.requested = true;
        g.generation++;
    }
    g.check_globals = Ref::borrow(check ? check->main_globals : nullptr);
    g.check_main = check ? check->main_ident : 0;
    g.check_entry = Ref::borrow(check ? check->entry : nullptr);
    g.owner = me;
    g.owner_prev = me->c_tracefunc;
    g.owner_prev_obj = Ref::borrow(me->c_traceobj);

    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout);
    const double interval = switch_interval(-1);
    if (interval < 0) {
        return nullptr;
    }
    for (;;) {
        refresh(g, exempt);
        if (PyErr_Occurred()) {
            return nullptr;
        }
        // Twice: a blocked thread seen in the same call on both looks. Then, once a
        // waiter can no longer ask for the GIL, a third time: a thread whose call ended
        // just before (and may ask, its wait begun with the short interval) is not
        // settled after all.
        if (observe(g) && observe(g)) {
            if (switch_interval(kHoldInterval) < 0) {
                return nullptr;
            }
            if (observe(g)) {
                break;
            }
            if (switch_interval(interval) < 0) {
                return nullptr;
            }
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            break; // unsettled: the caller gives up (and lets them go)
        }
        // A slice: threads waiting for the GIL run to their next line and park.
        Py_BEGIN_ALLOW_THREADS
        {
            std::unique_lock<std::mutex> lk(g.mu);
            g.cv.wait_for(lk, std::chrono::milliseconds(2));
        }
        Py_END_ALLOW_THREADS
    }

    Ref out = Ref::steal(PyList_New(0));
    if (!out) {
        return nullptr;
    }
    std::lock_guard<std::mutex> lk(g.mu);
    for (auto &e : g.entries) {
        const char *state = e->parked                          ? "parked"
                            : e->seen == Entry::Seen::Blocked ? "blocked"
                                                               : "running";
        e->reported_blocked = !e->parked && e->seen == Entry::Seen::Blocked;
        Ref syscall;
        if (!e->parked && e->seen == Entry::Seen::Blocked) {
            const char *name = syscall_name(e->syscall);
            syscall = Ref::steal(name ? PyUnicode_FromString(name)
                                      : PyUnicode_FromFormat("syscall %ld", e->syscall));
        }
        else if (!e->parked && e->seen == Entry::Seen::Gil) {
            syscall = Ref::steal(PyUnicode_FromString("gil"));
        }
        else {
            syscall = Ref::borrow(Py_None);
        }
        const double left =
            !e->parked && e->seen == Entry::Seen::Blocked ? remaining_time(*e) : -1;
        Ref remaining = Ref::steal(left < 0 ? Py_NewRef(Py_None) : PyFloat_FromDouble(left));
        Ref refused = Ref::steal(!e->parked && !e->refused.empty()
                                     ? PyUnicode_FromString(e->refused.c_str())
                                     : Py_NewRef(Py_None));
        Ref d = Ref::steal(Py_BuildValue("{s:k,s:k,s:s,s:O,s:O,s:O}", "ident", e->ident,
                                         "native_id", e->native_id, "state", state,
                                         "syscall", syscall.get(), "remaining",
                                         remaining.get(), "refused", refused.get()));
        if (!d || PyList_Append(out.get(), d.get()) < 0) {
            return nullptr;
        }
    }
    return out.release();
}

PyObject *blocked_unchanged()
{
    Park &g = park_state();
    std::lock_guard<std::mutex> lk(g.mu);
    for (auto &e : g.entries) {
        // Only a wait without a timeout: it ends only when what it waits for is given to
        // it (a timed wait or a sleep ending meanwhile is carried as still waiting, its
        // time left spent at the destination, as a wait timing out would have been).
        if (!e->reported_blocked || e->syscall != SYS_futex || e->args[3] != 0) {
            continue;
        }
        if (e->parked) {
            Py_RETURN_FALSE; // its call ended, it took the GIL and ran to its next line
        }
        long nr = -1;
        unsigned long args[6] = {};
        if (!read_syscall(e->native_id, &nr, args) || nr != e->syscall ||
            std::memcmp(e->args, args, sizeof args) != 0) {
            Py_RETURN_FALSE;
        }
    }
    Py_RETURN_TRUE;
}

PyObject *unpark_threads()
{
    Park &g = park_state();
    {
        std::lock_guard<std::mutex> lk(g.mu);
        if (!g.requested) {
            Py_RETURN_NONE;
        }
        g.requested = false;
        g.cv.notify_all();
    }
    PyThreadState *me = PyThreadState_Get();
    bool own_traces = false;
    for (auto &e : g.entries) {
        own_traces = own_traces || e->prev_func;
    }
    if (!own_traces) {
        adapter::set_all_threads_trace(nullptr, nullptr);
    }
    else {
        for (auto &e : g.entries) {
            if (!adapter::set_thread_trace(e->ts, e->prev_func, e->prev_obj.get())) {
                e->restore_pending = true; // at its next event (restore_own)
            }
        }
    }
    adapter::set_thread_trace(me, g.owner_prev, g.owner_prev_obj.get());
    g.owner = nullptr;
    g.owner_prev_obj = Ref();
    g.check_globals = Ref();
    g.check_entry = Ref();
    Py_RETURN_NONE;
}

PyThreadState *parked_thread(unsigned long ident, bool *parked)
{
    Park &g = park_state();
    std::lock_guard<std::mutex> lk(g.mu);
    if (!g.requested) {
        return nullptr;
    }
    for (auto &e : g.entries) {
        if (e->ident == ident && (e->parked || e->seen == Entry::Seen::Blocked)) {
            *parked = e->parked;
            return e->ts;
        }
    }
    return nullptr;
}

PyObject *parked_thread_state(unsigned long ident)
{
    bool parked = false;
    PyThreadState *ts = parked_thread(ident, &parked);
    if (!ts) {
        PyErr_SetString(PyExc_LookupError, "no parked thread with this ident");
        return nullptr;
    }
    Park &g = park_state();
    Entry *e = find(g, ts);
    // The thread's own trace function was replaced by parking's: what it had before.
    PyObject *trace = e && e->prev_func ? e->prev_obj.get() : nullptr;
    PyObject *profile = ts->c_profilefunc ? ts->c_profileobj : nullptr;
    PyObject *local_key = adapter::thread_local_key(ts);
    return Py_BuildValue("(OOOOO)", ts->context ? ts->context : Py_None, trace ? trace : Py_None,
                         profile ? profile : Py_None, ts->dict ? ts->dict : Py_None,
                         local_key ? local_key : Py_None);
}

}  // namespace tp
