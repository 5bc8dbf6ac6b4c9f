"""Checkpoints: the payload of a move, written to a file instead of a pipe."""

from __future__ import annotations

import os
import sys

from . import _payload, _state
from .errors import PayloadError, TeleportError

TYPE_CHECKING = False  # typing itself costs start-up time
if TYPE_CHECKING:
    from typing import NoReturn


def write(path: str, depth: int) -> bool:
    """Saves the caller's program (`depth` teleporter frames above it) to `path`."""
    meta, body, buffers = _state.snapshot(depth + 1, True, kind="checkpoint")
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
