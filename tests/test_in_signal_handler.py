"""checkpoint() and teleport() inside the program's own signal handlers, as a program
preempted by a scheduler writes them: SIGTERM from outside, a checkpoint in the handler,
exit code 75, and the resumed run finishing as if it had never stopped. A handler that
interrupted a call whose progress cannot be carried gets a TeleportError naming it, and
the program keeps running."""

import signal
import subprocess
import sys
import textwrap

from conftest import run_python

PREEMPTED = """
import os, signal, sys
import teleporter

CKPT = sys.argv[1]


def on_term(signum, frame):
    if teleporter.checkpoint(CKPT):
        print("resumed in", frame.f_code.co_name, flush=True)
    else:
        sys.exit(75)  # run the same command again to continue


signal.signal(signal.SIGTERM, on_term)


def work(n):
    total = 0
    for i in range(n):
        total += i * i
        if i == 1000:  # os.write: a signal during print() comes inside its C code
            os.write(1, b"ready\\n")
    return total


print("total", work({n}), flush=True)
"""


def test_a_checkpoint_in_a_sigterm_handler_resumes_where_the_signal_came(tmp_path):
    n = 30_000_000  # seconds of work: the signal comes in the middle of it
    program = tmp_path / "preempted.py"
    program.write_text(PREEMPTED.format(n=n))
    ckpt = tmp_path / "run.ckpt"
    p = subprocess.Popen(
        [sys.executable, str(program), str(ckpt)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert p.stdout.readline() == b"ready\n"
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=120)
    assert (p.returncode, out, err) == (75, b"", b"")
    r = run_python("-m", "teleporter", "resume", str(ckpt), timeout=120)
    assert r.stderr.decode() == "" and r.returncode == 0
    assert r.stdout.decode() == f"resumed in work\ntotal {sum(i * i for i in range(n))}\n"


REFUSED = """
import os, select, signal
import teleporter

origin = os.getpid()


def on_alarm(signum, frame):
    try:
        teleporter.teleport()
    except teleporter.TeleportError as e:
        print(e)


signal.signal(signal.SIGALRM, on_alarm)


def wait():
    signal.setitimer(signal.ITIMER_REAL, 0.05)
    select.select([], [], [], 0.5)  # runs the handler itself, then waits on
    return "waited"


print(wait(), os.getpid() == origin)
"""


def test_a_handler_inside_a_call_that_cannot_be_carried_is_refused_by_name(tmp_path):
    program = tmp_path / "refused.py"
    text = textwrap.dedent(REFUSED)
    program.write_text(text)
    line = (
        text.splitlines().index(
            "    select.select([], [], [], 0.5)  # runs the handler itself, then waits on"
        )
        + 1
    )
    r = run_python(str(program))
    assert r.stderr.decode() == "" and r.returncode == 0
    refusal, went_on = r.stdout.decode().splitlines()
    assert refusal.startswith("cannot teleport from the signal handler `on_alarm` (")
    # 3.13 cannot tell from the frame whether the call is still running (it is: select
    # ran the handler) or has just returned select itself: it says both.
    assert f"the signal arrived while `wait` ({program}:{line}) was in " in refusal
    assert "a call of `select` (builtin_function_or_method)" in refusal
    assert refusal.endswith("whose progress cannot be carried")
    assert went_on == "waited True"
