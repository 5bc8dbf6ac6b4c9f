"""The running asyncio event loop, moved with all its tasks (``ateleport``, ``acheckpoint``,
``afork``). Origin side: the move between two callbacks; both sides: how the loop, its
tasks, futures and handles travel; destination side: ``settle``, which makes the
rebuilt loop run again before the program's frames do.

A task's coroutine runs under two native frames (``Context.run`` and the C task's step),
so no capture happens inside one: the awaiting task is suspended on a future, a callback
of ours runs between two of the loop's callbacks, and the main thread's stack is captured
from ``Handle._run`` out, its call of ``Context.run`` returning None at the destination.

C tasks keep their state out of Python's reach. A rebuilt task is constructed again (its
constructor schedules its first step: that handle is taken back at once), then, once the
whole program is rebuilt, put back in the state it had:

- step scheduled: the handle in the loop's ready queue gets the new task's step;
- waiting on a future: the new task is stepped once, sending None down its coroutine
  chain, whose innermost awaiter (a future's own iterator, made afresh) yields the same
  future again, so that the task registers its wake-up on it as it had; no code of the
  program runs;
- woken up (the future done, the wake-up in the ready queue): the handle gets the task's
  step, which reads the future's outcome the same way;
- done: stepped once through a coroutine of ours that returns or raises the outcome.
"""

from __future__ import annotations

import gc
import sys
import time

from . import _teleporter_impl as _impl
from .errors import PayloadError, TeleportError

TYPE_CHECKING = False  # typing itself costs start-up time
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


# ---- the move, at the origin -----------------------------------------------------------------


class Delivery:
    """The move's outcome in the program: `value` becomes the result of `future`, which the
    task that called ateleport()/acheckpoint()/afork() awaits."""

    __slots__ = ("future", "value")

    def __init__(self, future: Any, value: Any) -> None:
        self.future, self.value = future, value

    def __reduce__(self) -> tuple[Any, ...]:
        return Delivery, (self.future, self.value)


async def between_callbacks(call: Callable[..., Any], *args: Any) -> Any:
    """Runs ``call(depth, Delivery(future, ...), *args)`` from a callback of the running
    loop, the calling task waiting on `future`: `depth` frames above ``Handle._run``
    (where the capture starts). Returns what `call` returned; raises what it raised."""
    import asyncio

    loop = asyncio.get_running_loop()
    future = loop.create_future()
    loop.call_soon(_run_move, future, call, args)
    return await future


def _run_move(future: Any, call: Callable[..., Any], args: tuple[Any, ...]) -> None:
    if future.done():  # the calling task was cancelled meanwhile
        return
    try:
        check_loop(future.get_loop())
        value = call(2, future, *args)
    except (TeleportError, ValueError, TypeError, OSError) as e:
        future.set_exception(e.with_traceback(None))
    except BaseException as e:  # a KeyboardInterrupt: the program's, at the await
        future.set_exception(e)
    else:
        future.set_result(value)


def main_loop() -> Any:
    """The asyncio event loop that the main thread runs now, or None (read from another
    thread: the loop's own run_forever frame in the main thread's stack)."""
    from ._threads import _main_ident

    base = sys.modules.get("asyncio.base_events")
    if base is None:
        return None
    run_forever = base.BaseEventLoop.run_forever.__code__
    # Not threading.main_thread(): imported first from this thread, threading would take
    # this thread for the main one.
    frame = sys._current_frames().get(_main_ident(sys.modules.get("threading")))
    while frame is not None:
        code = frame.f_code  # in a resumed program, a copy of run_forever's code
        if code.co_qualname == run_forever.co_qualname and (
            code.co_filename == run_forever.co_filename
        ):
            loop = frame.f_locals.get("self")
            return loop if loop is not None and loop.is_running() else None
        frame = frame.f_back
    return None


def checkpoint_between_callbacks(
    loop: Any, take: Callable[[int], None], timeout: float | None, hold: bool
) -> None:
    """From a thread of teleporter's own: has `loop` run ``take(depth)`` (a checkpoint
    of the program from the frames `depth` above the loop's ``Handle._run``) between two
    of its callbacks, and waits for it; raises what it raised. `hold`: the loop then stays
    in that callback (the process is about to end: nothing more of the program runs)."""
    import threading

    done = threading.Event()
    outcome: list[BaseException | None] = []

    def between_callbacks() -> None:
        try:
            take(2)
        except BaseException as e:
            outcome.append(e.with_traceback(None))
        else:
            outcome.append(None)
        done.set()
        if hold and outcome[0] is None:
            threading.Event().wait()  # the process ends from the thread that asked

    handle = loop.call_soon_threadsafe(between_callbacks)
    if not done.wait(timeout):
        handle.cancel()
        raise TeleportError(
            f"cannot checkpoint: the asyncio event loop did not come back between two "
            f"callbacks within {timeout:g} s (a callback or task step that runs long)"
        )
    if outcome[0] is not None:
        raise outcome[0]


# ---- what cannot travel, named -----------------------------------------------------------------


def _loop_classes() -> tuple[type, ...]:
    import asyncio

    return (asyncio.SelectorEventLoop,)


def check_loop(loop: Any) -> None:
    """TeleportError naming what ties `loop` to this process: open transports, sockets and
    servers, watched descriptors, a loop that is not asyncio's own."""
    cls = type(loop)
    if not isinstance(loop, _loop_classes()) or (
        "__init__" in cls.__dict__ and cls.__module__.split(".")[0] != "asyncio"
    ):
        name = f"{cls.__module__}.{cls.__qualname__}"
        raise TeleportError(
            f"cannot move the event loop {name}: only asyncio's own event loop can be "
            "moved (its state lives in its own implementation)"
        )
    child = _running_subprocess(loop)
    if child is not None:
        raise TeleportError(
            f"cannot move the event loop: {_holder(loop, child)}has a running subprocess "
            f"(pid {child.get_pid()}, {_command_words(child)}); a child process, its pipes and "
            "its watcher belong to this process: wait for it or kill it before the move"
        )
    for transport in list(getattr(loop, "_transports", {}).values()):
        if transport is not None and not transport.is_closing():
            raise TeleportError(
                f"cannot move the event loop: {_holder(loop, transport)}has an open "
                f"{_transport_words(transport)}; connections, servers and subprocess pipes "
                "belong to this process: close them before the move"
            )
    selector = getattr(loop, "_selector", None)
    ssock: Any = getattr(loop, "_ssock", None)
    own = ssock.fileno() if ssock is not None else -1
    if selector is not None:
        for fd, key in list(selector.get_map().items()):
            if fd == own:
                continue
            reader, writer = key.data if isinstance(key.data, tuple) else (None, None)
            handle = reader or writer
            what = (
                f"`{_callback_name(handle._callback)}`"
                if handle is not None
                else f"a watch on descriptor {fd}"
            )
            raise TeleportError(
                f"cannot move the event loop: it watches descriptor {fd} for {what} "
                "(loop.add_reader/add_writer, a socket or a server); descriptors belong "
                "to this process: remove the watch before the move"
            )
    thread = getattr(loop, "_thread_id", None)
    from ._threads import _main_ident

    if thread is not None and thread != _main_ident(sys.modules.get("threading")):
        raise TeleportError("cannot move an event loop running in a thread other than the main one")


def _running_subprocess(loop: Any) -> Any:
    """The first subprocess transport of `loop` whose child has not been reaped: found
    through what watches it, the loop's watched descriptors (its pipes, a pidfd) and the
    threads that wait for a child."""
    import threading
    from asyncio.base_subprocess import BaseSubprocessTransport

    def find(value: Any, depth: int) -> Any:
        for candidate in (value, getattr(value, "proc", None)):
            if isinstance(candidate, BaseSubprocessTransport):
                return candidate if candidate.get_returncode() is None else None
        if depth:
            protocol = getattr(value, "_protocol", None)
            inside = value if isinstance(value, tuple) else (protocol,)
            for item in inside:
                found = find(item, depth - 1)
                if found is not None:
                    return found
        return None

    places: list[Any] = []
    selector = getattr(loop, "_selector", None)
    if selector is not None:
        for key in list(selector.get_map().values()):
            for handle in key.data if isinstance(key.data, tuple) else ():
                if handle is not None:
                    places += [getattr(handle._callback, "__self__", None), handle._args]
    places += [getattr(t, "_args", ()) for t in threading.enumerate()]
    for place in places:
        found = find(place, 3)
        if found is not None:
            return found
    return None


def _command_words(child: Any) -> str:
    """The child's command as the program gave it, its program by name only."""
    popen = getattr(child, "_proc", None)
    args = getattr(popen, "args", None)
    if isinstance(args, (list, tuple)) and args:
        import os

        args = " ".join([os.path.basename(str(args[0])), *(str(a) for a in args[1:])])
    text = str(args) if args is not None else "?"
    return f"`{text[:80]}...`" if len(text) > 80 else f"`{text}`"


def _transport_words(transport: Any) -> str:
    name = type(transport).__name__
    if "Subprocess" in name or "Pipe" in name:
        return f"subprocess pipe ({name})"
    peer = None
    try:
        peer = transport.get_extra_info("peername")
    except Exception:
        pass
    server = getattr(transport, "_server", None)
    if server is not None:
        return f"connection of a server ({name}, peer {peer})"
    return f"connection ({name}, peer {peer})" if peer else f"transport ({name})"


def _holder(loop: Any, obj: Any) -> str:
    """``the task `name` (file:line) `` for the first pending task whose coroutine chain
    holds `obj` (or a stream or protocol over it) in a local; '' when none does."""
    import asyncio

    for task in asyncio.all_tasks(loop):
        for frame in chain_frames(task.get_coro()):
            for value in frame.f_locals.values():
                if value is obj or getattr(value, "_transport", None) is obj:
                    return f"the task {task.get_name()!r} ({_where(frame)}) "
    return ""


def _where(frame: Any) -> str:
    return f"{frame.f_code.co_qualname}, {frame.f_code.co_filename}:{frame.f_lineno}"


def chain_frames(coro: Any) -> list[Any]:
    frames = []
    for aw in _awaiters(coro):
        frame = getattr(aw, "cr_frame", None) or getattr(aw, "gi_frame", None)
        frame = frame or getattr(aw, "ag_frame", None)
        if frame is not None:
            frames.append(frame)
    return frames


def _callback_name(cb: Any) -> str:
    return getattr(cb, "__qualname__", None) or type(cb).__name__


def _referents(obj: Any) -> list[Any]:
    return [r for r in gc.get_referents(obj) if not isinstance(r, type)]


def _awaiters(coro: Any) -> list[Any]:
    """`coro` and what it awaits, outermost first, down to the innermost awaiter."""
    chain = [coro]
    seen = {id(coro)}
    obj = coro
    while True:
        t = type(obj).__name__
        if t == "async_generator_asend":
            refs = _referents(obj)
            nxt = refs[0] if refs else None
        else:
            nxt = getattr(obj, "cr_await", None)
            if nxt is None:
                nxt = getattr(obj, "gi_yieldfrom", None)
            if nxt is None:
                nxt = getattr(obj, "ag_await", None)
        if nxt is None or id(nxt) in seen:
            return chain
        seen.add(id(nxt))
        chain.append(nxt)
        obj = nxt


# ---- the loop -----------------------------------------------------------------------------------

# Attributes of a loop that belong to this process: a fresh loop at the destination makes
# its own (selector, self-pipe, thread, clock); signal handlers are installed again.
_OWN = frozenset(
    {
        "_selector",
        "_ssock",
        "_csock",
        "_internal_fds",
        "_transports",
        "_signal_handlers",
        "_thread_id",
        "_clock_resolution",
        "time",
        "_asyncgens",
    }
)


class LoopClock:
    """``loop.time()`` of a loop moved here: the origin's loop time, continued from the
    moment the program runs again (the time the move took does not count), so that no
    deadline of the program's moves and the loop's time never goes back."""

    __slots__ = ("offset",)

    def __init__(self, offset: float) -> None:
        self.offset = offset

    def __call__(self) -> float:
        return time.monotonic() + self.offset

    def __repr__(self) -> str:
        return f"<loop time: time.monotonic() {self.offset:+.3f}>"


class _Rebuilt:
    """What settle() still has to do with the loops, tasks, futures and handles rebuilt in
    this process."""

    def __init__(self) -> None:
        self.loops: list[tuple[Any, dict[str, Any]]] = []
        self.tasks: list[tuple[Any, Any, str, Any]] = []  # task, its step, kind, outcome
        self.handles: list[Any] = []  # whose callback is an _OfTask
        self.futures: list[tuple[Any, list[tuple[Any, Any]]]] = []  # with wake-ups, in order
        self.steps: dict[int, Any] = {}  # the first step of each task being rebuilt
        self.made: dict[int, Any] = {}  # each task constructed, by its token


_rebuilt = _Rebuilt()


def _loop_reduce(loop: Any) -> Any:
    import asyncio

    check_loop(loop)
    running = asyncio.events._get_running_loop() is loop
    policy = getattr(asyncio.events, "_event_loop_policy", None)
    local = getattr(getattr(policy, "_local", None), "_loop", None)
    extra = {
        "now": loop.time(),
        "running": running,
        "current": local is loop,
        "asyncgens": list(getattr(loop, "_asyncgens", ())),
        "signals": [
            (sig, h._callback, h._args)
            for sig, h in getattr(loop, "_signal_handlers", {}).items()
            if not h._cancelled
        ],
    }
    state = {k: v for k, v in loop.__dict__.items() if k not in _OWN}
    return _make_loop, (type(loop),), (state, extra), None, None, _loop_setstate


def _make_loop(cls: type) -> Any:
    return cls()


def _loop_setstate(loop: Any, state: tuple[dict[str, Any], dict[str, Any]]) -> None:
    attrs, extra = state
    closed = attrs.pop("_closed", False)  # closed in settle(): tasks are made on it first
    loop.__dict__.update(attrs)
    loop.time = LoopClock(extra["now"] - time.monotonic())
    for agen in extra["asyncgens"]:
        loop._asyncgens.add(agen)
    _rebuilt.loops.append((loop, {**extra, "closed": closed}))


# ---- tasks and futures ----------------------------------------------------------------------


def _is_wakeup(cb: Any) -> bool:
    """A C task's wake-up, as registered on the future it awaits."""
    return getattr(cb, "__name__", None) == "task_wakeup" and isinstance(
        getattr(cb, "__self__", None), sys.modules["_asyncio"].Task
    )


class _OfTask:
    """Stands, in a handle or among a future's callbacks, for a C task's scheduled step or
    its wake-up: the rebuilt task's step takes its place in a handle (a wake-up reads the
    future's outcome the same way); on a future, the wake-up that step registers again."""

    __slots__ = ("task",)

    def __init__(self, task: Any) -> None:
        self.task = task

    def __reduce__(self) -> tuple[Any, ...]:
        return _OfTask, (self.task,)


def _task_name(task: Any) -> str:
    coro = task.get_coro()
    where = ""
    frames = chain_frames(coro) if coro is not None else []
    if frames:
        where = f" ({_where(frames[-1])})"
    return f"the task {task.get_name()!r}{where}"


def _innermost_future(task: Any) -> Any:
    """The future that the innermost awaiter of `task`'s coroutine chain is a fresh
    iterator over (``await future``), or None when the chain ends in something else."""
    coro = task.get_coro()
    if coro is None:
        return None
    inner = _awaiters(coro)[-1]
    if type(inner).__name__ != "FutureIter":
        return None
    refs = _referents(inner)
    return refs[0] if refs else None


def _future_callbacks(fut: Any) -> list[tuple[Any, Any]]:
    return [
        (_OfTask(cb.__self__) if _is_wakeup(cb) else cb, ctx) for cb, ctx in (fut._callbacks or ())
    ]


def _future_state(fut: Any) -> dict[str, Any]:
    exc = fut._exception
    return {
        "loop": fut.get_loop(),
        "state": fut._state,
        "result": fut._result,
        "exception": exc,
        "traceback": exc.__traceback__ if exc is not None else None,
        "cancel_message": fut._cancel_message,
        "callbacks": _future_callbacks(fut) if fut._state == "PENDING" else [],
        "blocking": fut._asyncio_future_blocking,
        "log_traceback": fut._log_traceback,
        "dict": _instance_dict(fut),
    }


def _instance_dict(fut: Any) -> dict[str, Any]:
    """The attributes of an instance of a Python subclass of the C future or task (gather's
    _GatheringFuture): kept in a dict that the C type does not show as ``__dict__``."""
    import _asyncio

    if type(fut) in (_asyncio.Future, _asyncio.Task):
        return {}
    try:
        return dict(_impl.instance_dict(fut))
    except AttributeError:
        return {}


def _task_reduce(task: Any) -> Any:
    """A C task: see the module's docstring."""
    state = _future_state(task)
    state["name"] = task.get_name()
    state["log_destroy_pending"] = task._log_destroy_pending
    if hasattr(task, "get_context"):
        state["context"] = task.get_context()
    else:  # 3.11: the first context a C task refers to is its own
        import contextvars

        state["context"] = next(
            (r for r in _referents(task) if type(r) is contextvars.Context), None
        )
    cancelling = task.cancelling()
    if task.done():
        state["kind"] = "done"
        state["coro"] = None
    else:
        state["coro"] = task.get_coro()
        waiter = task._fut_waiter
        if waiter is None:
            state["kind"] = "scheduled"
            if cancelling and not task._must_cancel:
                raise TeleportError(
                    f"cannot move {_task_name(task)}: it caught a cancellation and went on "
                    f"without uncancel() (cancelling() is {cancelling})"
                )
            state["cancels"] = cancelling if task._must_cancel else 0
        else:
            if cancelling:
                raise TeleportError(
                    f"cannot move {_task_name(task)}: it caught a cancellation and went on "
                    f"without uncancel() (cancelling() is {cancelling})"
                )
            inner = _innermost_future(task)
            if inner is not waiter:
                raise TeleportError(
                    f"cannot move {_task_name(task)}: it awaits "
                    f"{_awaiters(task.get_coro())[-1]!r}, a generator-based awaitable that "
                    "a moved task cannot wait on again; `await` an asyncio future or "
                    "coroutine there"
                )
            state["kind"] = "waiting" if not waiter.done() else "woken"
    made = (
        id(task),
        type(task),
        task.get_loop(),
        state.pop("coro"),
        state["name"],
        state["context"],
        (state["state"], state["result"], state["exception"], state["traceback"]),
    )
    return _make_task, made, state, None, None, _task_setstate


def _future_reduce(fut: Any) -> Any:
    state = _future_state(fut)
    return _make_future, (type(fut), fut.get_loop()), state, None, None, _future_setstate


def _make_future(cls: Any, loop: Any) -> Any:
    """A C future of `loop`, pending: usable at once (its iterator, a callback of it),
    though its own state comes later (it may be part of a cycle being rebuilt)."""
    import _asyncio

    fut = cls.__new__(cls)
    _asyncio.Future.__init__(fut, loop=loop)
    return fut


def _new(cls: Any) -> Any:
    return cls.__new__(cls)


async def _outcome(kind: str, value: Any, traceback: Any) -> Any:
    if kind == "exception":
        raise value.with_traceback(traceback)
    return value


def _set_outcome(fut: Any, s: dict[str, Any]) -> None:
    if s["state"] == "FINISHED":
        if s["exception"] is not None:
            fut.set_exception(s["exception"])
            s["exception"].__traceback__ = s["traceback"]
        else:
            fut.set_result(s["result"])
    elif s["state"] == "CANCELLED":
        fut.cancel(s["cancel_message"])
    if not s["log_traceback"]:
        fut._log_traceback = False
    fut._asyncio_future_blocking = s["blocking"]


def _add_callbacks(fut: Any, callbacks: list[tuple[Any, Any]]) -> None:
    if any(type(cb) is _OfTask for cb, _ in callbacks):
        _rebuilt.futures.append((fut, callbacks))  # in order once the tasks are back
        return
    for cb, ctx in callbacks:
        fut.add_done_callback(cb, context=ctx)


def _future_setstate(fut: Any, s: dict[str, Any]) -> None:
    for k, v in s["dict"].items():
        setattr(fut, k, v)
    _set_outcome(fut, s)
    _add_callbacks(fut, s["callbacks"])


def _make_task(
    token: int,
    cls: Any,
    loop: Any,
    coro: Any,
    name: str,
    context: Any,
    outcome: tuple[Any, ...],
) -> Any:
    """A C task of `loop` running `coro` (a done one: a coroutine of ours giving its
    `outcome`), constructed at once (its coroutine may not be rebuilt yet: the task only
    keeps it); the step its constructor scheduled is taken back for settle(). `token`
    names the task in the stream: pickle constructs a task met again while its own
    arguments are read (a cycle through its coroutine) twice, and keeps the first."""
    import _asyncio

    made = _rebuilt.made.get(token)
    if made is not None:
        return made

    if coro is None:
        state, result, exception, traceback = outcome
        if state == "CANCELLED":
            coro = _outcome("result", None, None)
        elif exception is not None:
            coro = _outcome("exception", exception, traceback)
        else:
            coro = _outcome("result", result, None)
    task = cls.__new__(cls)
    _asyncio.Task.__init__(task, coro, loop=loop, name=name, context=context)
    handle = loop._ready.pop() if loop._ready else None  # the first step it scheduled
    if handle is None or type(handle._callback).__name__ != "TaskStepMethWrapper":
        raise PayloadError("cannot rebuild an asyncio task: its loop scheduled no step for it")
    _rebuilt.steps[id(task)] = handle._callback
    _rebuilt.made[token] = task
    return task


def _task_setstate(task: Any, s: dict[str, Any]) -> None:
    kind = s["kind"]
    step = _rebuilt.steps.pop(id(task), None)
    if step is None:
        raise PayloadError("cannot rebuild an asyncio task: it was not constructed")
    for k, v in s["dict"].items():
        setattr(task, k, v)
    task._log_destroy_pending = s["log_destroy_pending"]
    if kind == "done" and s["state"] == "CANCELLED":
        task.cancel(s["cancel_message"])
    for _ in range(s.get("cancels", 0)):
        task.cancel(s["cancel_message"])
    _rebuilt.tasks.append((task, step, kind, s))
    _add_callbacks(task, s["callbacks"])


# The tasks that asyncio.all_tasks() shows, by loop, for the capture under way
# (forget_capture() after each).
_shown_tasks: dict[int, set[int]] = {}


def forget_capture() -> None:
    _shown_tasks.clear()


def _pytask_reduce(task: Any) -> Any:
    """asyncio's pure-Python task: its state is plain attributes; registered again where
    it was registered (3.14+ registers none: all_tasks() does not show them)."""
    import asyncio

    rv = task.__reduce_ex__(2)
    loop = task.get_loop()
    shown = _shown_tasks.get(id(loop))
    if shown is None:
        shown = _shown_tasks[id(loop)] = {id(t) for t in asyncio.all_tasks(loop)}
    registered = id(task) in shown
    return (*rv[:2], (rv[2], registered), None, None, _pytask_setstate)


def _pytask_setstate(task: Any, state: tuple[Any, bool]) -> None:
    import asyncio

    attrs, registered = state
    if isinstance(attrs, tuple):  # (dict, slots)
        attrs = attrs[0]
    task.__dict__.update(attrs or {})
    if registered:
        asyncio.tasks._register_task(task)


# ---- handles and the iterators of futures -------------------------------------------------------


_UNSET: Any = object()
_slots_of: dict[type, tuple[str, ...]] = {}


def _slot_names(cls: type) -> tuple[str, ...]:
    names = _slots_of.get(cls)
    if names is None:
        names = tuple(
            name
            for klass in cls.__mro__
            for name in klass.__dict__.get("__slots__", ())
            if name not in ("__weakref__", "__dict__")
        )
        _slots_of[cls] = names
    return names


def _handle_reduce(handle: Any) -> Any:
    slots: dict[str, Any] = {
        name: value
        for name in _slot_names(type(handle))
        if (value := getattr(handle, name, _UNSET)) is not _UNSET
    }
    cb = slots.get("_callback")
    if type(cb).__name__ == "TaskStepMethWrapper":
        refs = _referents(cb)
        if len(refs) != 1:
            raise TeleportError(
                f"cannot move {_task_name(refs[0])}: its next step carries an exception "
                "thrown into it"
            )
        slots["_callback"] = _OfTask(refs[0])
    elif cb is not None and _is_wakeup(cb):
        slots["_callback"] = _OfTask(cb.__self__)
        slots["_args"] = ()
    return _new, (type(handle),), slots, None, None, _handle_setstate


def _handle_setstate(handle: Any, slots: dict[str, Any]) -> None:
    for name, value in slots.items():
        object.__setattr__(handle, name, value)
    if type(slots.get("_callback")) is _OfTask:
        _rebuilt.handles.append(handle)


def _make_future_iter(fut: Any) -> Any:
    return fut.__await__()


def _make_spent_future_iter(loop: Any) -> Any:
    import asyncio

    fut: Any = asyncio.Future(loop=loop)
    fut.set_result(None)
    it = fut.__await__()
    try:
        next(it)
    except StopIteration:
        pass
    return it


def _future_iter_reduce(it: Any) -> Any:
    refs = _referents(it)
    if refs:
        return _make_future_iter, (refs[0],)
    import asyncio

    return _make_spent_future_iter, (asyncio.events._get_running_loop(),)


def _asend_reduce(asend: Any) -> Any:
    """An async generator's ``__anext__()``/``asend()`` awaitable: made again from its
    generator. One already started (the generator runs inside it) starts again at the
    destination by sending None, which resumes the generator where it awaits."""
    refs = _referents(asend)
    agen = refs[0]
    value = refs[1] if len(refs) > 1 and not agen.ag_running else None
    return _make_asend, (agen, value)


def _make_asend(agen: Any, value: Any) -> Any:
    return agen.asend(value)


def unnamed_types(mod: Any) -> dict[str, type]:
    """_asyncio's types, with those it does not name: its futures' iterator, and the
    awaitable of an async generator's ``__anext__()``."""

    class _Loop:
        def get_debug(self) -> bool:
            return False

    async def agen() -> Any:
        yield None

    hooks = sys.get_asyncgen_hooks()
    sys.set_asyncgen_hooks(None, None)  # not the running loop's: this one is not its
    try:
        asend = agen().asend(None)
    finally:
        sys.set_asyncgen_hooks(*hooks)
    found = {
        "Task": mod.Task,
        "Future": mod.Future,
        "FutureIter": type(mod.Future(loop=_Loop()).__await__()),
        "async_generator_asend": type(asend),
    }
    asend.close()
    return found


def _make_asyncgen_hooks(firstiter: Any, finalizer: Any) -> Any:
    return type(sys.get_asyncgen_hooks())((firstiter, finalizer))


def _asyncgen_hooks_reduce(hooks: Any) -> Any:
    """What ``sys.get_asyncgen_hooks()`` returned (run_forever keeps the hooks it replaced)."""
    return _make_asyncgen_hooks, (hooks.firstiter, hooks.finalizer)


def sys_types(mod: Any) -> dict[str, type]:
    return {"asyncgen_hooks": type(mod.get_asyncgen_hooks())}


# Registered in _reducers (the pickler looks them up only once asyncio is imported).
TYPES = [
    ("_asyncio", "Task", _task_reduce),
    ("_asyncio", "Future", _future_reduce),
    ("_asyncio", "FutureIter", _future_iter_reduce),
    ("_asyncio", "async_generator_asend", _asend_reduce),
    ("asyncio.tasks", "_PyTask", _pytask_reduce),
    ("asyncio.events", "Handle", _handle_reduce),
    ("asyncio.events", "TimerHandle", _handle_reduce),
    ("sys", "asyncgen_hooks", _asyncgen_hooks_reduce),
]
BASES = [
    ("_asyncio", "Task", _task_reduce),
    ("_asyncio", "Future", _future_reduce),
    ("asyncio.base_events", "BaseEventLoop", _loop_reduce),
]


# ---- at the destination: the loop runs again ----------------------------------------------------


def settle(awaited: Any, value: Any) -> None:
    """Puts the rebuilt loops and tasks back in the state they had, then delivers the
    move's outcome `value` to `awaited`, the future its calling task waits on (None: a
    checkpoint that ``teleporter run`` took between two callbacks)."""
    import asyncio
    import threading
    import warnings

    rebuilt = _rebuilt
    if awaited is not None and not asyncio.isfuture(awaited):
        raise PayloadError("malformed payload: the awaited future is not an asyncio future")
    main = threading.main_thread().ident
    running = None
    for loop, extra in rebuilt.loops:
        if extra["running"]:
            loop._thread_id = main
            running = loop
        if extra["current"]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                asyncio.events.set_event_loop(loop)
        for sig, cb, args in extra["signals"]:
            loop.add_signal_handler(sig, cb, *args)
        if extra["closed"]:
            loop.close()
    if running is None:
        raise PayloadError("malformed payload: no event loop was running")
    if awaited is not None and awaited.get_loop() is not running:
        raise PayloadError("malformed payload: the awaited future is not of the running loop")
    asyncio.events._set_running_loop(running)
    steps = {id(task): step for task, step, _, _ in rebuilt.tasks}
    for handle in rebuilt.handles:
        marker = handle._callback
        step = steps.get(id(marker.task))
        if step is None:
            raise PayloadError("malformed payload: a handle of a task that did not travel")
        handle._callback = step
    for task, step, kind, s in rebuilt.tasks:
        if kind in ("done", "waiting"):
            s["context"].run(step) if s["context"] is not None else step()
            if kind == "done" and s["exception"] is not None:
                s["exception"].__traceback__ = s["traceback"]
                if not s["log_traceback"]:
                    task._log_traceback = False
            if kind == "waiting" and not task._fut_waiter:
                raise PayloadError(
                    f"cannot rebuild the asyncio task {task.get_name()!r}: it no longer "
                    "waits on its future"
                )
    for fut, callbacks in rebuilt.futures:
        _ordered_callbacks(fut, callbacks)
    for loop, extra in rebuilt.loops:  # the loop's time goes on from here
        loop.time.offset = extra["now"] - time.monotonic()
    rebuilt.loops, rebuilt.tasks, rebuilt.handles, rebuilt.futures = [], [], [], []
    rebuilt.made, rebuilt.steps = {}, {}
    if awaited is not None:
        awaited.set_result(value)


def _ordered_callbacks(fut: Any, callbacks: list[tuple[Any, Any]]) -> None:
    """Gives `fut` its callbacks in their captured order, each task's wake-up (which the
    task's step registered again) where it stood."""
    present = list(fut._callbacks or ())
    wakeups = {id(cb.__self__): (cb, ctx) for cb, ctx in present if _is_wakeup(cb)}
    for cb, _ in present:
        fut.remove_done_callback(cb)
    for cb, ctx in callbacks:
        if type(cb) is _OfTask:
            found = wakeups.get(id(cb.task))
            if found is None:
                continue
            cb, ctx = found
        fut.add_done_callback(cb, context=ctx)
