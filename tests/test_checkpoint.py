"""Checkpoints: written atomically, resumed from the same point (the call returns True),
inspected without running anything, refused cleanly when damaged, and the preemption
pattern: a loop killed at a random moment resumes to the same result."""

import json
import os
import random
import signal
import struct
import subprocess
import sys
import textwrap
import time

import pytest
from conftest import CHECKPOINT, SCENARIOS, run_program, run_python

from teleporter import _teleporter_impl as impl

PROGRAM = textwrap.dedent(
    """
    import os, sys
    import numpy as np
    import teleporter

    CKPT = sys.argv[1]

    class Weird:
        def __reduce__(self):
            return (print, ("UNPICKLED",))

    marker = Weird()

    def numbers():
        n = 0
        while True:
            n += 1
            yield n

    def deep(k, acc):
        if k == 0:
            resumed = teleporter.checkpoint(CKPT)
            return resumed, acc
        return deep(k - 1, acc + k)

    gen = numbers()
    next(gen)
    data = np.arange(1000.0)
    label = "answer"
    for step in range(3):
        if step == 1:
            resumed, total = deep(300, 0)
    print("resumed:", resumed, "total:", total, "gen:", next(gen), "sum:", data.sum(), label)
    sys.exit(4)
    """
)


def python(*args, **kw):
    return subprocess.run([sys.executable, *args], capture_output=True, **kw)


def console_script():
    return os.path.join(os.path.dirname(sys.executable), "teleporter")


@pytest.fixture
def checkpointed(tmp_path):
    prog = tmp_path / "prog.py"
    prog.write_text(PROGRAM)
    ckpt = tmp_path / "run.ckpt"
    r = python(str(prog), str(ckpt))
    assert r.returncode == 4, r.stderr.decode()
    assert r.stdout.decode() == "resumed: False total: 45150 gen: 2 sum: 499500.0 answer\n"
    return prog, ckpt


@pytest.mark.parametrize("how", ["module", "console_script", "api"])
def test_resume_continues_where_the_checkpoint_was_taken(checkpointed, how):
    _, ckpt = checkpointed
    if how == "module":
        r = python("-m", "teleporter", "resume", str(ckpt))
    elif how == "console_script":
        r = subprocess.run([console_script(), "resume", str(ckpt)], capture_output=True)
    else:
        r = python("-c", f"import teleporter; teleporter.resume({str(ckpt)!r})")
    assert r.stderr.decode() == ""
    # `marker` reduces to print("UNPICKLED"): resuming rebuilds it (inspect must not).
    assert r.stdout.decode() == (
        "UNPICKLED\nresumed: True total: 45150 gen: 2 sum: 499500.0 answer\n"
    )
    assert r.returncode == 4
    # A checkpoint can be resumed again: it is not consumed.
    again = python("-m", "teleporter", "resume", str(ckpt))
    assert again.returncode == 4


def test_inspect_shows_what_was_recorded_without_running_it(checkpointed):
    prog, ckpt = checkpointed
    r = python("-m", "teleporter", "inspect", str(ckpt))
    out = r.stdout.decode()
    assert r.returncode == 0, r.stderr.decode()
    assert "UNPICKLED" not in out and "UNPICKLED" not in r.stderr.decode()
    v = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert f"python       CPython {v}" in out
    assert f"  deep  {prog}:22" in out
    assert "      resumed = teleporter.checkpoint(CKPT)" in out
    assert "      k: int = 0" in out and "      acc: int = 45150" in out
    assert "  label: str = 'answer'" in out
    assert "  data: numpy.ndarray = array([" in out
    assert out.count("  deep  ") == 301
    assert "  buffer" in out and "  state" in out and "  meta" in out

    j = python("-m", "teleporter", "inspect", "--json", str(ckpt))
    info = json.loads(j.stdout)
    assert info["python"] == list(sys.version_info[:2])
    frames = info["meta"]["frames"]
    assert frames[0]["function"] == "deep" and frames[-1]["function"] == "<module>"
    assert {"name": "k", "type": "int", "repr": "0"} in frames[0]["locals"]
    kinds = [s["kind"] for s in info["sections"]]
    assert kinds[:2] == ["meta", "state"] and "buffer" in kinds
    assert info["total"] == os.path.getsize(ckpt)


def _fix_header_crc(data: bytes) -> bytes:
    (count,) = struct.unpack_from("<I", data, 32)
    end = 40 + 32 * count
    return data[:end] + struct.pack("<I", impl.crc32c(data[:end])) + data[end + 4 :]


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda d: d[: len(d) // 2], "truncated payload"),
        (lambda d: d[:100] + bytes([d[100] ^ 1]) + d[101:], "corrupt payload"),
        (lambda d: b"#!/bin/sh\necho foreign\n", "not a teleporter payload"),
        (lambda d: b"", "truncated payload"),
    ],
    ids=["truncated", "corrupt", "foreign", "empty"],
)
@pytest.mark.parametrize("command", ["resume", "inspect"])
def test_damaged_checkpoints_are_refused_in_one_line(
    checkpointed, tmp_path, damage, message, command
):
    _, ckpt = checkpointed
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(damage(ckpt.read_bytes()))
    r = python("-m", "teleporter", command, str(bad))
    err = r.stderr.decode()
    assert r.returncode == 2
    assert r.stdout == b""
    assert err.count("\n") == 1 and err.startswith("teleporter: ") and message in err, err


def _as_written_by_310(data: bytes) -> bytes:
    return _fix_header_crc(data[:12] + struct.pack("<I", 0x030A) + data[16:])


@pytest.mark.parametrize("command", ["resume", "inspect"])
def test_other_interpreter_is_refused_naming_both(checkpointed, tmp_path, command):
    _, ckpt = checkpointed
    other = tmp_path / "other.ckpt"
    other.write_bytes(_as_written_by_310(ckpt.read_bytes()))
    r = python("-m", "teleporter", command, str(other))
    v = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert r.returncode == 2 and r.stdout == b""
    assert r.stderr.decode() == (
        f"teleporter: payload was written by CPython 3.10, this is CPython {v}\n"
    )


def test_missing_checkpoint_is_one_line(tmp_path):
    r = python("-m", "teleporter", "resume", str(tmp_path / "nothing.ckpt"))
    assert r.returncode == 2
    missing = str(tmp_path / "nothing.ckpt")
    assert r.stderr.decode() == f"teleporter: cannot open {missing!r}: No such file or directory\n"


def test_failed_write_keeps_the_previous_checkpoint(tmp_path):
    """A write that fails midway (here: the file size limit, as with a full disk) raises
    TeleportError, the program keeps running, and the old checkpoint is intact."""
    prog = tmp_path / "prog.py"
    ckpt = tmp_path / "run.ckpt"
    prog.write_text(
        textwrap.dedent(
            f"""
            import resource, signal
            import teleporter
            step = 1
            teleporter.checkpoint({str(ckpt)!r})
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.RLIM_INFINITY))
            step = 2
            big = bytearray(10 ** 6)
            try:
                teleporter.checkpoint({str(ckpt)!r})
            except teleporter.TeleportError as e:
                print("refused:", e)
            print("step", step)
            """
        )
    )
    r = python(str(prog))
    assert r.returncode == 0, r.stderr.decode()
    out = r.stdout.decode().splitlines()
    assert out[0].startswith("refused: cannot write the checkpoint") and "File too large" in out[0]
    assert out[-1] == "step 2"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    resumed = python("-m", "teleporter", "resume", str(ckpt))
    assert resumed.stdout.decode().splitlines()[-1] == "step 2"
    assert "refused" in resumed.stdout.decode()  # it ran from the first checkpoint


def test_kill_during_write_keeps_the_previous_checkpoint(tmp_path):
    prog = tmp_path / "prog.py"
    ckpt = tmp_path / "run.ckpt"
    prog.write_text(
        textwrap.dedent(
            f"""
            import numpy as np
            import teleporter
            generation = 1
            teleporter.checkpoint({str(ckpt)!r})
            print("first written", flush=True)
            generation = 2
            big = np.ones(160 * 2**20 // 8)
            teleporter.checkpoint({str(ckpt)!r})
            print("generation", generation)
            """
        )
    )
    p = subprocess.Popen([sys.executable, str(prog)], stdout=subprocess.PIPE)
    assert p.stdout.readline() == b"first written\n"
    deadline = time.monotonic() + 60
    while not any(n.name.endswith(".tmp") for n in tmp_path.iterdir()):
        assert time.monotonic() < deadline and p.poll() is None
        time.sleep(0.001)
    p.kill()
    p.wait()
    r = python("-m", "teleporter", "resume", str(ckpt))
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout.decode().splitlines() == ["first written", "generation 2"]


LOOP = textwrap.dedent(
    """
    import hashlib, sys
    import teleporter

    class Digest:  # hashlib's objects cannot be pickled: keep what they would digest
        def __init__(self):
            self.parts = []

        def update(self, data):
            self.parts.append(data)

        def hexdigest(self):
            return hashlib.sha256(b"".join(self.parts)).hexdigest()

    state = Digest()
    values = []
    for step in range(4000):
        state.update(str(step).encode())
        values.append(int(state.hexdigest()[:6], 16) % 1000)
        if step % 50 == 0:
            teleporter.checkpoint(sys.argv[1])
    print("result:", sum(values), len(values), state.hexdigest())
    """
)


def test_preemption_pattern(tmp_path):
    prog = tmp_path / "loop.py"
    prog.write_text(LOOP)
    ckpt = tmp_path / "run.ckpt"
    full = python(str(prog), str(tmp_path / "unused.ckpt"))
    assert full.returncode == 0, full.stderr.decode()
    expected = full.stdout.decode().splitlines()[-1]
    rng = random.Random()
    for attempt in range(3):
        if ckpt.exists():
            ckpt.unlink()
        p = subprocess.Popen([sys.executable, str(prog), str(ckpt)], stdout=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while not ckpt.exists():
            assert time.monotonic() < deadline and p.poll() is None
            time.sleep(0.001)
        time.sleep(rng.uniform(0.0, 0.5))
        p.send_signal(signal.SIGKILL)
        p.wait()
        r = python("-m", "teleporter", "resume", str(ckpt))
        assert r.returncode == 0, r.stderr.decode()
        assert r.stdout.decode().splitlines()[-1] == expected


def _checkpoint_chain(tmp_path, source):
    """Runs the scenario `source` with each teleport() as a checkpoint that ends the run,
    each resumed by a new process until one ends: (joined stdout, number of runs, the
    last run, the unmoved reference run, the rewritten program's path)."""
    path = tmp_path / source.name
    path.write_text(source.read_text().replace("teleporter.teleport()", CHECKPOINT))
    ckpt = tmp_path / "chain.ckpt"
    env = {"TELEPORTER_CKPT": str(ckpt)}
    reference = run_program(source, reference=True)
    r = run_program(path, env=env)
    out, runs = r.stdout, 1
    while r.returncode == 0 and r.stderr == b"" and ckpt.exists():
        taken = ckpt.rename(tmp_path / f"taken-{runs}.ckpt")
        r = run_python("-m", "teleporter", "resume", str(taken), env=env, cwd=tmp_path)
        out += r.stdout
        runs += 1
    return out, runs, r, reference, path


def test_chain_of_checkpoints_from_running_generators(tmp_path):
    """Each move of the running-generators scenario (inside generators driven by for,
    next, send, throw, yield from; a contextmanager; __next__, __init__, __call__, a
    partial, Context.run) as a
    checkpoint that ends the run, each resumed by a new process: the chain of runs prints
    exactly what one run without moves prints."""
    source = SCENARIOS / "running_generators.py"
    out, runs, r, reference, path = _checkpoint_chain(tmp_path, source)
    assert r.stderr.decode() == "" and r.returncode == 0
    assert runs == 16  # 15 checkpoints, each resumed
    assert out.decode() == reference.stdout.decode()


def test_chain_of_checkpoints_from_signal_handlers(tmp_path):
    """Each move of the signal-handler scenario (handlers run after a backward jump, at a
    function's entry, at the end of a call, inside os.kill and inside time.sleep; one
    raising after the move) as a checkpoint that ends the run, each resumed by a new
    process: the chain of runs prints exactly what one run without moves prints."""
    source = SCENARIOS / "in_signal_handler.py"
    out, runs, r, reference, path = _checkpoint_chain(tmp_path, source)
    assert r.stderr.decode() == "" and r.returncode == 0
    assert runs == 8  # 7 checkpoints, each resumed
    assert out.decode() == reference.stdout.decode().replace(str(source), str(path))
