"""`teleporter run` and checkpoint_on(): unmodified programs that a signal checkpoints
(exit 75) and the same command continues, compared with the same program run by the
interpreter itself, uninterrupted."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_python

RUN = Path(__file__).parent / "run"
EX_TEMPFAIL = 75


def _start(args, cwd, env=None):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.Popen(
        [sys.executable, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
        env=e,
        bufsize=0,  # lines read one by one: none read ahead, which communicate() would miss
    )


def interrupted(args, cwd, at, sig=signal.SIGTERM, env=None, once=None):
    """Runs `args`; once the program has printed the line `at` (or `at` and more words),
    sends it `sig` (at the first such line after `once()` is true, with `once`). Returns
    (exit code, stdout, stderr)."""
    p = _start(args, cwd, env)
    out = []
    seen = False
    try:
        for line in p.stdout:
            out.append(line)
            text = line.decode().rstrip("\n")
            seen = seen or text == at or text.startswith(at + " ")
            if seen and (once is None or once()):
                p.send_signal(sig)
                break
        rest, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return p.returncode, b"".join(out) + rest, err


def command(*program, path, more=()):
    return ["-m", "teleporter", "run", "--checkpoint", str(path), *more, *program]


def reference(program, cwd, *args):
    r = run_python(str(program), *args, cwd=cwd)
    return r


def _checkpointed_line(path, sig="SIGTERM"):
    return (
        f"teleporter: checkpoint of the program written to {path} on {sig}; run the same "
        "command again to continue it\n"
    ).encode()


@pytest.mark.parametrize(
    "name", ["sleeper", "compute", "workers", "failing", "thread_state", "event_loop"]
)
def test_signal_checkpoints_and_the_same_command_continues(tmp_path, name):
    program = RUN / f"{name}.py"
    ckpt = tmp_path / "p.ckpt"
    args = command(str(program), "x", "--y", path=ckpt)
    ref = run_python(str(program), "x", "--y", cwd=tmp_path)
    outputs = []
    for at in ("step 2", "step 5"):  # twice: a resumed program is checkpointed again
        code, out, err = interrupted(args, tmp_path, at)
        assert (code, err) == (EX_TEMPFAIL, _checkpointed_line(ckpt)), err.decode()
        assert ckpt.is_file()
        outputs.append(out)
    last = run_python(*args, cwd=tmp_path, timeout=60)
    assert b"".join(outputs) + last.stdout == ref.stdout
    assert last.stderr == ref.stderr
    assert last.returncode == ref.returncode
    assert not ckpt.exists()  # the program ended: the same command starts it afresh


def test_module(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text((RUN / "sleeper.py").read_text())
    ckpt = tmp_path / "m.ckpt"
    args = ["-m", "teleporter", "run", "--checkpoint", str(ckpt), "-m", "pkg", "a"]
    code, out, err = interrupted(args, tmp_path, "step 3")
    assert (code, err) == (EX_TEMPFAIL, _checkpointed_line(ckpt))
    last = run_python(*args, cwd=tmp_path, timeout=60)
    ref = run_python("-m", "pkg", "a", cwd=tmp_path)
    assert (out + last.stdout, last.stderr, last.returncode) == (ref.stdout, b"", 0)
    assert not ckpt.exists()


@pytest.mark.parametrize("name", ["counter", "async_counter"])
def test_every_survives_sigkill(tmp_path, name):
    """With --every, a SIGKILL loses at most the work since the last checkpoint: the
    same command continues from there to the same result (an asyncio program's loop
    checkpointed between two of its callbacks)."""
    program = RUN / f"{name}.py"
    ckpt = tmp_path / "k.ckpt"
    ref = run_python(str(program), cwd=tmp_path).stdout.decode().splitlines(keepends=True)
    code, out, err = interrupted(
        command(str(program), path=ckpt, more=("--every", "0.05")),
        tmp_path,
        "step 6",
        signal.SIGKILL,
        once=ckpt.is_file,
    )
    assert code == -signal.SIGKILL and err == b""
    assert ckpt.is_file()
    last = run_python(*command(str(program), path=ckpt), cwd=tmp_path, timeout=60)
    assert (last.returncode, last.stderr) == (0, b"")
    resumed = last.stdout.decode().splitlines(keepends=True)
    # It went on from a checkpoint taken before the kill: what it printed is the end of
    # the uninterrupted run's output, from a step the first run had reached.
    assert 0 < len(resumed) < len(ref) and resumed == ref[-len(resumed) :]
    assert ref[len(ref) - len(resumed) - 1] in out.decode().splitlines(keepends=True)


def test_refused_checkpoint_keeps_the_program_running(tmp_path):
    program = RUN / "unsaveable.py"
    ckpt = tmp_path / "u.ckpt"
    ckpt.write_bytes(b"")  # not touched: it is not even read before the program starts
    ckpt.unlink()
    code, out, err = interrupted(command(str(program), path=ckpt), tmp_path, "step 2")
    ref = run_python(str(program), cwd=tmp_path)
    assert (code, out) == (0, ref.stdout)
    lines = err.decode().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("teleporter: no checkpoint on SIGTERM: global variable `a`")
    assert lines[0].endswith(f"{ckpt} keeps the previous one and the program goes on")
    assert not ckpt.exists()


def test_exit_if_refused_lets_the_signal_end_the_program(tmp_path):
    program = RUN / "unsaveable.py"
    ckpt = tmp_path / "u.ckpt"
    args = command(str(program), path=ckpt, more=("--exit-if-refused",))
    code, out, err = interrupted(args, tmp_path, "step 2")
    assert code == -signal.SIGTERM
    assert err.decode().startswith("teleporter: no checkpoint on SIGTERM: global variable `a`")
    assert b"result" not in out


def test_forked_child_is_not_checkpointed(tmp_path):
    """The handler a forked child inherits acts as the default action there."""
    program = RUN / "forks_child.py"
    ckpt = tmp_path / "f.ckpt"
    r = run_python(*command(str(program), path=ckpt), cwd=tmp_path, timeout=60)
    ref = run_python(str(program), cwd=tmp_path)
    assert (r.returncode, r.stdout, r.stderr) == (0, ref.stdout, b"")
    assert b"child ended by 15" in r.stdout
    assert not ckpt.exists()


def test_another_programs_checkpoint_is_refused(tmp_path):
    ckpt = tmp_path / "o.ckpt"
    code, _, _ = interrupted(command(str(RUN / "sleeper.py"), path=ckpt), tmp_path, "step 1")
    assert code == EX_TEMPFAIL
    saved = ckpt.read_bytes()
    for program in (["compute.py"], ["sleeper.py", "other-args"]):
        r = run_python(
            *command(str(RUN / program[0]), *program[1:], path=ckpt), cwd=tmp_path, timeout=60
        )
        assert (r.returncode, r.stdout) == (2, b"")
        lines = r.stderr.decode().splitlines()
        assert len(lines) == 1 and "holds the checkpoint of another program" in lines[0]
        assert ckpt.read_bytes() == saved  # left as it was


def test_a_file_that_is_no_checkpoint_is_refused(tmp_path):
    ckpt = tmp_path / "c.ckpt"
    for content in (b"not a checkpoint", b""):
        ckpt.write_bytes(content)
        r = run_python(*command(str(RUN / "sleeper.py"), path=ckpt), cwd=tmp_path, timeout=60)
        assert (r.returncode, r.stdout) == (2, b"")
        assert len(r.stderr.decode().splitlines()) == 1, r.stderr
        assert ckpt.read_bytes() == content


def test_a_checkpoint_of_checkpoint_is_not_run(tmp_path):
    """A checkpoint written by teleporter.checkpoint() is resumed by `teleporter resume`,
    not by `teleporter run` (which would start a program it did not save)."""
    ckpt = tmp_path / "api.ckpt"
    script = tmp_path / "api.py"
    script.write_text(f"import teleporter\nteleporter.checkpoint({str(ckpt)!r})\nprint('x')\n")
    assert run_python(str(script), cwd=tmp_path).returncode == 0
    r = run_python(*command(str(script), path=ckpt), cwd=tmp_path, timeout=60)
    assert (r.returncode, r.stdout) == (2, b"")
    assert "neither `teleporter run` nor checkpoint_on() wrote" in r.stderr.decode()


def test_safe_point_timeout(tmp_path):
    """--safe-point-timeout bounds the wait for a thread in native code; the refusal
    names it, where it stands and the time it had."""
    program = RUN / "hashing.py"
    ckpt = tmp_path / "h.ckpt"
    args = command(str(program), path=ckpt, more=("--safe-point-timeout", "0.05"))
    code, out, err = interrupted(args, tmp_path, "step 1")
    assert (code, out) == (0, b"step 1\nstep 2\nstep 3\ndone\n")
    lines = err.decode().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(
        "teleporter: no checkpoint on SIGTERM: the thread 'hasher' (running __main__.digest), "
        f"at {program}:14 in `digest`, did not reach a point where it can be captured "
        "within 0.05 s"
    ), lines[0]
    assert not ckpt.exists()


@pytest.mark.parametrize(
    "more",
    [
        ("--signal", "KILL"),
        ("--signal", "NOPE"),
        ("--every", "0"),
        ("--every", "-1"),
        ("--safe-point-timeout", "0"),
        ("--safe-point-timeout", "nan"),
    ],
)
def test_bad_arguments(tmp_path, more):
    r = run_python(
        *command(str(RUN / "sleeper.py"), path=tmp_path / "b", more=more), cwd=tmp_path, timeout=60
    )
    assert (r.returncode, r.stdout) == (2, b"")
    assert len(r.stderr.decode().splitlines()) == 1, r.stderr


def test_other_signals(tmp_path):
    program = RUN / "sleeper.py"
    ckpt = tmp_path / "s.ckpt"
    args = command(str(program), path=ckpt, more=("--signal", "USR1", "--signal", "INT"))
    code, out1, err = interrupted(args, tmp_path, "step 2", signal.SIGUSR1)
    assert (code, err) == (EX_TEMPFAIL, _checkpointed_line(ckpt, "SIGUSR1"))
    code, out2, err = interrupted(args, tmp_path, "step 6", signal.SIGINT)
    assert (code, err) == (EX_TEMPFAIL, _checkpointed_line(ckpt, "SIGINT"))
    last = run_python(*args, cwd=tmp_path, timeout=60)
    ref = run_python(str(program), cwd=tmp_path)
    assert out1 + out2 + last.stdout == ref.stdout


CHECKPOINT_ON = """
import signal, sys, time
import teleporter

teleporter.checkpoint_on({path!r}, signals=[signal.SIGUSR2])
total = 0
for i in range(10):
    total += i * i
    print("step", i, total, flush=True)
    time.sleep(0.04)
print("result", total, sys.argv[1:])
"""


def test_checkpoint_on(tmp_path):
    ckpt = tmp_path / "on.ckpt"
    script = tmp_path / "on.py"
    script.write_text(CHECKPOINT_ON.format(path=str(ckpt)))
    code, out, err = interrupted([str(script), "q"], tmp_path, "step 3", signal.SIGUSR2)
    assert (code, err) == (EX_TEMPFAIL, _checkpointed_line(ckpt, "SIGUSR2"))
    # The same command continues the program from its checkpoint.
    last = run_python(str(script), "q", cwd=tmp_path)
    ckpt_gone = not ckpt.exists()
    ref = run_python(str(script), "q", cwd=tmp_path, timeout=60)
    assert (out + last.stdout, last.stderr, last.returncode) == (ref.stdout, b"", 0)
    assert ckpt_gone


def test_signal_inside_a_natively_driven_generator_checkpoints_when_it_leaves(tmp_path):
    # The signal arrives while sum() drives a generator (refused there: sum's progress
    # cannot be carried); the checkpoint is tried again until the program stands where it
    # can be taken, well within the grace period.
    program = RUN / "summing.py"
    ckpt = tmp_path / "p.ckpt"
    args = command(str(program), path=ckpt)
    code, out, err = interrupted(args, tmp_path, "step 1")
    assert (code, err) == (EX_TEMPFAIL, _checkpointed_line(ckpt)), err.decode()
    rest = run_python(*args, cwd=tmp_path)
    assert rest.returncode == 0 and rest.stderr == b"", rest.stderr.decode()
    assert out + rest.stdout == reference(program, tmp_path).stdout
    assert not ckpt.exists()


def test_a_signal_during_the_programs_own_checkpoint_waits_for_it(tmp_path):
    """The program checkpoints itself; a SIGTERM that comes meanwhile is not taken at the
    same time (the two would park each other's threads): it is taken once the program's
    own checkpoint has finished, and the same command continues the program."""
    program = RUN / "own_checkpoint.py"
    ckpt = tmp_path / "p.ckpt"
    args = command(str(program), str(tmp_path), path=ckpt)
    code, out, err = interrupted(args, tmp_path, "own checkpoint")
    assert (code, err) == (EX_TEMPFAIL, _checkpointed_line(ckpt)), err.decode()
    assert (tmp_path / "own.ckpt").is_file()
    rest = run_python(*args, cwd=tmp_path, timeout=60)
    assert (rest.returncode, rest.stderr) == (0, b""), rest.stderr.decode()
    assert out + rest.stdout == reference(program, tmp_path, str(tmp_path)).stdout
