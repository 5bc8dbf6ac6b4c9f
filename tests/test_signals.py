"""At every instant exactly one process runs the program: SIGINT, SIGTERM and SIGHUP sent
to the origin at random instants during local moves, forks, launcher and ssh moves and
checkpoints. A signal before the destination took the program cancels the move and is
handled once at the origin; after it, it reaches the program at the destination. Either
way the program's end is observed exactly once (or, for a signal that ends the program,
never), and no process of it is left behind.

TELEPORTER_STRESS_RUNS scales the number of runs (default 1: about 150 per interpreter)."""

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import run_python

SCALE = int(os.environ.get("TELEPORTER_STRESS_RUNS", "1"))

PROGRAM = """
import os, signal, sys, time
import teleporter

how, disposition, sent = sys.argv[1:4]
way = os.environ["VIA"].split() if os.environ.get("VIA") else []


handled = []


def handler(sig, frame):  # os.write: the signal may come while print() is flushing
    handled.append(sig)
    os.write(1, f"handled {signal.Signals(sig).name}\\n".encode())


if disposition == "catch":
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, handler)
data = bytearray(48 << 20)  # the hand-off takes a while
data[::4096] = b"x" * len(data[::4096])
origin = os.getpid()
try:
    print("ready", flush=True)  # inside: a SIGINT sent as soon as it is read lands here
    try:
        if how == "fork":
            teleporter.fork(1)
        elif how == "checkpoint":
            teleporter.checkpoint(os.environ["CKPT"])
        else:
            teleporter.teleport(*way)
    except teleporter.TeleportError as e:
        print("cancelled:", e, flush=True)
    print("after", time.monotonic(), flush=True)
    # A signal forwarded after the hand-off arrives here: the test says when it has sent
    # one (the program may run faster than the calibration), and the program waits for it
    # (a signal lost shows as no "handled" line), then a little more (one delivered twice
    # shows as two).
    until = time.monotonic() + 30
    while not os.path.exists(sent) and time.monotonic() < until:
        time.sleep(0.01)
    with open(sent) as f:
        expected = f.read() == "signal"
    while expected and not handled and time.monotonic() < until:
        time.sleep(0.01)
    time.sleep(0.2)
except KeyboardInterrupt:
    # Raised wherever the SIGINT lands, inside a print() too (its first words written):
    # on a line of its own.
    print("\\nKeyboardInterrupt", flush=True)
print("END", "moved" if os.getpid() != origin else "here", data.count(b"x"), flush=True)
"""

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
KINDS = {"local": 40, "fork": 20, "bash": 30, "ssh": 20, "checkpoint": 30}  # runs each


def _left_behind(token):
    """Processes that still carry this run's marker in their environment."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if token in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def _run(path, how, disposition, sig, delay, env):
    token = f"TELEPORTER_STRESS={uuid.uuid4().hex}"
    sent = path.parent / f"sent-{uuid.uuid4().hex}"
    proc = subprocess.Popen(
        [sys.executable, str(path), how, disposition, str(sent)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **env, token.split("=")[0]: token.split("=")[1]},
    )
    assert proc.stdout.readline() == b"ready\n"
    sent_at = time.monotonic()
    if delay is not None:
        time.sleep(delay)
        proc.send_signal(sig)
    told = sent.with_name(sent.name + ".part")  # renamed: the program reads it whole
    told.write_text("signal" if delay is not None else "none")
    told.rename(sent)
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return sent_at, proc.returncode, out.decode(), err.decode() + "\n[hung]", []
    deadline = time.monotonic() + 10
    left = _left_behind(token.encode())
    while left and time.monotonic() < deadline:  # a remote copy notices the cancel late
        time.sleep(0.05)
        left = _left_behind(token.encode())
    return sent_at, proc.returncode, out.decode(), err.decode(), left


def _check(how, disposition, sig, result):
    """What the user must see; returns a description of what went wrong, or None."""
    _sent, code, out, err, left = result
    lines = out.splitlines()
    ends = [ln for ln in lines if ln.startswith("END")]
    name = signal.Signals(sig).name
    if left:
        return f"processes left behind: {left}"
    if "Traceback" in err or "[hung]" in err:
        return f"stderr: {err[-500:]}"
    cancelled = [ln for ln in lines if ln.startswith("cancelled:")]
    for ln in cancelled:
        if "cancelled: the move was cancelled: " + name not in ln:
            return f"unexpected refusal: {ln}"
    if disposition == "catch" or sig == signal.SIGINT:
        handled = [ln for ln in lines if ln in (f"handled {name}", "KeyboardInterrupt")]
        if code != 0 or len(ends) != 1 or len(handled) != 1:
            return f"exit {code}, ends {len(ends)}, handled {len(handled)}: {lines}"
        # Where it ended: here after a cancel (a TeleportError, or the KeyboardInterrupt
        # that the held SIGINT raised from the move) or a checkpoint, else moved.
        here = bool(cancelled) or how == "checkpoint" or (handled[0] == "KeyboardInterrupt")
        allowed = {"END here 12288"} if cancelled or how == "checkpoint" else {"END moved 12288"}
        if here:
            allowed.add("END here 12288")
        if ends[0] not in allowed:
            return f"wrong end: {ends[0]}"
        return None
    # SIGTERM/SIGHUP left at their default: they end the program, at the origin before
    # the hand-off (killed by it) or at the destination after it (128 + the signal).
    if ends or code not in (-sig, 128 + sig):
        return f"exit {code}, ends {len(ends)}: {lines}"
    if code == 128 + sig and how == "checkpoint":
        return f"exit {code} from a checkpoint: {lines}"
    return None


@pytest.mark.parametrize("how", sorted(KINDS))
def test_signals_at_random_instants_leave_exactly_one_program(tmp_path, how, request):
    path = tmp_path / "prog.py"
    path.write_text(textwrap.dedent(PROGRAM))
    env = {"CKPT": str(tmp_path / "prog.ckpt")}
    if how == "ssh":
        env["VIA"] = " ".join(request.getfixturevalue("sshd").command())
    elif how == "bash":
        env["VIA"] = "bash -c"
    # How long a move takes here, from "ready" to the program running on: the signals
    # are spread over that and a little beyond.
    calibration = _run(path, how, "catch", None, None, env)
    after = [ln for ln in calibration[2].splitlines() if ln.startswith("after ")]
    assert calibration[1] == 0 and after, calibration
    span = max(0.05, float(after[0].split()[1]) - calibration[0])
    rng = random.Random(f"{how}-{os.getpid()}")
    cases = [
        (rng.choice(("catch", "default")), rng.choice(SIGNALS), rng.uniform(0, 1.25 * span))
        for _ in range(KINDS[how] * SCALE)
    ]
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda c: _run(path, how, c[0], c[1], c[2], env), cases))
    wrong = []
    for (disposition, sig, delay), result in zip(cases, results):
        why = _check(how, disposition, sig, result)
        if why:
            wrong.append(f"{disposition} {signal.Signals(sig).name} at {delay:.3f}s: {why}")
    assert not wrong, f"{len(wrong)} of {len(cases)} runs went wrong:\n" + "\n".join(wrong[:10])


def _ends(*args):
    """How this interpreter run with `args` (no input) ends: exit code, stdout, stderr."""
    r = run_python(*map(str, args), timeout=60)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


INTERRUPTED_IN_STRING_CODE = """
import sys
import teleporter


class Interrupting:
    def __reduce__(self):  # the KeyboardInterrupt comes from code made from a string
        exec("raise KeyboardInterrupt")


held = Interrupting()
try:
    if sys.argv[1] == "checkpoint":
        teleporter.checkpoint(sys.argv[2])
    else:
        teleporter.teleport()
except KeyboardInterrupt:
    print("caught", flush=True)
print("END", flush=True)
"""


@pytest.mark.parametrize("how", ["checkpoint", "local"])
def test_a_keyboard_interrupt_caught_from_a_move_leaves_the_programs_exit_code(tmp_path, how):
    # CPython marks a process to end by SIGINT when a KeyboardInterrupt ends code made
    # from a string (exec, eval: a named tuple a module defines at import) and the mark
    # outlives the exception: once the program has caught it, the move leaves the mark as
    # it found it.
    path = tmp_path / "prog.py"
    path.write_text(textwrap.dedent(INTERRUPTED_IN_STRING_CODE))
    assert _ends(path, how, tmp_path / "ckpt") == (0, "caught\nEND\n", "")


ASTRAY = """
import os, signal, sys, time
import teleporter
from teleporter import _guard

way = sys.argv[1:]
finish = _guard.Guard.finish


def finish_then_astray(self):
    # Once the move's thread blocked the signals, a SIGINT that reaches another thread of
    # the origin (one of the program's, the exiting watcher) is written by the interpreter
    # to the wakeup pipe, as here.
    late = finish(self)
    os.write(self.wakeup, bytes([signal.SIGINT]))
    return late


_guard.Guard.finish = finish_then_astray
origin = os.getpid()
try:
    teleporter.teleport(*way)
    time.sleep(20)
    print("not interrupted", flush=True)
except KeyboardInterrupt:
    print("KeyboardInterrupt, moved:", os.getpid() != origin, flush=True)
"""


@pytest.mark.parametrize("via", [[], ["bash", "-c"]], ids=["local", "bash"])
def test_a_signal_that_reached_another_thread_after_the_hand_off_is_forwarded(tmp_path, via):
    path = tmp_path / "prog.py"
    path.write_text(textwrap.dedent(ASTRAY))
    assert _ends(path, *via) == (0, "KeyboardInterrupt, moved: True\n", "")


DURING_REBUILD = """
import os, signal, sys
import teleporter


class Pinger:
    def __setstate__(self, state):  # at the destination, while the program is rebuilt
        self.__dict__.update(state)
        if os.getpid() != self.origin:
            os.kill(os.getpid(), signal.SIGINT)


pinger = Pinger()
pinger.origin = os.getpid()
try:
    if sys.argv[1] == "checkpoint":
        if not teleporter.checkpoint(sys.argv[2]):
            sys.exit(0)  # the checkpoint is written: resumed below
    else:
        teleporter.teleport(*sys.argv[2:])  # after "move": the launcher, if any
    print("not interrupted")
except KeyboardInterrupt:
    print("KeyboardInterrupt, moved:", os.getpid() != pinger.origin)
"""


@pytest.mark.parametrize("how", ["local", "bash", "checkpoint"])
def test_a_signal_during_the_rebuild_reaches_the_program_where_it_stands(tmp_path, how):
    # Not teleporter's code: the program's KeyboardInterrupt, from the call that moved it.
    path = tmp_path / "prog.py"
    path.write_text(textwrap.dedent(DURING_REBUILD))
    ckpt = str(tmp_path / "ckpt")
    args = {"local": ["move"], "bash": ["move", "bash", "-c"], "checkpoint": ["checkpoint", ckpt]}
    ended = _ends(path, *args[how])
    if how == "checkpoint":
        assert ended == (0, "", "")
        ended = _ends("-m", "teleporter", "resume", ckpt)
    assert ended == (0, "KeyboardInterrupt, moved: True\n", "")
