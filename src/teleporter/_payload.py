"""The payload container, written and read by the C++ codec (csrc/codec, csrc/stream).

A payload holds a JSON meta section (what ``teleporter inspect`` shows; never executed),
the pickle stream of the program's state, and one section per out-of-band buffer of
that stream (arrays and other protocol-5 buffers travel as raw bytes, without a copy at
the origin, straight into their final memory at the destination). Every section has a
CRC32C, the header has its own, and a trailer digest covers the whole payload. A reader
refuses a foreign, truncated, corrupt or wrong-interpreter payload with one line before
anything in it is unpickled.
"""

from __future__ import annotations

import os
import time

from . import _teleporter_impl as _impl
from ._version import __version__
from .errors import PayloadError

TYPE_CHECKING = False  # typing itself costs start-up time
if TYPE_CHECKING:
    from typing import Any


def _version_number(v: str) -> int:
    parts = [int(p) for p in v.split(".")[:3]]
    parts += [0] * (3 - len(parts))
    return parts[0] << 16 | parts[1] << 8 | parts[2]


VERSION = _version_number(__version__)


def make_meta(kind: str, **extra: Any) -> bytes:
    meta = {
        "kind": kind,
        "created": time.time(),
        "host": os.uname().nodename,
        "pid": os.getpid(),
        "teleporter": __version__,
    }
    if not extra and all(isinstance(v, (int, float)) or _plain(v) for v in meta.values()):
        # A teleport's meta: written without json, whose import (re, enum) costs
        # milliseconds on both sides of every move.
        fields = ", ".join(
            f'"{k}": {v!r}' if isinstance(v, (int, float)) else f'"{k}": "{v}"'
            for k, v in meta.items()
        )
        return ("{" + fields + "}").encode()
    import json

    meta.update(extra)
    return json.dumps(meta, default=repr).encode()


def _plain(v: Any) -> bool:
    return isinstance(v, str) and all(c.isalnum() or c in "._-" for c in v)


# Buffers at least this large go through the memory file of a local move.
MAPPED_THRESHOLD = 1 << 20


def write(
    fd: int, meta: bytes, state: bytes | memoryview, buffers: list[Any], mapped_fd: int = -1
) -> int:
    """Streams one payload to fd; returns its size. OSError (BrokenPipeError...) passes.
    With `mapped_fd` (a memory file for a local destination), large buffers are written
    there instead, once, for the destination to map without copying."""
    return _impl.write_payload(fd, meta, state, buffers, VERSION, mapped_fd, MAPPED_THRESHOLD)


def read(fd: int, mapped_fd: int = -1) -> tuple[bytes, bytearray, list[Any], dict[str, Any]]:
    """Reads and verifies one payload from fd (exactly its bytes: what follows stays)."""
    try:
        return _impl.read_payload(fd, mapped_fd)
    except _impl.PayloadFormatError as e:
        raise PayloadError(str(e)) from None
    except OSError as e:
        raise PayloadError(f"cannot read the payload: {e.strerror or e}") from None


def split_buffers(buffers: list[Any], info: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    """The protocol-5 buffers and the lifted bytes/bytearray objects, by section flag."""
    flags = [s["flags"] for s in info["sections"][2:]]
    oob = [b for b, f in zip(buffers, flags) if not f & 2]
    lifted = [b for b, f in zip(buffers, flags) if f & 2]
    return oob, lifted


def describe(fd: int) -> dict[str, Any]:
    """Header, section table and meta of a payload file, without reading its data."""
    try:
        info = _impl.describe_payload(fd)
    except _impl.PayloadFormatError as e:
        raise PayloadError(str(e)) from None
    import json

    try:
        info["meta"] = json.loads(bytes(info["meta"]))
    except ValueError:
        raise PayloadError("corrupt payload: its meta section is not JSON") from None
    return info
