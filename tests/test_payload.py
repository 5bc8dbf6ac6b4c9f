"""The payload container: a destination refuses a foreign, truncated, corrupt or
wrong-interpreter payload with one line on stderr and exit code 2, before unpickling or
running any of it; the in-memory decoder refuses the same inputs and never crashes."""

import os
import random
import struct
import subprocess
import sys
import tempfile

import pytest

from teleporter import _payload
from teleporter import _teleporter_impl as impl

BOOT = "import teleporter._boot as b; b.main()"
# A pickle whose loading would run a shell command: it must never be loaded.
EVIL = b"cos\nsystem\n(S'echo EXECUTED'\ntR."
FIXED, ENTRY = 40, 32


def encode(meta=b"{}", state=EVIL, buffers=()):
    with tempfile.TemporaryFile() as f:
        _payload.write(f.fileno(), meta, state, list(buffers))
        f.seek(0)
        return f.read()


def boot(data: bytes):
    return subprocess.run([sys.executable, "-c", BOOT], input=data, capture_output=True)


def with_header_crc(data: bytes) -> bytes:
    """Recomputes the header checksum after a deliberate edit of the header."""
    (count,) = struct.unpack_from("<I", data, 32)
    end = FIXED + ENTRY * count
    return data[:end] + struct.pack("<I", impl.crc32c(data[:end])) + data[end + 4 :]


def flip(data: bytes, offset: int) -> bytes:
    return data[:offset] + bytes([data[offset] ^ 0x40]) + data[offset + 1 :]


def section(data: bytes, i: int):
    off, length = struct.unpack_from("<QQ", data, FIXED + ENTRY * i + 8)
    return off, length


def test_crc32c_known_answer():
    assert impl.crc32c(b"123456789") == 0xE3069283
    assert impl.crc32c(b"") == 0
    big = bytes(range(256)) * 4099  # the hardware path, with an unaligned tail
    assert impl.crc32c(big) == impl.crc32c(memoryview(big))


def test_round_trip_keeps_sections_and_alignment():
    bufs = [b"x" * 1000, bytearray(b"y" * 70), b""]
    data = encode(b'{"a": 1}', b"state", bufs)
    assert impl.check_payload(data) == 5
    with tempfile.TemporaryFile() as f:
        f.write(data)
        f.seek(0)
        meta, state, buffers, info = _payload.read(f.fileno())
    assert (meta, bytes(state), [bytes(b) for b in buffers]) == (b'{"a": 1}', b"state", bufs)
    assert all(s["offset"] % 64 == 0 for s in info["sections"])
    assert info["python"] == tuple(sys.version_info[:2])
    assert info["total"] == len(data)


def _mutations():
    good = encode()
    off1, len1 = section(good, 1)
    total = len(good)
    yield "magic", b"NOTTELEP" + good[8:], "not a teleporter payload (bad magic)"
    yield "format", good[:8] + struct.pack("<H", 99) + good[10:], "payload format 99"
    yield (
        "python",
        good[:12] + struct.pack("<I", 0x0309) + good[16:],
        "payload was written by CPython 3.9, this is CPython",
    )
    yield "magic number", good[:16] + b"\0\0\r\n" + good[20:], "another bytecode magic number"
    yield "table", flip(good, FIXED + ENTRY + 8), "header checksum mismatch"
    yield "state", flip(good, off1 + 3), "section 1 checksum mismatch"
    yield "cut in state", good[: off1 + 5], "truncated payload: section 1 ended after 5 of"
    yield "cut trailer", good[:-16], "trailer is missing"
    yield "digest", flip(good, total - 8), "whole-payload checksum mismatch"
    yield "empty", b"", "truncated payload"
    yield "header only", good[:20], "truncated payload"
    # A self-consistent header that claims a 2**62-byte state: read as far as data goes.
    huge = bytearray(good)
    struct.pack_into("<Q", huge, FIXED + ENTRY + 16, 1 << 62)
    struct.pack_into("<Q", huge, 24, 1 << 63)
    yield "huge claim", with_header_crc(bytes(huge)), "corrupt payload"


MUTATIONS = list(_mutations())


@pytest.mark.parametrize("name, data, message", MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_destination_refuses(name, data, message):
    r = boot(data)
    err = r.stderr.decode()
    assert r.returncode == 2, err
    assert r.stdout == b""  # nothing ran
    assert err.count("\n") == 1 and err.startswith("teleporter: "), err
    assert message in err


@pytest.mark.parametrize("name, data, message", MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_decoder_refuses(name, data, message):
    with pytest.raises(impl.PayloadFormatError):
        impl.check_payload(data)


def test_mutation_smoke():
    """Thousands of random corruptions of a valid payload: each is refused cleanly (or,
    when it hit padding only, accepted); none crashes the interpreter."""
    good = encode(b'{"k": [1, 2]}', b"s" * 300, [b"b" * 200, b"c" * 10])
    rng = random.Random(1234)
    refused = 0
    for _ in range(5000):
        data = bytearray(good)
        for _ in range(rng.randint(1, 4)):
            op = rng.random()
            pos = rng.randrange(len(data))
            if op < 0.6:
                data[pos] = rng.randrange(256)
            elif op < 0.8:
                del data[pos:]
            else:
                data[pos:pos] = os.urandom(rng.randint(1, 8))
            if not data:
                break
        try:
            impl.check_payload(bytes(data))
        except impl.PayloadFormatError:
            refused += 1
    assert refused > 4500


def test_malformed_frames_are_refused_before_running():
    import pickle

    state = {
        "frames": [("not code", None, {}, (), (), 0)],
        "main": [],
        "main_order": [],
        "patches": [],
        "handled": None,
        "result": None,
        "recursionlimit": 1000,
        "process": {},
    }
    r = boot(encode(state=pickle.dumps(state)))
    assert r.returncode == 2
    assert r.stderr.decode() == "teleporter: frame 0: malformed record\n"
