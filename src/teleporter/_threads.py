"""Every thread of the program moves: parked at a safe point at the origin, rebuilt at the
destination in a new OS thread under the same ``threading.Thread`` object, continuing
where it stood.

At the origin (``capture``): the native half parks every other thread, either between two
instructions (at a line) or blocked inside a call that can be made again (a lock, a
sleep, a queue's get...: ``_REENTERABLE``); each thread's stack is read whole. A thread's
stack travels inside its Thread object's reduction (``_reduce_thread``), so that a
library's helper thread that nothing of the program refers to (tqdm's monitor) stays
behind, and one the program holds moves with it. Threads stay parked until the move is
committed (the origin then serves and ends) or cancelled (``release``).

At the destination (``start``): each thread gets a new OS thread, registers its new ident
(``threading._active``, the Thread's ``_ident``), and the places that hold old idents are
rewritten (RLock owners, a waiting ``Condition.wait``'s saved owner). The threads then
rebuild their stacks one at a time (the eval hook is the interpreter's) and wait; the main
thread rebuilds its own last and lets them all go together.
"""

from __future__ import annotations

import _thread
import sys

from . import (
    _deadlines,
    _frames,
)
from . import _teleporter_impl as _impl
from ._api import SAFE_POINT_TIMEOUT  # the default of a move's safe_point_timeout
from .errors import PayloadError, TeleportError

TYPE_CHECKING = False  # typing itself costs start-up time
if TYPE_CHECKING:
    from typing import Any


class WhereRefused(TeleportError):
    """Refused for where a thread stands (inside a generator that native code drives, in a
    call that cannot be made again): a moment later it may stand elsewhere."""


class Chain:
    """One thread's stack as it travels: its frames (outermost first), the exception it
    was handling, its ident at the origin and whether its innermost frame was parked at a
    line (else blocked in a call, made again)."""

    __slots__ = ("records", "handled", "ident", "order", "tracing", "context")

    def __init__(
        self,
        records: list[Any],
        handled: Any,
        ident: int,
        order: int,
        tracing: Any = None,
        context: Any = None,
    ) -> None:
        self.records, self.handled, self.ident = records, handled, ident
        self.order = order  # started in this order again (threading.enumerate()'s)
        self.tracing = tracing  # its trace/profile functions (_process_state.thread_tracing)
        self.context = context  # its context variables (_process_state.thread_context)

    def __reduce__(self) -> tuple[Any, ...]:
        return Chain, (
            self.records,
            self.handled,
            self.ident,
            self.order,
            self.tracing,
            self.context,
        )


class Moved:
    """What travels in the state record: the main thread's ident at the origin, the
    threads that move whatever refers to them, threads started with ``_thread`` (no
    Thread object: their chain alone), and the ident of the thread that called the move
    when it is not the main thread (0 else): the move's call returns in it."""

    __slots__ = ("main_ident", "threads", "raw", "caller")

    def __init__(
        self, main_ident: int, threads: list[Any], raw: list[Chain], caller: int = 0
    ) -> None:
        self.main_ident, self.threads, self.raw = main_ident, threads, raw
        self.caller = caller

    def __reduce__(self) -> tuple[Any, ...]:
        return Moved, (self.main_ident, self.threads, self.raw, self.caller)


# ---- the origin ------------------------------------------------------------------------------

# Thread objects that move, by id, while a capture is being serialised: their chains.
_moving: dict[int, Chain] = {}
# The ids of the moving threads' 3.13 _ThreadHandle objects: rebuilt fresh, not started.
_moving_handles: set[int] = set()
_raw_moving: list[Chain] = []
_parked = False
_switch_interval: float | None = None


def blocking_calls() -> dict[Any, tuple[str, int | None]]:
    """The C calls a thread can be captured inside, made again at the destination: the
    callable, its name and the position of its timeout argument (named ``timeout`` when
    passed by keyword)."""
    import time

    calls: dict[Any, tuple[str, int | None]] = {
        _thread.LockType.acquire: ("Lock.acquire", 1),
        _thread.LockType.acquire_lock: ("Lock.acquire", 1),
        _thread.RLock.acquire: ("RLock.acquire", 1),
        # `with lock:` waiting to enter: the with statement starts again.
        _thread.LockType.__enter__: ("Lock.__enter__", None),
        _thread.RLock.__enter__: ("RLock.__enter__", None),
        time.sleep: ("time.sleep", 0),
    }
    queue = sys.modules.get("_queue")
    if queue is not None:
        calls[queue.SimpleQueue.get] = ("SimpleQueue.get", 1)
    handle = getattr(_thread, "_ThreadHandle", None)  # 3.13: Thread.join waits in it
    if handle is not None:
        calls[handle.join] = ("Thread.join", 0)
    return calls


def _timeout_slot(
    position: int | None, begin: int, end: int, kwnames: tuple[str, ...] | None
) -> int | None:
    """The stack slot of a blocked call's timeout: at `position` among the positional
    arguments, or the one passed as ``timeout=``; None when the call has none."""
    if position is None:
        return None
    names = kwnames or ()
    if "timeout" in names:
        return end - len(names) + names.index("timeout")
    return begin + position if begin + position < end - len(names) else None


def _blocking_call(callee: Any, calls: dict[Any, tuple[str, int | None]]) -> Any:
    """The entry of `calls` for the callable a thread is blocked in, or None."""
    try:
        found = calls.get(callee)
    except TypeError:  # unhashable
        return None
    if found is None:  # a bound method of a builtin object: its method descriptor
        owner = getattr(callee, "__self__", None)
        name = getattr(callee, "__name__", None)
        if owner is not None and isinstance(name, str) and not isinstance(owner, type(sys)):
            descriptor = getattr(type(owner), name, None)
            try:
                found = calls.get(descriptor)
            except TypeError:
                found = None
    return found


def _callable_name(callee: Any) -> str:
    name = getattr(callee, "__qualname__", None) or getattr(callee, "__name__", None)
    owner = getattr(callee, "__self__", None)
    if owner is not None and not isinstance(owner, type(sys)) and isinstance(name, str):
        name = f"{type(owner).__qualname__}.{name}"
    module = getattr(callee, "__module__", None)
    if isinstance(module, str) and isinstance(name, str) and module != "builtins":
        return f"{module}.{name}"
    return str(name) if name else type(callee).__qualname__


def describe_thread(t: Any) -> str:
    """A thread by its name and by what the program made it for: the function it runs,
    or its class (a process pool's manager thread, an executor's worker)."""
    import threading

    label = repr(t.name)
    target = getattr(t, "_target", None)
    if target is not None:
        name = getattr(target, "__qualname__", None) or type(target).__qualname__
        module = getattr(target, "__module__", None)
        return f"{label} (running {module + '.' if module else ''}{name})"
    cls = type(t)
    if cls is not threading.Thread:
        return f"{label} ({cls.__module__}.{cls.__qualname__})"
    return label


def _where(frame: Any) -> str:
    if frame is None:
        return "in native code"
    code = frame.f_code
    return f"at {code.co_filename}:{frame.f_lineno} in `{code.co_qualname}`"


def _is_helper(t: Any) -> bool:
    """A library's own daemon helper (tqdm's monitor): a Thread subclass of a library
    that travels by reference, with no target. It moves only if the program refers to it;
    else it stays behind, as the library's own state does, and the library starts such a
    helper again at the destination when it needs one."""
    import threading

    from . import policy

    cls = type(t)
    module = cls.__module__
    return (
        t.daemon
        and cls is not threading.Thread
        and module not in ("threading", "__main__")
        and not policy.module_by_value(module)
        and getattr(t, "_target", None) is None
    )


def _thread_of(records: list[Any]) -> Any:
    """The Thread object whose `_bootstrap` is the bottom of a chain, else None."""
    threading = sys.modules.get("threading")
    if threading is None or not records:
        return None
    code, _, _, localsplus, *_ = records[0]
    if code is not threading.Thread._bootstrap.__code__ or not localsplus:
        return None
    t = localsplus[0]
    return t if isinstance(t, threading.Thread) else None


def off_main() -> bool:
    """Whether the calling thread is not the program's main thread."""
    threading = sys.modules.get("threading")
    return threading is not None and _thread.get_ident() != _main_ident(threading)


def capture(
    main_globals: dict[str, Any],
    timeout: float | None = None,
    whole: bool = False,
    verb: str | None = None,
    caller: bool = False,
    said: float | None = None,
) -> Moved | None:
    """Parks every other thread and reads its stack; None when the program has no other
    thread. The threads stay parked (``release`` lets them go). Raises TeleportError,
    with every thread running again, when one cannot move.

    `whole`: the caller is a thread of teleporter's own (``own_thread``), not part of the
    program: the main thread is parked and read too, its chain left in ``main_chain``.
    `caller`: the caller is another thread of the program than the main one: the main
    thread is parked and read as for `whole`, and the caller's own stack is read next
    (``capture_caller``). `verb`: what the refusals say cannot be done ("teleport",
    "checkpoint"). `said`: the time allowed that a refusal names, when `timeout` is what
    is left of it."""
    global _parked, _switch_interval, _whole, _verb, _caller

    threading = sys.modules.get("threading")
    if whole:
        if _thread.get_ident() not in _own_threads:
            raise RuntimeError("a whole-program capture runs in a thread of teleporter's own")
    elif caller != off_main():
        raise RuntimeError("a capture of the caller's own stack is made for the wrong thread")
    others = _thread._count() - _own_counted
    if (
        not (whole or caller)
        and others == 0
        and (threading is None or threading.active_count() <= 1)
    ):
        return None
    import time

    limit = SAFE_POINT_TIMEOUT if timeout is None else timeout
    deadline = time.monotonic() + limit
    _switch_interval = sys.getswitchinterval()
    _parked = True
    _whole = whole or caller
    _caller = _thread.get_ident() if caller else 0
    _verb = verb or ("checkpoint" if whole else "teleport")
    main_chain.clear()
    # A thread parks only where it can be captured: one inside a generator that native
    # code drives (sum() over a generator expression) runs on out of it.
    check = (main_globals, _main_ident(threading) if _whole else 0, _ENTRY_CODE)
    exempt = _own_threads | {_caller} if caller else _own_threads
    try:
        while True:
            # Settled, they stay so: the switch interval is raised meanwhile (a blocked
            # thread that its call lets go must not get the GIL back before the capture
            # is serialised), and put back by serialised().
            states = _impl.park_threads(max(0.0, deadline - time.monotonic()), exempt, check)
            settling = _settling(states, threading)
            if settling is None:
                break
            if time.monotonic() >= deadline:
                raise TeleportError(
                    f"cannot {_verb}: {settling} did not reach "
                    f"a point where it can be captured within {said or limit:g} s; the program "
                    "keeps running"
                )
            sys.setswitchinterval(_switch_interval)
            _impl.unpark_threads()  # a thread starting or ending: let it, and look again
            time.sleep(0.002)
        return _read_chains(states, main_globals, threading)
    except BaseException:
        release()
        raise


# Threads of teleporter's own (a signal's or a timer's checkpoint helper): never parked,
# never moved, not in threading's tables.
_own_threads: set[int] = set()
# How many of them _thread._count() counts (those started by own_thread).
_own_counted = 0
# The capture running now is made by such a thread, or by another thread of the program
# than the main one (_caller, its ident): the main thread is parked with the rest.
_whole = False
_caller = 0
# What the capture running now refuses to do, in its messages.
_verb = "teleport"
# Its result: the main thread's (records, handled exception, native thread id).
main_chain: list[Any] = []


class as_own_thread:
    """The calling thread (one the core started, which _thread does not count) is one of
    teleporter's own while in this block."""

    def __enter__(self) -> None:
        _own_threads.add(_thread.get_ident())

    def __exit__(self, *exc: object) -> None:
        _own_threads.discard(_thread.get_ident())


def _main_ident(threading: Any) -> int:
    if threading is not None:
        ident: int | None = threading.main_thread().ident
        if ident is not None:
            return ident
    return _own_main


# The main thread's ident, as noted by note_main() (called from it): a program that never
# imported threading has no other record of it.
_own_main = 0


def note_main() -> None:
    """Called from the main thread before a thread of teleporter's own may capture it."""
    global _own_main
    _own_main = _thread.get_ident()


def own_thread(run: Any) -> int:
    """Starts `run` in a thread of teleporter's own; returns its ident."""
    started = _thread.allocate_lock()
    started.acquire()

    def entry() -> None:
        global _own_counted
        _own_threads.add(_thread.get_ident())
        _own_counted += 1
        started.release()
        try:
            run()
        finally:
            _own_counted -= 1
            _own_threads.discard(_thread.get_ident())

    ident: int = _thread.start_new_thread(entry, ())
    started.acquire()
    return ident


def _settling(states: list[dict[str, Any]], threading: Any) -> str | None:
    """A thread that is not yet where it can be captured (running, or starting or ending
    inside threading's bookkeeping), described; None when all are."""
    frames = sys._current_frames()
    for d in states:
        if d["state"] == "running" or (d["state"] == "blocked" and d["syscall"] == "gil"):
            t = threading._active.get(d["ident"]) if threading is not None else None
            who = describe_thread(t) if t is not None else "a thread started with _thread"
            refused = d.get("refused")
            why = f" ({in_words_of(refused, _verb)})" if refused else ""
            if threading is not None and t is threading.main_thread():
                return f"the main thread, {_where(frames.get(d['ident']))}{why},"
            return f"the thread {who}, {_where(frames.get(d['ident']))}{why},"
    if threading is not None:
        for t in list(threading._limbo):  # started, not yet running its target
            return f"the thread {describe_thread(t)} (starting)"
        for d in states:  # ending: left threading's table, still running Python
            if (
                _bottom_code(frames.get(d["ident"])) is threading.Thread._bootstrap.__code__
                and d["ident"] not in threading._active
            ):
                return f"a thread ending ({_where(frames.get(d['ident']))})"
    # Nothing may be imported while the others are parked (the capture and the pickling
    # import what they have not yet: teleporter._frames, a reducer's module), and a
    # thread parked inside the import system holds its lock: let it out first (seen:
    # teleporter run's checkpoint of `python -m tokenize`, parked in a lazy import).
    imp = sys.modules.get("_imp")
    if imp is not None and imp.lock_held():
        return "a thread importing a module"
    return None


def in_words_of(refusal: str, verb: str) -> str:
    """A refusal of the core's capture, worded for teleport(), in the words of `verb`."""
    if refusal.startswith("cannot teleport"):
        return f"cannot {verb}" + refusal[len("cannot teleport") :]
    return refusal


def _read_chains(
    states: list[dict[str, Any]], main_globals: dict[str, Any], threading: Any
) -> Moved:
    read: list[list[Any]] = []
    try:
        return _read_each(states, main_globals, threading, read)
    except BaseException:
        # A refusal keeps nothing of the threads' stacks (their locals copied into the
        # records) alive through this exception's frames: a parked thread goes on and
        # drops its own references. (A multiprocessing feeder's view of a BytesIO kept
        # past its time ended in a cycle that CPython 3.12's collector crashed on.)
        for records in read:
            records.clear()
        main_chain.clear()
        _moving.clear()
        _raw_moving.clear()
        raise


def _bottom_code(frame: Any) -> Any:
    """The code of the outermost frame of the stack `frame` is in (None for no frame)."""
    while frame is not None and frame.f_back is not None:
        frame = frame.f_back
    return frame.f_code if frame is not None else None


def _in_shutdown(frame: Any, threading: Any) -> bool:
    """Whether the stack of `frame` is the interpreter's wait, after the main code, for
    the threads that still run (threading._shutdown)."""
    shutdown = getattr(threading, "_shutdown", None)
    code = _bottom_code(frame)
    return code is not None and code is getattr(shutdown, "__code__", None)


def _named(t: Any) -> str:
    """A moving thread other than the main one, in a refusal: by its Thread, if any."""
    return f"the thread {describe_thread(t)}" if t is not None else "a thread started with _thread"


def _handle_of(t: Any) -> Any:
    """A Thread's _ThreadHandle (3.13: `_handle`, 3.14+: `_os_thread_handle`), else None."""
    handle = getattr(t, "_os_thread_handle", None)
    return handle if handle is not None else getattr(t, "_handle", None)


def _read_each(
    states: list[dict[str, Any]],
    main_globals: dict[str, Any],
    threading: Any,
    read: list[list[Any]],
) -> Moved:
    calls = blocking_calls()
    deadlines = _deadlines.slots()
    frames = sys._current_frames()
    started = {ident: i for i, ident in enumerate(threading._active)} if threading else {}
    threads: list[Any] = []
    raw: list[Chain] = []
    _moving.clear()
    _moving_handles.clear()
    _raw_moving.clear()
    main_ident = _main_ident(threading)
    for d in states:
        ident = d["ident"]
        t = threading._active.get(ident) if threading is not None else None
        is_main = _whole and ident == main_ident
        who = "the main thread" if is_main else _named(t)
        try:
            records, handled, parked, call = _impl.capture_thread(
                ident, main_globals, is_main, None if is_main else _ENTRY_CODE
            )
        except _impl.CaptureError as e:
            if is_main and _in_shutdown(frames.get(ident), threading):
                raise TeleportError(
                    f"cannot {_verb}: the main thread has finished the program's main code and "
                    "waits for its other threads to end; the program can move only while "
                    "its main code runs"
                ) from None
            raise WhereRefused(f"cannot {_verb} {who}: {in_words_of(str(e), _verb)}") from None
        read.append(records)
        if call is not None:  # blocked in a call, not parked
            callee, args_begin, args_end, kwnames = call
            found = _blocking_call(callee, calls)
            if found is None:
                raise WhereRefused(
                    f"cannot {_verb} {who}: it waits in {_callable_name(callee)} "
                    f"{_where(frames.get(ident))}, a call that cannot be made again elsewhere"
                )
            _name, position = found
            remaining = d["remaining"]
            slot = _timeout_slot(position, args_begin, args_end, kwnames)
            if slot is not None and remaining is not None:
                # The wait goes on for the time it had left.
                code, func, g, localsplus, stack, at, entry = records[-1]
                values = list(stack)
                if isinstance(values[slot], (int, float)) and not isinstance(values[slot], bool):
                    values[slot] = remaining
                    records[-1] = (code, func, g, localsplus, tuple(values), at, entry)
        _deadlines.carry_records(records, deadlines)
        _frames.detach_frames(records, frames.get(ident))
        if is_main:
            main_chain[:] = [records, handled, d["native_id"]]
            continue
        bottom = _thread_of(records)
        if bottom is not None:
            t = bottom
        ctx, trace, profile, _, _ = _impl.parked_thread_state(ident)
        from . import _process_state

        tracing = _process_state.thread_tracing(frames.get(ident), trace, profile, who)
        context = _process_state.thread_context(ctx, who)
        chain = Chain(records, handled, ident, started.get(ident, len(started)), tracing, context)
        _register(t, chain, threads, raw, t is None or not _is_helper(t))
    main = _main_ident(threading) if threading is not None or _whole else _thread.get_ident()
    return Moved(main, threads, raw)


def _register(t: Any, chain: Chain, threads: list[Any], raw: list[Chain], listed: bool) -> None:
    """A moving thread's chain, found again when its Thread object (if any) is pickled;
    `listed`: the Thread moves whether or not the program refers to it."""
    if t is None:
        raw.append(chain)
        _raw_moving.append(chain)
        return
    _moving[id(t)] = chain
    handle = _handle_of(t)
    if handle is not None:
        _moving_handles.add(id(handle))
    if listed:
        threads.append(t)


def caller_moves() -> bool:
    """Whether the capture running now was made by another thread of the program than
    the main one (whose own stack is read by ``capture_caller``)."""
    return _caller != 0


def capture_caller(skip: int, main_globals: dict[str, Any], moved: Moved) -> None:
    """Reads the stack of the thread that called the move (another than the main thread,
    with every other thread parked), `skip` frames of teleporter's above the program's
    call; it moves as the others do, its innermost frame waiting for the call's return."""
    threading = sys.modules["threading"]
    ident = _thread.get_ident()
    t = threading._active.get(ident)
    who = _named(t)
    records = _impl.capture(skip + 1, main_globals, _ENTRY_CODE)
    _deadlines.carry_records(records)
    _frames.detach_frames(records, sys._getframe(skip + 1))
    bottom = _thread_of(records)
    if bottom is not None:
        t = bottom
    from . import _process_state

    frame = sys._getframe(skip)
    tracing = _process_state.thread_tracing(frame, sys.gettrace(), sys.getprofile(), who)
    context = _process_state.thread_context(_impl.current_context(), who)
    order = list(threading._active).index(ident) if ident in threading._active else 0
    chain = Chain(records, _impl.handled_exception(), ident, order, tracing, context)
    _register(t, chain, moved.threads, moved.raw, True)
    moved.caller = ident


def program_switch_interval() -> float:
    """The program's switch interval (sys.getswitchinterval() but while threads are
    being captured)."""
    return sys.getswitchinterval() if _switch_interval is None else _switch_interval


def serialised() -> None:
    """The capture is serialised: the switch interval is the program's again (the threads
    stay parked)."""
    global _switch_interval, _whole, _caller
    _whole = False
    _caller = 0
    state = sys.modules.get(f"{__package__}._process_state")
    if state is not None:
        state.forget_token_homes()
    main_chain.clear()
    _moving.clear()
    _moving_handles.clear()
    _raw_moving.clear()
    if _switch_interval is not None:
        sys.setswitchinterval(_switch_interval)
        _switch_interval = None


def release() -> None:
    """Lets the parked threads run again (the move was cancelled, or a checkpoint was
    written)."""
    global _parked
    serialised()
    if _parked:
        _parked = False
        _impl.unpark_threads()


def ident_moves(ident: int) -> bool:
    """Whether the thread with this ident moves (the capturing thread does, but a thread
    of teleporter's own, which captures the main thread with the others)."""
    if ident == _thread.get_ident():
        return not _whole or _caller == ident
    if _whole and main_chain and ident == _main_ident(sys.modules.get("threading")):
        return True
    return any(c.ident == ident for c in _moving.values()) or any(
        c.ident == ident for c in _raw_moving
    )


def _local_values_of(local: Any, ident: int, tables: list[dict[Any, Any]]) -> dict[str, Any]:
    """The values the parked thread `ident` set in a threading.local ({} if none), read
    from its thread state: 3.13+ keys a local's per-thread dicts by the thread's own key;
    3.11/3.12 by weak references to dummies held in each thread's state dict."""
    if ident == _thread.get_ident():  # the thread that called the move: its own values
        return dict(local.__dict__)
    _, _, _, ts_dict, key = _impl.parked_thread_state(ident)
    if key is not None:
        for table in tables:
            values = table.get(key)
            if isinstance(values, dict):
                return values
        return {}
    dummies = {id(v) for v in (ts_dict or {}).values()}
    for table in tables:
        for ref, values in table.items():
            if callable(ref) and id(ref()) in dummies and isinstance(values, dict):
                return values
    return {}


def local_values(local: Any) -> tuple[dict[str, Any], dict[int, dict[str, Any]]]:
    """A threading.local's values as they move: those of the thread whose stack the
    destination's main thread continues (the capturing thread, or the parked main thread
    in a capture by a thread of teleporter's own), and those of each other moving thread
    that set any, by its ident at the origin. Values of threads that do not move stay."""
    import gc

    tables = [r for r in gc.get_referents(local) if isinstance(r, dict)]
    whole = _whole and bool(main_chain)
    main = _main_ident(sys.modules.get("threading")) if whole else _thread.get_ident()
    own = _local_values_of(local, main, tables) if whole else local.__dict__
    others: dict[int, dict[str, Any]] = {}
    idents = [c.ident for c in _moving.values()] + [c.ident for c in _raw_moving]
    for ident in idents:
        if ident != main:
            values = _local_values_of(local, ident, tables)
            if values:
                others[ident] = values
    return own, others


def set_local_values(local: Any, values: dict[int, dict[str, Any]]) -> None:
    """At the destination: other threads' values, set by each thread once it runs."""
    for ident, v in values.items():
        _locals.append((local, ident, v))


def chain_of(t: Any) -> Chain | None:
    return _moving.get(id(t))


def handle_moves(handle: Any) -> bool:
    return id(handle) in _moving_handles


# ---- reducers (used by _reducers) ------------------------------------------------------------

# Thread attributes that are the origin's own: set again for the new OS thread.
_PER_PROCESS = ("_ident", "_native_id", "_invoke_excepthook")


def reduce_thread(t: Any, chain: Chain) -> Any:
    state = {k: v for k, v in t.__dict__.items() if k not in _PER_PROCESS}
    return _new_thread, (type(t),), (state, chain), None, None, _set_thread_state


def _new_thread(cls: Any) -> Any:
    return cls.__new__(cls)


# The threads rebuilt by the stream being read, in the order they were read.
_pending: list[tuple[Any, Chain]] = []
# RLocks held by a moving thread: (lock, count, owner's ident at the origin).
_rlocks: list[tuple[Any, int, int]] = []
# threading.local values of other threads: (local, ident at the origin, values).
_locals: list[tuple[Any, int, dict[str, Any]]] = []


def _set_thread_state(t: Any, state: tuple[dict[str, Any], Chain]) -> None:
    threading: Any = sys.modules["threading"]  # its private tables
    values, chain = state
    t.__dict__.update(values)
    t._ident = t._native_id = None
    t._invoke_excepthook = threading._make_invoke_excepthook()
    _pending.append((t, chain))


def make_rlock(count: int, owner: int) -> Any:
    """An RLock held `count` times by the thread whose ident was `owner` at the origin:
    taken for it once its new ident is known (``start``)."""
    lock = _thread.RLock()
    if count:
        _rlocks.append((lock, count, owner))
    return lock


# ---- the destination -----------------------------------------------------------------------


def rebuilding() -> None:
    """A new stream is about to be read."""
    _pending.clear()
    _rlocks.clear()
    _locals.clear()


def start(moved: Moved, result: Any = None) -> Any:
    """Starts every rebuilt thread and rebuilds its stack, one at a time; each then waits.
    Returns the callable the main thread's replay calls just before its own innermost
    frame runs, which lets them all go. The thread that called the move (if not the main
    thread) gets `result` from its call."""
    import threading

    pending = list(_pending)
    _pending.clear()
    chains: list[tuple[Any, Chain]] = pending + [(None, c) for c in moved.raw]
    chains.sort(key=lambda tc: tc[1].order)
    if not chains:
        return None
    idmap = {moved.main_ident: _thread.get_ident()}
    go = _thread.allocate_lock()
    go.acquire()
    failures: list[str] = []

    class Slot:
        __slots__ = ("arrived", "turn", "rebuilt", "running", "ident")

        def __init__(self) -> None:
            self.arrived = _thread.allocate_lock()
            self.turn = _thread.allocate_lock()
            self.rebuilt = _thread.allocate_lock()
            self.running = _thread.allocate_lock()
            self.ident = 0
            for lock in (self.arrived, self.turn, self.rebuilt, self.running):
                lock.acquire()

    slots: list[Slot] = []
    for t, chain in chains:
        slot = Slot()
        slots.append(slot)
        returns = (result,) if moved.caller and chain.ident == moved.caller else None
        entry = _entry(t, chain, slot, go, failures, returns)
        handle = _handle_of(t) if t is not None else None
        if handle is not None:  # 3.13+: the Thread's own (fresh) handle is the one joined
            _thread.start_joinable_thread(entry, handle=handle, daemon=t.daemon)  # type: ignore[attr-defined]
        else:
            _thread.start_new_thread(entry, ())
        slot.arrived.acquire()
        idmap[chain.ident] = slot.ident
    for lock, count, owner in _rlocks:
        lock._acquire_restore((count, idmap.get(owner, owner)))
    _rlocks.clear()
    _remap_saved_owners(chains, idmap, threading)
    for slot in slots:  # one at a time: the eval hook is the interpreter's
        slot.turn.release()
        slot.rebuilt.acquire()
    _locals.clear()  # each thread has set its values
    if failures:
        raise PayloadError(failures[0])

    def go_all() -> None:
        go.release()
        for slot in slots:  # each has left teleporter's code: the program is all its own
            slot.running.acquire()

    return go_all


def _entry(
    t: Any, chain: Chain, slot: Any, go: Any, failures: list[str], returns: tuple[Any] | None
) -> Any:
    def run() -> None:
        threading: Any = sys.modules["threading"]  # its private tables

        ident = _thread.get_ident()
        slot.ident = ident
        if t is not None:
            t._ident = ident
            t._native_id = _thread.get_native_id()
            with threading._active_limbo_lock:
                threading._active[ident] = t
            lock = getattr(t, "_tstate_lock", None)  # 3.11/3.12: released when it ends
            if lock is not None and not t.daemon:
                with threading._shutdown_locks_lock:
                    threading._shutdown_locks.add(lock)
        slot.arrived.release()
        slot.turn.acquire()
        for local, origin, values in _locals:  # its own values of threading.local objects
            if origin == chain.ident:
                local.__dict__.update(values)
        if chain.context is not None:
            from . import _process_state

            _process_state.set_context_vars(chain.context)

        try:
            fixes = _frames.frame_fixes(chain.records)
        except PayloadError as e:
            failures.append(f"cannot rebuild a thread: {e}")
            slot.rebuilt.release()
            return
        count = len(chain.records)

        def ready() -> list[tuple[Any, ...]] | None:
            if fixes:
                _frames.attach_frames(sys._getframe(1), count, fixes)
            slot.rebuilt.release()
            go.acquire()
            go.release()
            slot.running.release()
            if chain.tracing is None:
                return None
            from . import _process_state

            return _process_state.thread_tracing_resumed(chain.tracing)

        try:
            # A parked or blocked thread goes on where it stood; the one that called the
            # move, with what its call returns.
            result = None if returns is None else returns[0]
            _impl.resume(chain.records, result, chain.handled, True, returns is None, ready)
        except _impl.ResumeError as e:
            failures.append(f"cannot rebuild a thread: {e}")
            slot.rebuilt.release()
        finally:
            lock = getattr(t, "_tstate_lock", None) if t is not None else None
            if lock is not None and lock.locked():
                lock.release()

    return run


# The code of the function a thread started by ``start`` runs first: not the program's.
_ENTRY_CODE = next(c for c in _entry.__code__.co_consts if getattr(c, "co_name", "") == "run")


def _remap_saved_owners(
    chains: list[tuple[Any, Chain]], idmap: dict[int, int], threading: Any
) -> None:
    """A Condition waiting on an RLock keeps the lock's owner (an ident) in the frame of
    ``Condition.wait`` until it takes the lock back: the new ident goes there."""
    wait = threading.Condition.wait
    slot = wait.__code__.co_varnames.index("saved_state")
    for _, chain in chains:
        for i, (code, func, g, localsplus, stack, at, entry) in enumerate(chain.records):
            if func is not wait:
                continue
            saved = localsplus[slot]
            if isinstance(saved, tuple) and len(saved) == 2 and saved[1] in idmap:
                localsplus = (
                    localsplus[:slot] + ((saved[0], idmap[saved[1]]),) + localsplus[slot + 1 :]
                )
                chain.records[i] = (code, func, g, localsplus, stack, at, entry)
