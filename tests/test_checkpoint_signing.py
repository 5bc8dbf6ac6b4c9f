"""Signed checkpoints: with a key, checkpoint() signs (HMAC-SHA256 of every byte before
the signature), resume accepts only a checkpoint signed with that key and refuses any
other before unpickling anything, and inspect says verified, signed but not verified, or
unsigned."""

import hashlib
import hmac
import json
import os
import struct
import subprocess
import sys
import textwrap

import pytest

from teleporter import _teleporter_impl as impl

FIXED, ENTRY, TRAILER, SIGNATURE = 40, 32, 16, 32
KEY = "correct horse battery staple"
OTHER = "tr0ub4dor&3"

PROGRAM = textwrap.dedent(
    """
    import sys
    import teleporter

    class Loud:  # rebuilding it prints: a refused checkpoint never gets that far
        def __reduce__(self):
            return (print, ("UNPICKLED",))

    marker = Loud()
    secret_sauce = [1, 2, 3]
    how = sys.argv[2] if len(sys.argv) > 2 else ""
    if how == "argument":
        resumed = teleporter.checkpoint(sys.argv[1], key=b"correct horse battery staple")
    else:
        resumed = teleporter.checkpoint(sys.argv[1])
    print("resumed" if resumed else "written", sum(secret_sauce))
    """
)


def run(*args, key=None, key_file=None, **kw):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("TELEPORTER_CHECKPOINT_KEY", "TELEPORTER_CHECKPOINT_KEY_FILE")
    }
    if key is not None:
        env["TELEPORTER_CHECKPOINT_KEY"] = key
    if key_file is not None:
        env["TELEPORTER_CHECKPOINT_KEY_FILE"] = str(key_file)
    return subprocess.run([sys.executable, *args], capture_output=True, timeout=60, env=env, **kw)


def cli(*args, **kw):
    return run("-m", "teleporter", *args, **kw)


def write(tmp_path, name, **kw):
    prog = tmp_path / "prog.py"
    prog.write_text(PROGRAM)
    ckpt = tmp_path / name
    r = run(str(prog), str(ckpt), kw.pop("how", ""), **kw)
    assert (r.returncode, r.stdout, r.stderr) == (0, b"written 6\n", b""), r.stderr.decode()
    return ckpt


@pytest.fixture
def signed(tmp_path):
    return write(tmp_path, "signed.ckpt", key=KEY)


@pytest.fixture
def unsigned(tmp_path):
    return write(tmp_path, "unsigned.ckpt")


def assert_refused(r, message):
    err = r.stderr.decode()
    assert r.returncode == 2, err
    assert r.stdout == b"", r.stdout  # nothing unpickled: the marker did not print
    assert err == f"teleporter: {message}\n"


MISMATCH = (
    "signature mismatch: the checkpoint was not signed with this key, or was changed after "
    "it was signed"
)
NOT_SIGNED = "the checkpoint is not signed, and a key is set: only signed checkpoints are accepted"


def layout(data):
    """(signature offset, header size, section table) of a signed payload."""
    (flags,) = struct.unpack_from("<H", data, 10)
    (count,) = struct.unpack_from("<I", data, 32)
    sections = [struct.unpack_from("<IIQQI", data, FIXED + ENTRY * i) for i in range(count)]
    assert flags & 1
    return len(data) - TRAILER - SIGNATURE, sections[0][2], sections


def test_the_signature_is_an_hmac_sha256_of_every_byte_before_it(signed):
    data = signed.read_bytes()
    at, _, _ = layout(data)
    assert at % 64 == 0
    expected = hmac.new(KEY.encode(), data[:at], hashlib.sha256).digest()
    assert data[at : at + SIGNATURE] == expected
    assert impl.check_payload(data) == 2


@pytest.mark.parametrize("how", ["environment", "key file", "argument", "option"])
def test_a_signed_checkpoint_resumes_with_its_key(tmp_path, how):
    key_file = tmp_path / "key"
    key_file.write_text(KEY + "\n")  # one trailing newline is not part of the key
    if how == "environment":
        ckpt = write(tmp_path, "c.ckpt", key=KEY)
        r = cli("resume", str(ckpt), key=KEY)
    elif how == "key file":
        ckpt = write(tmp_path, "c.ckpt", key_file=key_file)
        r = cli("resume", str(ckpt), key_file=key_file)
    elif how == "argument":
        ckpt = write(tmp_path, "c.ckpt", how="argument")
        r = run("-c", f"import teleporter; teleporter.resume({str(ckpt)!r}, key={KEY!r})")
    else:
        ckpt = write(tmp_path, "c.ckpt", key=KEY)
        r = cli("resume", "--key-file", str(key_file), str(ckpt))
    assert (r.returncode, r.stdout, r.stderr) == (0, b"UNPICKLED\nresumed 6\n", b"")
    layout(ckpt.read_bytes())  # signed


def test_a_signed_checkpoint_resumes_without_a_key(signed):
    """No key, no verification (the trust is the user's, as for an unsigned one)."""
    r = cli("resume", str(signed))
    assert (r.returncode, r.stdout, r.stderr) == (0, b"UNPICKLED\nresumed 6\n", b"")


def test_a_wrong_key_is_refused_before_anything_is_unpickled(signed, tmp_path):
    assert_refused(cli("resume", str(signed), key=OTHER), MISMATCH)
    other = tmp_path / "other.key"
    other.write_text(OTHER)
    assert_refused(cli("resume", "--key-file", str(other), str(signed)), MISMATCH)
    r = run("-c", f"import teleporter; teleporter.resume({str(signed)!r}, key={OTHER!r})")
    assert_refused(r, MISMATCH)
    assert_refused(cli("inspect", str(signed), key=OTHER), MISMATCH)


def test_an_unsigned_checkpoint_is_refused_when_a_key_is_set(unsigned):
    assert_refused(cli("resume", str(unsigned), key=KEY), NOT_SIGNED)
    assert_refused(cli("inspect", str(unsigned), key=KEY), NOT_SIGNED)
    r = cli("resume", str(unsigned))  # and accepted without one
    assert (r.returncode, r.stdout) == (0, b"UNPICKLED\nresumed 6\n"), r.stderr.decode()


def fix_checksums(data):
    """Recomputes every checksum of a (signed) payload after an edit: only the signature
    can tell that it changed."""
    data = bytearray(data)
    (count,) = struct.unpack_from("<I", data, 32)
    table_end = FIXED + ENTRY * count
    lengths = []
    for i in range(count):
        entry = FIXED + ENTRY * i
        off, length = struct.unpack_from("<QQ", data, entry + 8)
        struct.pack_into("<I", data, entry + 24, impl.crc32c(bytes(data[off : off + length])))
        lengths.append((length, struct.unpack_from("<I", data, entry + 24)[0]))
    struct.pack_into("<I", data, table_end, impl.crc32c(bytes(data[:table_end])))
    hsize = struct.unpack_from("<Q", data, FIXED + 8)[0]
    (flags,) = struct.unpack_from("<H", data, 10)
    at = len(data) - TRAILER - (SIGNATURE if flags & 1 else 0)
    chain = bytes(data[:hsize]) + b"".join(struct.pack("<QI", n, c) for n, c in lengths)
    chain += bytes(data[at : len(data) - TRAILER])
    struct.pack_into("<I", data, len(data) - 8, impl.crc32c(chain))
    return bytes(data)


def test_a_tampered_signed_checkpoint_is_refused(signed, tmp_path):
    data = signed.read_bytes()
    _, _, sections = layout(data)
    _, _, off, length, _ = sections[1]  # the state: the pickle stream
    state = data[off : off + length]
    assert b"UNPICKLED" in state
    tampered = tmp_path / "tampered.ckpt"
    tampered.write_bytes(fix_checksums(data.replace(b"UNPICKLED", b"TAMPERED!")))
    assert impl.check_payload(tampered.read_bytes()) == 2  # every checksum is right: meta and state
    assert_refused(cli("resume", str(tampered), key=KEY), MISMATCH)
    assert_refused(cli("inspect", str(tampered), key=KEY), MISMATCH)
    # Without a key it is only a checkpoint whose checksums are right: it runs (what the
    # README's Trust paragraph says).
    r = cli("resume", str(tampered))
    assert r.stdout == b"TAMPERED!\nresumed 6\n"


def test_a_signature_cut_off_is_refused(signed, tmp_path):
    """Removing the signature (and the flag that says it is there) makes an unsigned
    checkpoint: refused when a key is set."""
    data = bytearray(signed.read_bytes())
    at, _, _ = layout(bytes(data))
    del data[at : at + SIGNATURE]
    struct.pack_into("<H", data, 10, 0)
    struct.pack_into("<Q", data, 24, len(data))
    stripped = tmp_path / "stripped.ckpt"
    stripped.write_bytes(fix_checksums(bytes(data)))
    assert impl.check_payload(stripped.read_bytes()) == 2
    assert_refused(cli("resume", str(stripped), key=KEY), NOT_SIGNED)


def test_every_flipped_byte_of_a_signed_checkpoint_is_refused(signed, tmp_path):
    """With the key or without it, a flipped byte anywhere (the signature too) is
    refused."""
    from teleporter import _payload
    from teleporter.errors import PayloadError

    data = signed.read_bytes()
    bad = tmp_path / "bad.ckpt"
    for i in range(len(data)):
        flipped = bytearray(data)
        flipped[i] ^= 0x04
        bad.write_bytes(bytes(flipped))
        for key in (KEY.encode(), None):
            fd = os.open(bad, os.O_RDONLY)
            try:
                with pytest.raises(PayloadError):
                    _payload.read(fd, key=key)
            finally:
                os.close(fd)


def test_inspect_says_whether_it_verified_the_signature(signed, unsigned, tmp_path):
    lines = {
        (signed, KEY): "signature    verified (HMAC-SHA256 with the given key)",
        (signed, None): "signature    signed, not verified (no key given)",
        (unsigned, None): "signature    unsigned",
    }
    for (ckpt, key), line in lines.items():
        r = cli("inspect", str(ckpt), key=key)
        assert r.returncode == 0, r.stderr.decode()
        assert line in r.stdout.decode().splitlines()
        assert b"UNPICKLED" not in r.stdout
        j = cli("inspect", "--json", str(ckpt), key=key)
        expected = "verified" if key else "unverified" if ckpt == signed else "unsigned"
        assert json.loads(j.stdout)["signature"] == expected
    key_file = tmp_path / "k"
    key_file.write_bytes(KEY.encode())
    r = cli("inspect", "--key-file", str(key_file), str(signed))
    assert "signature    verified (HMAC-SHA256 with the given key)" in r.stdout.decode()


@pytest.mark.parametrize("command", ["resume", "inspect"])
def test_key_settings_that_cannot_work_are_one_line(signed, tmp_path, command):
    key_file = tmp_path / "key"
    key_file.write_text(KEY)
    missing = tmp_path / "missing"
    assert_refused(
        cli(command, str(signed), key=KEY, key_file=key_file),
        "both TELEPORTER_CHECKPOINT_KEY and TELEPORTER_CHECKPOINT_KEY_FILE are set: set one",
    )
    assert_refused(
        cli(command, str(signed), key_file=missing),
        f"cannot read the key file {str(missing)!r}: No such file or directory",
    )
    assert_refused(
        cli(command, "--key-file", str(tmp_path), str(signed)),
        f"cannot read the key file {str(tmp_path)!r}: Is a directory",
    )
    assert_refused(
        cli(command, str(signed), key=""),
        "the checkpoint key is empty (TELEPORTER_CHECKPOINT_KEY)",
    )
    assert_refused(
        cli(command, "--key-file", "/dev/zero", str(signed)),
        "the key file '/dev/zero' is larger than 64 KiB: is it a key?",
    )


def test_checkpoint_refuses_key_settings_that_cannot_work(tmp_path):
    prog = tmp_path / "prog.py"
    prog.write_text(
        textwrap.dedent(
            """
            import sys
            import teleporter
            for key in ("", 42, None):
                try:
                    teleporter.checkpoint(sys.argv[1], key=key)
                except teleporter.TeleportError as e:
                    print("refused:", e)
            """
        )
    )
    r = run(str(prog), str(tmp_path / "c.ckpt"), key_file=tmp_path / "missing")
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout.decode().splitlines() == [
        "refused: the checkpoint key is empty (the key argument)",
        "refused: a checkpoint key is bytes or str, not int",
        f"refused: cannot read the key file {str(tmp_path / 'missing')!r}: "
        "No such file or directory",
    ]
    assert not (tmp_path / "c.ckpt").exists()
