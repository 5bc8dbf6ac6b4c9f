"""The public entry points. Each adds a fixed number of frames above the user's frame;
``_move`` is told how many, so that capture starts exactly at the user's frame."""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing itself costs start-up time
if TYPE_CHECKING:
    from collections.abc import Mapping


def _move(
    depth: int,
    command: tuple[str, ...],
    python: str | None,
    env: Mapping[str, str] | None,
    cwd: str | None,
) -> None:
    from . import _state
    from .transports import subprocess as _subprocess

    snapshot = _state.snapshot(depth + 1, None, cwd=cwd)
    _subprocess.hand_off(snapshot, command, python or sys.executable, env)


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


def checkpoint(path: str | os.PathLike[str]) -> bool:
    """Write the running program to `path` and keep running: returns False here, and True
    where the checkpoint is resumed (``teleporter resume PATH``).

    The file is replaced atomically and durably: a crash, a kill or a full disk during the
    write leaves the previous checkpoint at `path` intact. Raises TeleportError (the
    program keeps running) when the state cannot be saved.
    """
    from . import _checkpoint

    return _checkpoint.write(os.fspath(path), depth=1)


def resume(path: str | os.PathLike[str]) -> None:
    """Continue the program saved in `path` in this process; exits with its exit code."""
    from . import _checkpoint

    _checkpoint.resume(os.fspath(path))
