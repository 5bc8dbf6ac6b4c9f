"""The payload container: a fixed header, then the pickled state.

Header (little-endian), 32 bytes:
    magic           8s   b"TELEPORT"
    format version  H
    reserved        H
    CPython         I    (major << 8 | minor) of the interpreter that wrote it
    bytecode magic  4s   importlib.util.MAGIC_NUMBER of that interpreter
    body length     Q
    body crc32      I

A reader refuses a foreign, truncated, corrupt or wrong-interpreter payload with one
line, before unpickling anything.
"""

from __future__ import annotations

import struct
import sys
import zlib
from importlib._bootstrap_external import MAGIC_NUMBER  # loaded at start-up already

from .errors import PayloadError

TYPE_CHECKING = False  # typing itself costs start-up time
if TYPE_CHECKING:
    from io import RawIOBase as BinaryIO

MAGIC = b"TELEPORT"
FORMAT_VERSION = 1
_HEADER = struct.Struct("<8sHHI4sQI")
HEADER_SIZE = _HEADER.size
_PY = sys.version_info[0] << 8 | sys.version_info[1]


def pack_header(body: bytes) -> bytes:
    return _HEADER.pack(MAGIC, FORMAT_VERSION, 0, _PY, MAGIC_NUMBER, len(body), zlib.crc32(body))


def parse_header(header: bytes) -> tuple[int, int]:
    """Returns (body length, crc32), or raises PayloadError."""
    if len(header) < HEADER_SIZE:
        raise PayloadError("truncated payload: the header is incomplete")
    magic, fmt, _, py, bc_magic, length, crc = _HEADER.unpack(header[:HEADER_SIZE])
    if magic != MAGIC:
        raise PayloadError("not a teleporter payload (bad magic)")
    if fmt != FORMAT_VERSION:
        raise PayloadError(
            f"payload format {fmt} is not supported (this teleporter reads {FORMAT_VERSION})"
        )
    if py != _PY:
        raise PayloadError(
            f"payload was written by CPython {py >> 8}.{py & 0xFF}, "
            f"this is CPython {sys.version_info[0]}.{sys.version_info[1]}"
        )
    if bc_magic != MAGIC_NUMBER:
        raise PayloadError(
            "payload was written by an interpreter with another bytecode magic number"
        )
    return length, crc


def check_body(body: bytes | bytearray | memoryview, crc: int) -> None:
    if zlib.crc32(body) != crc:
        raise PayloadError("corrupt payload: checksum mismatch")


def read_exact(stream: BinaryIO, n: int, what: str) -> bytearray:
    """Reads exactly n bytes. The buffer grows with the data actually received, so a
    length claimed by a corrupt header never turns into one huge allocation."""
    buf = bytearray(min(n, 1 << 20))
    got = 0
    while got < n:
        if got == len(buf):
            buf.extend(bytes(min(n - got, len(buf))))  # at most doubles, never beyond n
        with memoryview(buf) as view:
            k = stream.readinto(view[got:])
        if not k:
            raise PayloadError(f"truncated payload: {what} ended after {got} of {n} bytes")
        got += k
    return buf


def read(stream: BinaryIO) -> bytearray:
    length, crc = parse_header(bytes(read_exact(stream, HEADER_SIZE, "header")))
    body = read_exact(stream, length, "body")
    check_body(body, crc)
    return body
