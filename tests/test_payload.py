"""The destination refuses a foreign, truncated, corrupt or wrong-interpreter payload with
one line on stderr and exit code 2, before unpickling or running any of it."""

import struct
import subprocess
import sys
import zlib

import pytest

from teleporter import PayloadError, _payload

BOOT = "import teleporter._boot as b; b.main()"


def boot(data: bytes):
    return subprocess.run([sys.executable, "-c", BOOT], input=data, capture_output=True)


def good_body():
    # A pickle whose loading would print: it must never be loaded when the header is bad.
    return b"cos\nsystem\n(S'echo EXECUTED'\ntR."


def test_header_round_trip():
    body = b"abc"
    length, crc = _payload.parse_header(_payload.pack_header(body))
    assert (length, crc) == (3, zlib.crc32(body))


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda h, b: b"NOTTELEP" + h[8:] + b, "not a teleporter payload (bad magic)"),
        (lambda h, b: h[:8] + struct.pack("<H", 99) + h[10:] + b, "payload format 99"),
        (
            lambda h, b: h[:12] + struct.pack("<I", 0x0309) + h[16:] + b,
            "payload was written by CPython 3.9, this is CPython",
        ),
        (lambda h, b: h[:16] + b"\0\0\r\n" + h[20:] + b, "another bytecode magic number"),
        (lambda h, b: h[:20], "truncated payload: header ended after 20 of 32 bytes"),
        (lambda h, b: h, "truncated payload: body ended after 0 of"),
        (lambda h, b: h + b[:-2], "truncated payload: body ended after"),
        (lambda h, b: h + b[:-1] + b"X", "corrupt payload: checksum mismatch"),
        (lambda h, b: b"", "truncated payload: header ended after 0 of 32 bytes"),
        (
            lambda h, b: h[:20] + struct.pack("<Q", 1 << 62) + h[28:] + b,
            f"truncated payload: body ended after {len(good_body())} of {1 << 62} bytes",
        ),
    ],
)
def test_destination_refuses_bad_payloads(mutate, message):
    body = good_body()
    header = _payload.pack_header(body)
    r = boot(mutate(header, body))
    err = r.stderr.decode()
    assert r.returncode == 2, err
    assert r.stdout == b""  # nothing ran
    assert err.count("\n") == 1 and err.startswith("teleporter: "), err
    assert message in err


def test_parse_header_errors_are_payload_errors():
    with pytest.raises(PayloadError, match="truncated"):
        _payload.parse_header(b"TELE")


def test_malformed_frames_are_refused_before_running():
    import pickle

    state = {
        "frames": [("not code", None, {}, (), (), 0)],
        "main": {},
        "handled": None,
        "result": None,
        "argv": [],
        "path": sys.path,
        "cwd": "/",
        "recursionlimit": 1000,
        "random": None,
    }
    body = pickle.dumps(state)
    r = boot(_payload.pack_header(body) + body)
    assert r.returncode == 2
    assert r.stderr.decode() == "teleporter: frame 0: malformed record\n"
