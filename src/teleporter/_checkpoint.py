"""Checkpoints: the payload of a move, written to a file instead of a pipe."""

from __future__ import annotations

import os
import sys

from . import _payload, _state
from .errors import PayloadError, TeleportError

TYPE_CHECKING = False  # typing itself costs start-up time
if TYPE_CHECKING:
    from typing import Any, NoReturn


def _start_trial(body: Any, buffers: list[Any]) -> tuple[int, int]:
    """Forks a copy of this process that rebuilds the program from the state just taken,
    as `resume` will, while the checkpoint is written: what would fail at resume (a
    reducer that needs something missing) fails now, where the program can still run.
    Returns (pid, the read end of the pipe its verdict comes on)."""
    import warnings

    lifted = [b for b in buffers if isinstance(b, (bytes, bytearray))]
    oob = [b for b in buffers if not isinstance(b, (bytes, bytearray))]
    from .transports.local import flush_stdio

    r, w = os.pipe()
    flush_stdio()  # what the program printed is not written twice by the copy
    with warnings.catch_warnings():  # 3.12+ warns about fork() beside native threads
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid:
        os.close(w)
        return pid, r
    try:  # the trial copy: nothing it does may be seen, and it never returns
        os.close(r)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        try:
            _state.rebuild(body, oob, lifted)
            word = b"A"
        except BaseException as e:
            from ._boot import failure

            word = b"F" + failure(e)[0].encode(errors="replace")
        os.write(w, word)
    finally:
        os._exit(0)


def _trial_verdict(pid: int, r: int) -> str | None:
    """None when the trial copy rebuilt the program, else why it could not."""
    from ._target import read_to_end

    try:
        word = read_to_end(r)
    finally:
        os.waitpid(pid, 0)
    if word == b"A":
        return None
    return word[1:].decode(errors="replace") if word[:1] == b"F" else "the trial rebuild died"


def write(path: str, depth: int) -> bool:
    """Saves the caller's program (`depth` teleporter frames above it) to `path`."""
    meta, body, buffers = _state.snapshot(depth + 1, True, kind="checkpoint")
    pid, verdict = _start_trial(body, buffers)
    pending = True
    target = os.path.abspath(path)
    directory = os.path.dirname(target)
    tmp = os.path.join(directory, f".{os.path.basename(target)}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        try:
            _payload.write(fd, meta, body, buffers)
            os.fsync(fd)
        finally:
            os.close(fd)
        pending = False
        why = _trial_verdict(pid, verdict)
        if why is not None:
            os.unlink(tmp)
            raise TeleportError(f"cannot checkpoint: the program cannot be rebuilt from it: {why}")
        os.replace(tmp, target)  # atomic: readers see the old file or the new one
        dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dfd)  # the rename itself survives a crash
        finally:
            os.close(dfd)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise TeleportError(f"cannot write the checkpoint {path!r}: {e.strerror or e}") from None
    finally:
        if pending:  # the write failed first: the verdict no longer matters
            _trial_verdict(pid, verdict)
    return False


def resume(path: str) -> NoReturn:
    """Runs the program saved in `path` in this process, then exits with its code."""
    from . import _boot

    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as e:
        print(f"teleporter: cannot open {path!r}: {e.strerror}", file=sys.stderr)
        sys.exit(PayloadError.exit_code)
    _boot.run(fd)
    sys.exit(0)
