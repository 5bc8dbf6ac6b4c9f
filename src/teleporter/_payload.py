"""The payload container, written and read by the C++ codec (csrc/codec, csrc/stream).

A payload holds a JSON meta section (what ``teleporter inspect`` shows; never executed),
the pickle stream of the program's state, and one section per out-of-band buffer of
that stream (arrays and other protocol-5 buffers travel as raw bytes, without a copy at
the origin, straight into their final memory at the destination). Every section has a
CRC32C, the header has its own, padding must be zero, and a trailer digest ties them
together: a reader refuses a foreign, truncated, corrupt or wrong-interpreter payload with
one line before anything in it is unpickled. With a key, a payload is signed
(HMAC-SHA256 of every byte before the signature) and a reader with the key refuses an
unsigned or wrongly signed one, also before anything is unpickled.
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


def _hmac(key: bytes | None) -> Any:
    """The keyed hash of a signed payload: HMAC-SHA256 (stdlib hmac, OpenSSL's SHA-256)."""
    if key is None:
        return None
    import hmac

    return hmac.new(key, digestmod="sha256")


def write(
    fd: int,
    meta: bytes,
    state: bytes | memoryview,
    buffers: list[Any],
    mapped_fd: int = -1,
    *,
    key: bytes | None = None,
) -> int:
    """Streams one payload to fd; returns its size. OSError (BrokenPipeError...) passes.
    With `mapped_fd` (a memory file for a local destination), large buffers are written
    there instead, once, for the destination to map without copying. With `key`, the
    payload is signed (and `mapped_fd` unused: the signature covers the stream)."""
    return _impl.write_payload(
        fd, meta, state, buffers, VERSION, mapped_fd, MAPPED_THRESHOLD, _hmac(key)
    )


def read(
    fd: int, mapped_fd: int = -1, *, key: bytes | None = None
) -> tuple[bytes, bytearray, list[Any], dict[str, Any]]:
    """Reads and verifies one payload from fd (exactly its bytes: what follows stays).
    With `key`, only a payload signed with that key is accepted."""
    try:
        return _impl.read_payload(fd, mapped_fd, _hmac(key))
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


# The meta sections teleporter writes nest a few levels deep; a deeper one is refused
# rather than walked.
_META_DEPTH = 32


def describe(fd: int, key: bytes | None = None) -> dict[str, Any]:
    """Header, section table and meta of a payload file: every byte is read and checked
    (with `key`, the signature too, and an unsigned payload is refused), but only the meta
    section is kept and nothing is unpickled. info["signed"] tells whether it is signed."""
    try:
        info = _impl.describe_payload(fd, _hmac(key))
    except _impl.PayloadFormatError as e:
        raise PayloadError(str(e)) from None
    except OSError as e:
        raise PayloadError(f"cannot read the payload: {e.strerror or e}") from None
    info["meta"] = _parse_meta(bytes(info["meta"]))
    return info


def _finite(text: str) -> float:
    value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("not a finite number")
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse_meta(raw: bytes) -> dict[str, Any]:
    """The meta section as a JSON object of finite numbers, strings, lists and objects, at
    most _META_DEPTH deep (what inspect can show, and write again as JSON)."""
    import json

    try:
        meta = json.loads(raw, parse_float=_finite, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise PayloadError("corrupt payload: its meta section is not JSON") from None
    if not isinstance(meta, dict):
        raise PayloadError("corrupt payload: its meta section is not a JSON object")
    todo: list[tuple[Any, int]] = [(meta, 1)]
    while todo:
        value, depth = todo.pop()
        if depth > _META_DEPTH:
            raise PayloadError("corrupt payload: its meta section is nested too deeply")
        if isinstance(value, dict):
            todo.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            todo.extend((v, depth + 1) for v in value)
    return meta
