"""`teleporter run` on programs nobody here wrote, unmodified: the standard library's
`ast` and `tokenize` command lines, Pygments and markdown-it-py (from PyPI), each on a
large input. SIGTERM at random instants (a fixed seed per program), each time either
checkpointed (exit 75, then the same command continues) or refused in one line while
the program goes on; and SIGKILL under --every. The joined output must be the output of
the same program run by the interpreter, uninterrupted."""

import random
import signal
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

EX_TEMPFAIL = 75

PROGRAMS = {
    "ast": ["-m", "ast", "{py}"],
    "tokenize": ["-m", "tokenize", "{py}"],
    "pygments": ["-m", "pygments", "-l", "python", "-f", "html", "{py}"],
    "markdown-it": ["-m", "markdown_it.cli.parse", "{md}"],
}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("inputs")
    lib = sysconfig.get_paths()["stdlib"]
    names = ["_pydecimal.py", "typing.py", "argparse.py", "inspect.py", "tarfile.py"]
    py = d / "big.py"
    py.write_text("\n".join(Path(lib, n).read_text() for n in names))
    rng = random.Random(3)
    md = d / "big.md"
    md.write_text(
        "\n".join(
            f"## Section {i}\n\nSome *emphasis* and **strong** text, a [link](http://x/{i}) "
            f"and `code {i}`.\n\n- item a{i}\n- item b{i}\n\n> quote {rng.random()}\n"
            for i in range(3000)
        )
    )
    return {"py": str(py), "md": str(md)}


def _run(args, cwd, delay=None, sig=signal.SIGTERM):
    """Runs `args`; after `delay` seconds (if it still runs), sends `sig`. Output goes to
    files: nothing of it is lost to a pipe's buffer."""
    with open(cwd / "out", "w+b") as out, open(cwd / "err", "w+b") as err:
        started = time.monotonic()
        p = subprocess.Popen(
            [sys.executable, *args], stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=cwd
        )
        try:
            if delay is not None:
                try:
                    p.wait(timeout=delay)
                except subprocess.TimeoutExpired:
                    p.send_signal(sig)
            p.wait(timeout=120)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        out.seek(0)
        err.seek(0)
        return p.returncode, out.read(), err.read(), time.monotonic() - started


def _chain(command, ckpt, tmp_path, rng, took, counts):
    """Runs the program to its end, one SIGTERM per process at a random instant; the
    outputs of all the processes joined.

    A resumed program first spends about as long rebuilding its state as the last
    checkpoint took to write (a few seconds for markdown-it's 16 MB of tokens on a busy
    machine): a signal in that time finds it where the checkpoint left it. One signal in
    four lands anywhere from the start, the rest after that time: the chain goes on
    moving forward."""
    outputs = []
    resuming = 0.0
    for _ in range(30):
        delay = rng.uniform(0.02, took) + (resuming if rng.random() < 0.75 else 0.0)
        code, out, err, wall = _run(command, tmp_path, delay)
        outputs.append(out)
        lines = err.decode().splitlines()
        if code == EX_TEMPFAIL:
            assert lines == [
                f"teleporter: checkpoint of the program written to {ckpt} on SIGTERM; "
                "run the same command again to continue it"
            ]
            counts["checkpointed"] += 1
            resuming = max(0.0, wall - delay)  # the time the checkpoint took to write
            continue
        if code == -signal.SIGTERM and err == b"" and out == b"":
            # Before the program (or its resumed state) was armed: as a plain interpreter
            # would, it ends; the checkpoint, if any, is still there.
            counts["before start"] += 1
            continue
        if code == -signal.SIGTERM and err == b"":
            # After its main code ended, in the interpreter's shut-down: as a plain
            # interpreter would, it ends, its work done (and its checkpoint removed).
            counts["after the end"] += 1
            return b"".join(outputs)
        assert code == 0, err
        if lines == ["teleporter: no checkpoint on SIGTERM: the program ended first"]:
            # Its main code ended while the checkpoint waited for a point where it can be
            # taken (its last output being written): its work is done, and it says so.
            counts["after the end"] += 1
            return b"".join(outputs)
        for line in lines:  # a signal while it ran was refused, in one line
            assert line.startswith("teleporter: no checkpoint on SIGTERM: "), line
            assert line.endswith("keeps the previous one and the program goes on"), line
            counts["refused"] += 1
            counts.setdefault("why", []).append(line.split(": ", 3)[-1][:160])
        if not lines:
            counts["after the end"] += 1
        return b"".join(outputs)
    pytest.fail("the program never ended")


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_random_sigterms(tmp_path, inputs, name):
    program = [a.format(**inputs) for a in PROGRAMS[name]]
    ref_code, ref_out, ref_err, took = _run(program, tmp_path)
    assert ref_code == 0 and ref_err == b""
    ckpt = tmp_path / "p.ckpt"
    command = ["-m", "teleporter", "run", "--checkpoint", str(ckpt), *program]
    counts = dict.fromkeys(["checkpointed", "refused", "before start", "after the end"], 0)
    for trial in range(3):
        rng = random.Random(f"{name} {trial}")
        assert _chain(command, ckpt, tmp_path, rng, took, counts) == ref_out
        assert not ckpt.exists()
    print(name, counts)


@pytest.mark.parametrize("name", ["ast"])
def test_sigkill_under_every(tmp_path, inputs, name):
    """A SIGKILL loses at most the work since the last periodic checkpoint (or all of it,
    when every one was refused): the same command then finishes to the same output."""
    program = [a.format(**inputs) for a in PROGRAMS[name]]
    _, ref_out, _, took = _run(program, tmp_path)
    ckpt = tmp_path / "k.ckpt"
    command = ["-m", "teleporter", "run", "--checkpoint", str(ckpt), *program]
    every = [*command[:3], "--every", "0.05", *command[3:]]
    code, first, err, _ = _run(every, tmp_path, took / 2, signal.SIGKILL)
    assert code == -signal.SIGKILL
    code, out, err, _ = _run(command, tmp_path, None)
    assert (code, err) == (0, b"")
    assert ref_out.endswith(out) and ref_out.startswith(first)
    assert len(first) + len(out) >= len(ref_out)
    assert not ckpt.exists()


def test_sigterm_in_the_last_moments(tmp_path, inputs):
    """SIGTERMs spread over the last moments of a program under `teleporter run` and just
    after: each run is checkpointed, refused in one line, or ends (its work done) without
    a word more, never a crash. (The checkpoint's thread once took its thread state while
    the interpreter finalized: 3.14 crashed in about 1 run in 7 of these.)"""
    program = [a.format(**inputs) for a in PROGRAMS["tokenize"]]
    ckpt = tmp_path / "p.ckpt"
    command = ["-m", "teleporter", "run", "--checkpoint", str(ckpt), *program]
    # How long the program takes under teleporter run, to its end.
    _code, _out, _err, took = _run(command, tmp_path)
    rng = random.Random(7)
    wrong = []
    for _ in range(30):
        ckpt.unlink(missing_ok=True)
        delay = rng.uniform(0.75 * took, 1.05 * took)
        code, _out, err, _ = _run(command, tmp_path, delay)
        text = err.decode()
        if code == EX_TEMPFAIL and text.startswith("teleporter: checkpoint of the program"):
            continue
        if code == 0 and text in (
            "",
            "teleporter: no checkpoint on SIGTERM: the program ended first\n",
        ):
            continue
        if code == -signal.SIGTERM and text == "":
            continue
        wrong.append(f"at {delay:.3f} s of {took:.3f}: exit {code}, {text[-300:]!r}")
    assert not wrong, "\n".join(wrong)
