"""The public entry points. Each adds a fixed number of frames above the user's frame;
``_move`` is told how many, so that capture starts exactly at the user's frame."""

from __future__ import annotations

import _thread
import os
import sys

from .errors import TeleportError

TYPE_CHECKING = False  # typing itself costs start-up time
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any


# How long a move waits, at each step before the hand-off, for a destination that does
# not answer: its start-up (a launcher may have to connect or be scheduled first), then the
# word that it rebuilt the program once it has all of it.
TIMEOUT = 120.0
# How long the program's other threads may take to reach a point where they can be
# captured (a thread in native code that holds no Python frame still, a lock being taken)
# before the move is refused, the program running on.
SAFE_POINT_TIMEOUT = 5.0
# Held while the program is being moved or checkpointed by one of its threads.
_in_progress = _thread.allocate_lock()


def _valid_env(env: object) -> dict[str, str] | None:
    """`env` as checked before anything starts: str names of letters, digits and _ not
    starting with a digit (what a shell can export), str values without NUL; a
    TeleportError names the first bad variable."""
    from .errors import TeleportError

    if env is None:
        return None
    if not callable(getattr(env, "items", None)):
        raise TeleportError(f"env: expected a mapping of names to values, not {type(env).__name__}")
    checked = {}
    for name, value in env.items():  # type: ignore[attr-defined]
        if not (isinstance(name, str) and name.isascii() and name.isidentifier()):
            raise TeleportError(f"env: {name!r} is not a valid variable name")
        if not isinstance(value, str):
            raise TeleportError(
                f"env: the value of {name!r} is not a string ({type(value).__name__})"
            )
        if "\0" in value:
            raise TeleportError(f"env: the value of {name!r} contains a NUL byte")
        checked[name] = value
    return checked


def _valid_path(what: str, path: object, pathlike: bool) -> str | None:
    """`path` (`what=`) as a str without NUL, or None; else TeleportError."""
    from .errors import TeleportError

    if path is None:
        return None
    if pathlike and isinstance(path, os.PathLike):
        path = os.fspath(path)
    if not isinstance(path, str):
        kinds = "a str or an os.PathLike of str" if pathlike else "a str"
        raise TeleportError(f"{what}: expected {kinds}, not {type(path).__name__}")
    if "\0" in path:
        raise TeleportError(f"{what}: {path!r} contains a NUL byte")
    return path


class _EndAsFound:
    """Leaves the interpreter's way of ending as it was. A KeyboardInterrupt that lands
    while teleporter runs code made from a string (a module it imports defining a named
    tuple) marks the program, in CPython, to end by SIGINT whatever its exit code, even
    when the program catches the KeyboardInterrupt that this call raises."""

    def __enter__(self) -> None:
        from . import _teleporter_impl

        self.flag = _teleporter_impl.unhandled_interrupt()

    def __exit__(self, *exc: object) -> None:
        from . import _teleporter_impl

        _teleporter_impl.unhandled_interrupt(self.flag)


class _OneAtATime:
    """One move or checkpoint of the program at a time: another call meanwhile (from
    another thread) is refused by a TeleportError that says why, the program running on."""

    def __init__(self, call: str, refusal: type[TeleportError] = TeleportError) -> None:
        self.call, self.refusal = call, refusal

    def __enter__(self) -> None:
        if not _in_progress.acquire(blocking=False):
            raise self.refusal(
                f"cannot {self.call}: another call is moving or checkpointing the program "
                "at this moment; the program keeps running"
            )

    def __exit__(self, *exc: object) -> None:
        _in_progress.release()


def _move(
    depth: int,
    command: tuple[str, ...],
    python: str | None,
    env: Mapping[str, str] | None,
    cwd: str | os.PathLike[str] | None,
    copies: int | None = None,
    timeout: float | None = TIMEOUT,
    safe_point_timeout: float = SAFE_POINT_TIMEOUT,
    result: Any = None,
) -> None:
    """Starts the destination, captures the caller's stack (`depth` API frames above it)
    and hands the program over; returns only by raising TeleportError. The destination
    is started first: its interpreter starts while this one imports the serializer and
    captures the program. `env`, `cwd` and `python` are checked before anything starts.
    From the start until the destination is told to run, a guard holds terminating
    signals: one that arrives cancels the move (see ``_guard``)."""
    with _EndAsFound(), _OneAtATime("teleport" if copies is None else "fork"):
        env = _valid_env(env)
        cwd = _valid_path("cwd", cwd, True)
        python = _valid_path("python", python, False)
        timeout = _timeout(timeout)
        safe_point = _seconds(safe_point_timeout, "safe_point_timeout")
        from ._guard import Guard

        guard = Guard()
        try:
            if not command and (python is None or python == sys.executable):
                from .transports.local import LocalMove

                move: Any = LocalMove(sys.executable, env, copies)
                remote = False
            else:  # another interpreter, or a launcher: the target says what it has first
                from .transports.launcher import LauncherMove

                move = LauncherMove(command or ("sh", "-c"), python, env, copies)
                remote = bool(command)
        except BaseException:
            guard.release()
            raise
        try:
            from . import _state

            snapshot = _state.snapshot(
                depth + 1, result, cwd=cwd, remote=remote, env=env, safe_point=safe_point
            )
        except BaseException:
            move.cancel()
            guard.release()
            raise
        if guard.pending():  # a signal came during the capture
            from . import _threads

            _threads.release()
            move.cancel()
            guard.release()
            raise TeleportError(guard.reason(""))
        try:
            move.hand_off(snapshot, guard, timeout)
        except BaseException:  # cancelled: the program goes on here, with all its threads
            from . import _threads

            _threads.release()
            raise
        finally:  # the move did not happen: the pickle stream's buffer goes now, not in a cycle
            try:
                snapshot[1].release()
            except BufferError:
                pass


def _seconds(seconds: float, name: str) -> float:
    """A positive, finite number of seconds; ValueError naming `name` else."""
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, (int, float))
        or not 0 < seconds < float("inf")
    ):
        raise ValueError(f"{name} must be a positive number of seconds, not {seconds!r}")
    return float(seconds)


def _timeout(timeout: float | None, name: str = "timeout") -> float | None:
    """A positive number of seconds, or None; ValueError naming `name` else."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"{name} must be a positive number of seconds or None, not {timeout!r}")
    return float(timeout)


def teleport(
    *command: str,
    python: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float | None = TIMEOUT,
    safe_point_timeout: float = SAFE_POINT_TIMEOUT,
) -> None:
    """Continue the running program in a new process; the caller never returns here.

    With no ``command`` the new process is local and runs the same interpreter. Otherwise
    ``command`` is an argv prefix that runs one shell command line on the target, e.g.
    ``teleport("bash", "-c")``. In the new process this call returns None. Raises
    :class:`TeleportError` (and the program keeps running here) when the stack cannot move.

    ``timeout`` bounds each wait for the destination before it takes the program (its
    start-up, then its word that it rebuilt the program); None waits forever.
    ``safe_point_timeout`` bounds the wait for the program's other threads to reach a
    point where they can be captured (a TeleportError naming the one that did not). A SIGINT,
    SIGTERM, SIGHUP or SIGQUIT that arrives before the destination took the program
    cancels the move: the destination is stopped, and the signal is then handled here,
    once, as if the move had not been tried (a KeyboardInterrupt from this call, the
    program's own handler; TeleportError when the handler returns).
    """
    _move(1, command, python, env, cwd, None, timeout, safe_point_timeout)


def tp_dummy(
    *,
    python: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float | None = TIMEOUT,
    safe_point_timeout: float = SAFE_POINT_TIMEOUT,
) -> None:
    """pyteleport's name for a local teleport: ``teleport(**kwargs)``."""
    _move(1, (), python, env, cwd, None, timeout, safe_point_timeout)


def tp_shell(
    *shell_args: str,
    python: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float | None = TIMEOUT,
    safe_point_timeout: float = SAFE_POINT_TIMEOUT,
) -> None:
    """pyteleport's name: ``teleport(*shell_args, **kwargs)``; ``tp_bash`` is the same."""
    _move(1, shell_args, python, env, cwd, None, timeout, safe_point_timeout)


tp_bash = tp_shell


def _copies(n: int, name: str) -> int:
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"{name}() needs a positive number of copies, not {n!r}")
    return n


def fork(
    n: int,
    *command: str,
    python: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float | None = TIMEOUT,
    safe_point_timeout: float = SAFE_POINT_TIMEOUT,
) -> int:
    """Continue the running program in `n` new processes; the caller never returns here.

    Each copy gets its index 0..n-1 as this call's return value. With no ``command`` the
    copies are local; otherwise they run on the target of ``command`` (as for
    :func:`teleport`). This process forwards the output of all of them, its stdin to
    copy 0 (the others read an empty stdin) and its signals to all, and exits with the
    first non-zero exit code among them (in the order they end), else 0. Raises
    :class:`TeleportError` (the program keeps running here) when it cannot move.
    """
    _move(1, command, python, env, cwd, _copies(n, "fork"), timeout, safe_point_timeout)
    raise AssertionError("unreachable")  # pragma: no cover


def fork_shell(
    *shell_args: str,
    n: int = 1,
    python: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float | None = TIMEOUT,
    safe_point_timeout: float = SAFE_POINT_TIMEOUT,
) -> int:
    """pyteleport's name: ``fork(n, *shell_args, **kwargs)``."""
    copies = _copies(n, "fork_shell")
    _move(1, shell_args, python, env, cwd, copies, timeout, safe_point_timeout)
    raise AssertionError("unreachable")  # pragma: no cover


def checkpoint(
    path: str | os.PathLike[str],
    *,
    key: bytes | str | None = None,
    safe_point_timeout: float = SAFE_POINT_TIMEOUT,
) -> bool:
    """Write the running program to `path` and keep running: returns False here, and True
    where the checkpoint is resumed (``teleporter resume PATH``).

    The file is replaced atomically and durably: a crash, a kill or a full disk during the
    write leaves the previous checkpoint at `path` intact. Raises TeleportError (the
    program keeps running) when the state cannot be saved. With a key (`key`, else the
    file named by TELEPORTER_CHECKPOINT_KEY_FILE, else TELEPORTER_CHECKPOINT_KEY), the
    checkpoint is signed (HMAC-SHA256). It may be called from any thread: the whole
    program is saved, and the call returns True in that thread where it is resumed.
    ``safe_point_timeout``: as for :func:`teleport`.
    """
    from . import _checkpoint

    safe_point = _seconds(safe_point_timeout, "safe_point_timeout")
    with _EndAsFound(), _OneAtATime("checkpoint"):
        return _checkpoint.write(os.fspath(path), depth=1, key=key, safe_point=safe_point)


# ---- asyncio: the running event loop with all its tasks (see _event_loop) ------------------


async def ateleport(
    *command: str,
    python: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float | None = TIMEOUT,
    safe_point_timeout: float = SAFE_POINT_TIMEOUT,
) -> None:
    """:func:`teleport` for a program running an asyncio event loop, awaited from any of
    its tasks: the loop moves with every task, timer and future, between two of its
    callbacks. The awaiting task gets None at the destination; a TeleportError here
    (the program, every task included, keeps running) when it cannot move."""
    from ._event_loop import between_callbacks

    await between_callbacks(_amove, command, python, env, cwd, None, timeout, safe_point_timeout)


async def afork(
    n: int,
    *command: str,
    python: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float | None = TIMEOUT,
    safe_point_timeout: float = SAFE_POINT_TIMEOUT,
) -> int:
    """:func:`fork` for a program running an asyncio event loop (see :func:`ateleport`):
    the awaiting task gets each copy's index."""
    from ._event_loop import between_callbacks

    copies = _copies(n, "afork")
    index: int = await between_callbacks(
        _amove, command, python, env, cwd, copies, timeout, safe_point_timeout
    )
    return index


async def acheckpoint(
    path: str | os.PathLike[str],
    *,
    key: bytes | str | None = None,
    safe_point_timeout: float = SAFE_POINT_TIMEOUT,
) -> bool:
    """:func:`checkpoint` for a program running an asyncio event loop (see
    :func:`ateleport`): False here, True where the checkpoint is resumed."""
    from ._event_loop import between_callbacks

    saved: bool = await between_callbacks(
        _acheckpoint, os.fspath(path), key, _seconds(safe_point_timeout, "safe_point_timeout")
    )
    return saved


def _amove(
    depth: int,
    future: Any,
    command: tuple[str, ...],
    python: str | None,
    env: Mapping[str, str] | None,
    cwd: str | os.PathLike[str] | None,
    copies: int | None,
    timeout: float | None,
    safe_point_timeout: float,
) -> None:
    """_move from the loop's callback (`depth` frames above its ``Handle._run``)."""
    from ._event_loop import Delivery

    result = Delivery(future, None)
    _move(depth + 1, command, python, env, cwd, copies, timeout, safe_point_timeout, result)


def _acheckpoint(
    depth: int, future: Any, path: str, key: bytes | str | None, safe_point: float
) -> bool:
    from . import _checkpoint
    from ._event_loop import Delivery

    with _EndAsFound(), _OneAtATime("checkpoint"):
        return _checkpoint.write(
            path, depth=depth + 1, key=key, safe_point=safe_point, result=Delivery(future, True)
        )


def resume(path: str | os.PathLike[str], *, key: bytes | str | None = None) -> None:
    """Continue the program saved in `path` in this process; exits with its exit code.
    With a key (`key`, or as for checkpoint() from the environment), only a checkpoint
    signed with it is accepted."""
    from . import _checkpoint

    _checkpoint.resume(os.fspath(path), key=key)


def checkpoint_on(
    path: str | os.PathLike[str],
    signals: Iterable[int | str] | None = None,
    every: float | None = None,
    *,
    key: bytes | str | None = None,
    exit_if_refused: bool = False,
    safe_point_timeout: float | None = None,
) -> None:
    """Checkpoint this program to `path` when one of `signals` arrives (default: SIGTERM),
    then end it with exit code 75; and, with `every`, every that many seconds while it
    runs. Called again by the same command (``python script.py args``) after such an end,
    it continues the program from `path` instead of returning; when the program ends,
    `path` is removed. What ``teleporter run`` does for a program that was not written
    for it.

    The checkpoint is taken by a thread of teleporter's own at the program's next safe
    point, every thread of the program included. One that cannot be taken leaves the
    previous checkpoint in place, says why in one line on stderr and lets the program go
    on (with `exit_if_refused`, a signal then does what it does by default). A
    checkpoint waits `safe_point_timeout` seconds at most for the program's threads to
    reach a safe point (default: 20 for a signal's, retried meanwhile while the program
    stands where it cannot be captured; 5 for a periodic one). Raises PayloadError when
    `path` holds a checkpoint of another program or a corrupt one.
    """
    from . import _run

    _run.checkpoint_on(path, signals, every, key, exit_if_refused, safe_point_timeout)
