"""The public entry points. Each adds a fixed number of frames above the user's frame;
``_move`` is told how many, so that capture starts exactly at the user's frame."""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing itself costs start-up time
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any


def _move(
    depth: int,
    command: tuple[str, ...],
    python: str | None,
    env: Mapping[str, str] | None,
    cwd: str | None,
    copies: int | None = None,
) -> None:
    """Starts the destination, captures the caller's stack (`depth` API frames above it)
    and hands the program over; returns only by raising TeleportError. The destination
    is started first: its interpreter starts while this one imports the serializer and
    captures the program."""
    if not command and (python is None or python == sys.executable):
        from .transports.local import LocalMove

        move: Any = LocalMove(sys.executable, env, copies)
        remote = False
    else:  # another interpreter, or a launcher: the target says what it has first
        from .transports.launcher import LauncherMove

        move = LauncherMove(command or ("sh", "-c"), python, env, copies)
        remote = bool(command)
    try:
        from . import _state

        snapshot = _state.snapshot(depth + 1, None, cwd=cwd, remote=remote, env=env)
    except BaseException:
        move.cancel()
        raise
    move.hand_off(snapshot)


def teleport(
    *command: str,
    python: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> None:
    """Continue the running program in a new process; the caller never returns here.

    With no ``command`` the new process is local and runs the same interpreter. Otherwise
    ``command`` is an argv prefix that runs one shell command line on the target, e.g.
    ``teleport("bash", "-c")``. In the new process this call returns None. Raises
    :class:`TeleportError` (and the program keeps running here) when the stack cannot move.
    """
    _move(1, command, python, env, os.fspath(cwd) if cwd is not None else None)


def tp_dummy(
    *,
    python: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> None:
    """pyteleport's name for a local teleport: ``teleport(**kwargs)``."""
    _move(1, (), python, env, os.fspath(cwd) if cwd is not None else None)


def tp_shell(
    *shell_args: str,
    python: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> None:
    """pyteleport's name: ``teleport(*shell_args, **kwargs)``; ``tp_bash`` is the same."""
    _move(1, shell_args, python, env, os.fspath(cwd) if cwd is not None else None)


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
) -> int:
    """Continue the running program in `n` new processes; the caller never returns here.

    Each copy gets its index 0..n-1 as this call's return value. With no ``command`` the
    copies are local; otherwise they run on the target of ``command`` (as for
    :func:`teleport`). This process forwards the output of all of them, its stdin to
    copy 0 (the others read an empty stdin) and its signals to all, and exits with the
    first non-zero exit code among them (in the order they end), else 0. Raises
    :class:`TeleportError` (the program keeps running here) when it cannot move.
    """
    _move(1, command, python, env, os.fspath(cwd) if cwd is not None else None, _copies(n, "fork"))
    raise AssertionError("unreachable")  # pragma: no cover


def fork_shell(
    *shell_args: str,
    n: int = 1,
    python: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> int:
    """pyteleport's name: ``fork(n, *shell_args, **kwargs)``."""
    copies = _copies(n, "fork_shell")
    _move(1, shell_args, python, env, os.fspath(cwd) if cwd is not None else None, copies)
    raise AssertionError("unreachable")  # pragma: no cover


def checkpoint(path: str | os.PathLike[str], *, key: bytes | str | None = None) -> bool:
    """Write the running program to `path` and keep running: returns False here, and True
    where the checkpoint is resumed (``teleporter resume PATH``).

    The file is replaced atomically and durably: a crash, a kill or a full disk during the
    write leaves the previous checkpoint at `path` intact. Raises TeleportError (the
    program keeps running) when the state cannot be saved. With a key (`key`, else the
    file named by TELEPORTER_CHECKPOINT_KEY_FILE, else TELEPORTER_CHECKPOINT_KEY), the
    checkpoint is signed (HMAC-SHA256).
    """
    from . import _checkpoint

    return _checkpoint.write(os.fspath(path), depth=1, key=key)


def resume(path: str | os.PathLike[str], *, key: bytes | str | None = None) -> None:
    """Continue the program saved in `path` in this process; exits with its exit code.
    With a key (`key`, or as for checkpoint() from the environment), only a checkpoint
    signed with it is accepted."""
    from . import _checkpoint

    _checkpoint.resume(os.fspath(path), key=key)
