"""`teleporter inspect` and `teleporter resume` on bad input: every byte of a checkpoint is
checked (a flipped bit anywhere is refused), anything but a regular file is refused
without blocking, a header's claims never become arithmetic overflows, recorded strings
are shown with their control characters escaped, and a well-formed checkpoint whose state
has the wrong shape is refused. Every refusal is one line on stderr and exit code 2."""

import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import textwrap
import time

import pytest

from teleporter import _payload
from teleporter import _teleporter_impl as impl
from teleporter.__main__ import main
from teleporter.errors import PayloadError

FIXED, ENTRY, TRAILER = 40, 32, 16

SMALL = textwrap.dedent(
    """
    import sys
    import teleporter

    class Loud:  # rebuilding it prints: a refused checkpoint must never get that far
        def __reduce__(self):
            return (print, ("UNPICKLED",))

    marker = Loud()
    import numpy as np
    data = np.arange(20.0)  # an out-of-band buffer: a section of its own beside the state

    def work(n):
        label = "escape \\x1b[31mred\\x1b]0;title\\x07"
        if teleporter.checkpoint(sys.argv[1]):
            print("resumed", n, len(data))

    work(7)
    """
)


def python(*args, **kw):
    kw.setdefault("timeout", 60)
    return subprocess.run([sys.executable, *args], capture_output=True, **kw)


def teleporter_cli(*args, **kw):
    return python("-m", "teleporter", *args, **kw)


def assert_refused(r, message=""):
    err = r.stderr.decode()
    assert r.returncode == 2, (r.returncode, err)
    assert r.stdout == b""  # nothing ran, nothing was shown
    assert err.startswith("teleporter: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert message in err, err


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    d = tmp_path_factory.mktemp("small")
    prog = d / "prog.py"
    prog.write_text(SMALL)
    ckpt = d / "small.ckpt"
    r = python(str(prog), str(ckpt))
    assert r.returncode == 0 and r.stderr == b"", r.stderr.decode()
    return ckpt.read_bytes()


def table(data):
    (count,) = struct.unpack_from("<I", data, 32)
    return [struct.unpack_from("<IIQQI", data, FIXED + ENTRY * i) for i in range(count)]


def with_header_crc(data):
    data = bytearray(data)
    (count,) = struct.unpack_from("<I", data, 32)
    end = FIXED + ENTRY * count
    struct.pack_into("<I", data, end, impl.crc32c(bytes(data[:end])))
    return bytes(data)


def fd_of(data):
    f = tempfile.TemporaryFile()
    f.write(data)
    f.seek(0)
    return f


def test_the_small_checkpoint_is_good(small, tmp_path):
    """The base of the damage tests: it resumes, and has padding between its sections."""
    ckpt = tmp_path / "good.ckpt"
    ckpt.write_bytes(small)
    r = teleporter_cli("resume", str(ckpt))
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout == b"UNPICKLED\nresumed 7 20\n"
    sections = table(small)
    assert [k for k, *_ in sections] == [1, 2, 3]
    assert any(
        off + length < nxt
        for (_, _, off, length, _), (_, _, nxt, _, _) in zip(sections, sections[1:])
    )


# ---- a flipped bit anywhere -----------------------------------------------------------------


def test_every_flipped_byte_is_refused_before_anything_is_unpickled(small, capsys):
    """Each byte of the file in turn, flipped: the reader that resume uses and inspect
    (the whole command, in this process) refuse every one of them in one line, exit 2."""
    refused_read = refused_inspect = 0
    for i in range(len(small)):
        for bit in (0x01, 0x80):
            data = bytearray(small)
            data[i] ^= bit
            with fd_of(bytes(data)) as f:
                with pytest.raises(PayloadError):
                    _payload.read(f.fileno())
                refused_read += 1
                path = f"/proc/self/fd/{f.fileno()}"
                f.seek(0)
                assert main(["inspect", path]) == 2
            out, err = capsys.readouterr()
            assert out == "" and err.startswith("teleporter: ") and err.count("\n") == 1, (i, err)
            refused_inspect += 1
    assert refused_read == refused_inspect == 2 * len(small)


def _sample(data):
    """Offsets for the command-line runs: every field of the header, every section's
    first and last bytes and the padding after each, the trailer, and every 257th byte."""
    sections = table(data)
    hsize = sections[0][2]
    picks = set(range(0, hsize, 16)) | set(range(len(data) - TRAILER, len(data), 4))
    for _, _, off, length, _ in sections:
        picks |= {off, off + length - 1, off + length}
    picks |= set(range(0, len(data), 257))
    return sorted(p for p in picks if p < len(data))


def test_flipped_bytes_are_refused_by_the_commands(small, tmp_path):
    """A sample of the same damage through `python -m teleporter resume` and `inspect`:
    one line, exit 2, nothing unpickled, no traceback."""
    bad = tmp_path / "bad.ckpt"
    sample = _sample(small)
    assert len(sample) > 30
    for i in sample:
        data = bytearray(small)
        data[i] ^= 0x10
        bad.write_bytes(bytes(data))
        for command in ("resume", "inspect"):
            assert_refused(teleporter_cli(command, str(bad)))


def test_padding_must_be_zero(small):
    sections = table(small)
    end = next(
        off + length
        for (_, _, off, length, _), (_, _, after, _, _) in zip(sections, sections[1:])
        if off + length < after
    )
    data = bytearray(small)
    data[end] = 1  # padding after a section
    with fd_of(bytes(data)) as f:
        with pytest.raises(PayloadError, match="padding between sections is not zero"):
            _payload.read(f.fileno())
    with pytest.raises(impl.PayloadFormatError, match="padding"):
        impl.check_payload(bytes(data))


def test_an_older_format_is_refused_in_one_line(small, tmp_path):
    old = tmp_path / "old.ckpt"
    old.write_bytes(with_header_crc(small[:8] + struct.pack("<H", 2) + small[10:]))
    for command in ("resume", "inspect"):
        assert_refused(
            teleporter_cli(command, str(old)),
            "teleporter: payload format 2 is not supported (this teleporter reads 3)",
        )


# ---- not a file, or a file that claims too much ---------------------------------------------


@pytest.mark.parametrize("command", ["resume", "inspect"])
def test_what_is_not_a_regular_file_is_refused_without_blocking(tmp_path, command):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "sock"))
    try:
        for path, kind in (
            (tmp_path, "a directory"),
            (fifo, "a FIFO"),  # nobody writes to it: opening it would block
            (tmp_path / "sock", "a socket"),
            ("/dev/null", "a character device"),
        ):
            start = time.monotonic()
            r = teleporter_cli(command, str(path), timeout=20)
            assert_refused(r, f"teleporter: {str(path)!r} is not a checkpoint file: it is {kind}")
            assert time.monotonic() - start < 15
    finally:
        sock.close()


def _claims(data):
    """Headers (their checksum right) whose lengths add up past what any file holds."""
    sections = table(data)
    hsize = sections[0][2]

    def claim(lengths, total=None):
        d = bytearray(data)
        off = hsize
        for i, length in enumerate(lengths):
            struct.pack_into("<QQ", d, FIXED + ENTRY * i + 8, off % 2**64, length)
            off = (off + length + 63) // 64 * 64
        struct.pack_into("<Q", d, 24, (off + TRAILER if total is None else total) % 2**64)
        return with_header_crc(bytes(d))

    meta, state, buf = (length for _, _, _, length, _ in sections)
    yield "state 2^62", claim([meta, 1 << 62, buf]), "out of range"
    yield "state 2^62 - 2^16", claim([meta, (1 << 62) - (1 << 16), buf]), "truncated payload"
    yield "state 2^63", claim([meta, 1 << 63, buf]), "out of range"
    yield "state 2^64 - 1024", claim([meta, 2**64 - 1024, buf]), "corrupt payload"
    yield "two of 2^61", claim([meta, 1 << 61, 1 << 61]), "out of range"
    yield "buffer 2^62", claim([meta, state, 1 << 62]), "out of range"
    yield "meta 2^62 - 2^16", claim([(1 << 62) - (1 << 16), state, buf]), "truncated payload"
    yield "total 2^64 - 16", claim([meta, state, buf], 2**64 - 16), "out of range"


@pytest.mark.parametrize("which", range(8))
def test_huge_section_lengths_are_refused_in_one_line(small, tmp_path, which):
    name, data, message = list(_claims(small))[which]
    huge = tmp_path / "huge.ckpt"
    huge.write_bytes(data)
    for command in ("resume", "inspect"):
        assert_refused(teleporter_cli(command, str(huge)), message)
    with pytest.raises(impl.PayloadFormatError):
        impl.check_payload(data)


# ---- what inspect prints ------------------------------------------------------------------

RAW = "\x1b[31mred\x1b]0;title\x07"
ESCAPED = "\\x1b[31mred\\x1b]0;title\\x07"

SHOWN = textwrap.dedent(
    """
    import sys
    import teleporter

    class Sneaky:
        def __repr__(self):
            return "\\x1b[2J\\x1b]0;owned\\x07\\u202eevil\\n second line"

    %s = 1  # a global named with a control character
    sneaky = Sneaky()

    def work():
        s = "\\x1b[31mred\\x1b]0;title\\x07"
        teleporter.checkpoint(sys.argv[1])

    work()
    """
) % ("globals()['bell\\x07']",)


def test_inspect_escapes_control_characters_in_what_was_recorded(tmp_path):
    prog = tmp_path / "prog.py"
    prog.write_text(SHOWN)
    ckpt = tmp_path / "esc.ckpt"
    r = python(str(prog), str(ckpt), f"arg{RAW}")
    assert r.returncode == 0, r.stderr.decode()
    r = teleporter_cli("inspect", str(ckpt))
    assert r.returncode == 0, r.stderr.decode()
    out = r.stdout.decode()
    for c in "\x1b\x07\u202e":
        assert c not in out
    assert f"      s: str = '{ESCAPED}'" in out
    assert f"argv         {prog} {ckpt} arg{ESCAPED}" in out
    assert "  sneaky: Sneaky = \\x1b[2J\\x1b]0;owned\\x07\\u202eevil\\n second line" in out
    assert "  bell\\x07: int = 1" in out
    j = teleporter_cli("inspect", "--json", str(ckpt))
    assert j.returncode == 0, j.stderr.decode()
    assert all(32 <= b < 127 or b in b"\n" for b in j.stdout)  # escaped, ASCII
    info = json.loads(j.stdout)
    assert info["meta"]["argv"][-1] == f"arg{RAW}"  # the same text, once decoded
    local = {v["name"]: v["repr"] for v in info["meta"]["frames"][0]["locals"]}
    assert local["s"] == repr(RAW)


def crafted(meta: bytes, state=b"\x80\x05N.") -> bytes:
    with tempfile.TemporaryFile() as f:
        _payload.write(f.fileno(), meta, state, [])
        f.seek(0)
        return f.read()


HOSTILE_META = [
    ("not an object", b"[1, 2]", 2, "its meta section is not a JSON object"),
    ("not JSON", b"{", 2, "its meta section is not JSON"),
    ("not UTF-8", b'{"host": "\xff"}', 2, "its meta section is not JSON"),
    ("NaN", b'{"created": NaN}', 2, "its meta section is not JSON"),
    ("infinite", b'{"created": 1e999}', 2, "its meta section is not JSON"),
    ("deep", b'{"a": ' + b"[" * 100 + b"]" * 100 + b"}", 2, "nested too deeply"),
    ("deeper", b'{"a": ' + b"[" * 100000 + b"]" * 100000 + b"}", 2, "corrupt payload"),
    ("wrong types", b'{"frames": 5, "argv": "x", "created": "y", "globals": {}}', 0, ""),
    (
        "wrong items",
        b'{"frames": [5, {"function": [1], "locals": [3, {"name": 4}]}], "globals": [null]}',
        0,
        "",
    ),
    ("huge time", b'{"created": 1e300, "pid": {"a": 1}}', 0, ""),
    ("controls", '{"host": "\\u001b[2J\\u007f\\u009b\\ud800\\u2028"}'.encode(), 0, ""),
]


@pytest.mark.parametrize(
    "name, meta, code, message", HOSTILE_META, ids=[m[0] for m in HOSTILE_META]
)
def test_inspect_shows_or_refuses_any_meta_section(tmp_path, name, meta, code, message):
    ckpt = tmp_path / "meta.ckpt"
    ckpt.write_bytes(crafted(meta))
    for args in (["inspect"], ["inspect", "--json"]):
        r = teleporter_cli(*args, str(ckpt))
        if code:
            assert_refused(r, message)
            continue
        assert r.returncode == 0 and r.stderr == b"", r.stderr.decode()
        text = r.stdout.decode("utf-8")
        assert not any(c in text for c in "\x1b\x7f\x9b\u2028"), text
        if "--json" in args:
            json.loads(text)  # still valid JSON
        else:
            assert "sections:" in text


def test_inspect_output_survives_a_narrow_encoding(tmp_path):
    ckpt = tmp_path / "meta.ckpt"
    ckpt.write_bytes(crafted('{"host": "h\\u00e9te \\u65e5"}'.encode()))
    r = teleporter_cli("inspect", str(ckpt), env={**os.environ, "PYTHONIOENCODING": "ascii"})
    assert r.returncode == 0, r.stderr.decode()
    assert b"on h\\xe9te \\u65e5 (pid ?)" in r.stdout


# ---- well-formed checkpoints of a hostile state ---------------------------------------------

HOSTILE_STATE = textwrap.dedent(
    """
    import os, sys
    from teleporter import _payload, _pickling, _state

    FIELD, VALUE = sys.argv[2], sys.argv[3]

    class Loud:
        def __reduce__(self):
            return (print, ("UNPICKLED",))

    class Fails:  # raises while the state is rebuilt, with a message of two lines
        def __reduce__(self):
            return (exec, ("raise ValueError('line one\\\\nline two')",))

    real = _pickling.dumps

    def hostile(state):
        value = eval(VALUE)
        if FIELD == "*":
            return real(value)
        if FIELD == "frame":
            state["frames"][-1] = value(state["frames"][-1])
        else:
            state[FIELD] = value
        return real(state)

    def save(path):  # a checkpoint written with the payload writer, its state altered
        _pickling.dumps = hostile
        try:
            meta, body, buffers = _state.snapshot(1, True, kind="checkpoint")
        finally:
            _pickling.dumps = real
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        _payload.write(fd, meta, body, buffers)
        os.close(fd)
        return False

    x = 5
    if save(sys.argv[1]):
        print("resumed", x)
    """
)

STATES = [
    ("state is a list", "*", "[1, 2]", "malformed payload: no frames"),
    ("process is a list", "process", "[1]", "its 'process' is not of type dict"),
    ("main is a number", "main", "5", "its 'main' is not of type list"),
    ("patches is a dict", "patches", "{}", "its 'patches' is not of type list"),
    ("frames is a tuple", "frames", "()", "its 'frames' is not of type list"),
    ("record too short", "frame", "lambda r: r[:3]", "frame 0: malformed record"),
    ("locals of another length", "frame", "lambda r: r[:3] + ((1, 2),) + r[4:]", "frame 0: "),
    ("call position", "frame", "lambda r: r[:5] + (10**6,) + r[6:]", "frame 0: call position"),
    ("entry of another kind", "frame", "lambda r: r[:6] + ('r',)", "frame 0: malformed record"),
    ("entry not a string", "frame", "lambda r: r[:6] + (b'c',)", "frame 0: malformed record"),
    (
        "frame object out of its stack",
        "frame",
        "lambda r: r[:3] + ((__import__('teleporter._frames')._frames.MovingFrame(9),),) + r[4:]",
        "a frame reference out of its stack",
    ),
    ("signal handler entry at the bottom", "frame", "lambda r: r[:6] + ('s',)", "frame 0: "),
    ("recursion limit", "recursionlimit", "'deep'", "its 'recursionlimit' is not of type int"),
    ("handled exception", "handled", "Loud", "malformed handled exception"),
    ("process settings", "process", "{'random': Loud()}", "random settings"),
    ("two-line error", "result", "Fails()", "ValueError: line one\\nline two"),
]


@pytest.mark.parametrize("name, field, value, message", STATES, ids=[s[0] for s in STATES])
def test_a_well_formed_checkpoint_of_a_hostile_state_is_refused_in_one_line(
    tmp_path, name, field, value, message
):
    prog = tmp_path / "prog.py"
    prog.write_text(HOSTILE_STATE)
    ckpt = tmp_path / "hostile.ckpt"
    w = python(str(prog), str(ckpt), field, value)
    assert w.returncode == 0 and w.stderr == b"", w.stderr.decode()
    r = teleporter_cli("resume", str(ckpt))
    err = r.stderr.decode()
    assert r.returncode == 2, err
    assert err.startswith("teleporter: ") and err.count("\n") == 1 and "Traceback" not in err
    assert message in err, err
    assert b"resumed" not in r.stdout
    i = teleporter_cli("inspect", str(ckpt))  # the container is fine: inspect shows it
    assert i.returncode == 0 and b"UNPICKLED" not in i.stdout, i.stderr.decode()


def test_the_crafted_state_resumes_when_left_alone(tmp_path):
    """The writer of the hostile states, with its state unchanged, makes a checkpoint
    that resumes: the refusals above are the alterations'."""
    prog = tmp_path / "prog.py"
    prog.write_text(HOSTILE_STATE)
    ckpt = tmp_path / "fine.ckpt"
    w = python(str(prog), str(ckpt), "frame", "lambda r: r")
    assert w.returncode == 0 and w.stderr == b"", w.stderr.decode()
    r = teleporter_cli("resume", str(ckpt))
    assert (r.returncode, r.stdout, r.stderr) == (0, b"resumed 5\n", b"")


def test_errors_never_print_more_than_one_line(capsys):
    assert main(["inspect", "/nonexistent\n\x1b[31m"]) == 2
    assert capsys.readouterr().err == (
        "teleporter: cannot open '/nonexistent\\n\\x1b[31m': No such file or directory\n"
    )
