"""The hand-off against targets that misbehave: one that never answers (the timeout, and
Ctrl-C while waiting), one that sends bytes that are not text or not teleporter's frames.
Every case ends with one line at the origin, which keeps running, and nothing left
behind."""

import os
import subprocess
import sys
import textwrap
import time

from conftest import run_program

# A stand-in for a launched target: it says a correct hello (so the origin sends it the
# program), reads what comes, then answers as told by its argument.
FAKE_TARGET = r"""
import os, sys, time
import _frozen_importlib_external as b
import teleporter
how = os.environ["FAKE"]
def frame(kind, data=b""):
    return kind + len(data).to_bytes(4, "big") + data
hello = {
    "python": "%d.%d.%d" % sys.version_info[:3], "implementation": sys.implementation.name,
    "magic": b.MAGIC_NUMBER.hex(), "platform": sys.platform, "machine": os.uname().machine,
    "ext": b.EXTENSION_SUFFIXES[0], "executable": sys.executable,
    "teleporter": teleporter.__version__, "cached": "",
}
out = b"\0teleporter-target\0"
if how != "silent":
    out += frame(b"H", "".join(f"{k}={v}\n" for k, v in hello.items()).encode())
os.write(1, out)
os.set_blocking(0, False)
quiet = time.monotonic()
while time.monotonic() - quiet < 0.5:  # take the program until it stops coming
    try:
        if os.read(0, 1 << 20):
            quiet = time.monotonic()
    except BlockingIOError:
        time.sleep(0.01)
if how == "garbage":
    os.write(1, frame(b"F", b"\xff\xfe not text \x1b[31mred\x1b]0;title\x07\nsecond line"))
elif how == "huge":
    os.write(1, b"A\xff\xff\xff\xff" + b"x" * 100)
elif how == "unknown":
    os.write(1, frame(b"Z", b"?"))
time.sleep(1000)  # never says it rebuilt the program
"""

PROGRAM = """
import os, sys, time, teleporter
fake = [sys.executable, "-c", open(os.environ["FAKE_TARGET"]).read()]
started = time.monotonic()
try:
    teleporter.teleport(*fake, timeout=float(os.environ.get("TIMEOUT", "2")))
except KeyboardInterrupt:
    print("KeyboardInterrupt after", round(time.monotonic() - started))
except teleporter.TeleportError as e:
    print("refused:", e)
    print("after", round(time.monotonic() - started))
print("still running", os.getpid())
"""


def _live_children(pid):
    """Processes whose parent is `pid`."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return found


def _setup(tmp_path):
    fake = tmp_path / "fake_target.py"
    fake.write_text(FAKE_TARGET)
    prog = tmp_path / "prog.py"
    prog.write_text(textwrap.dedent(PROGRAM))
    return prog, {"FAKE_TARGET": str(fake)}


def test_a_target_that_never_answers_times_out(tmp_path):
    prog, env = _setup(tmp_path)
    for how, what in (
        ("silent", "the target did not start teleporter within 2 s"),
        ("verdict", "the target did not say within 2 s that it rebuilt the program"),
    ):
        r = run_program(prog, env={**env, "FAKE": how}, timeout=60)
        lines = r.stdout.decode().splitlines()
        assert r.returncode == 0 and r.stderr == b"", r.stderr.decode()
        assert lines[0] == f"refused: the move was cancelled: {what}", lines
        assert lines[1] in ("after 2", "after 3"), lines
        assert lines[2].startswith("still running")


def test_ctrl_c_while_waiting_for_the_target_cancels_the_move(tmp_path):
    prog, env = _setup(tmp_path)
    for how in ("silent", "verdict"):
        proc = subprocess.Popen(
            [sys.executable, str(prog)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, **env, "FAKE": how, "TIMEOUT": "60"},
        )
        time.sleep(1.5)  # the fake target has the program (or never says hello)
        children = _live_children(proc.pid)
        assert len(children) == 1, children
        proc.send_signal(2)
        out, err = proc.communicate(timeout=30)
        lines = out.decode().splitlines()
        assert proc.returncode == 0 and err == b"", err.decode()
        assert lines[0] in ("KeyboardInterrupt after 1", "KeyboardInterrupt after 2"), lines
        assert lines[1] == f"still running {proc.pid}"
        assert not os.path.exists(f"/proc/{children[0]}"), "the target was left running"


def test_bytes_from_a_target_are_untrusted(tmp_path):
    prog, env = _setup(tmp_path)
    expected = {
        # Not UTF-8, with terminal escapes and a newline: one printable line.
        "garbage": "refused: the target could not take the program: \ufffd\ufffd not text "
        "\\x1b[31mred\\x1b]0;title\\x07\\nsecond line",
        "huge": "refused: the target broke the protocol (a frame of 4294967295 bytes)",
        "unknown": "refused: the target broke the protocol (frame b'Z')",
    }
    for how, line in expected.items():
        r = run_program(prog, env={**env, "FAKE": how}, timeout=60)
        lines = r.stdout.decode().splitlines()
        assert r.returncode == 0 and r.stderr == b"", r.stderr.decode()
        assert lines[0].startswith(line), (how, lines)
        assert len(lines) == 3 and lines[2].startswith("still running"), lines


def test_timeout_must_be_positive_or_none(tmp_path):
    prog = tmp_path / "prog.py"
    prog.write_text(
        textwrap.dedent(
            """
            import teleporter
            for bad in (0, -1, "5", True, float("nan")):
                try:
                    teleporter.teleport(timeout=bad)
                except ValueError as e:
                    print(e)
            teleporter.teleport(timeout=None)
            print("moved")
            """
        )
    )
    r = run_program(prog)
    assert r.returncode == 0, r.stderr.decode()
    out = r.stdout.decode().splitlines()
    assert len(out) == 6 and out[-1] == "moved", out
    assert all(
        ln.startswith("timeout must be a positive number of seconds or None") for ln in out[:5]
    )


def test_safe_point_timeout_is_checked(tmp_path):
    # A positive, finite number of seconds (None too is refused: a move never waits
    # forever for a thread), for every call that takes it, before anything starts.
    prog = tmp_path / "prog.py"
    prog.write_text(
        textwrap.dedent(
            """
            import teleporter
            calls = (
                lambda t: teleporter.teleport(safe_point_timeout=t),
                lambda t: teleporter.fork(2, safe_point_timeout=t),
                lambda t: teleporter.checkpoint("x.ckpt", safe_point_timeout=t),
                lambda t: teleporter.checkpoint_on("y.ckpt", safe_point_timeout=t),
            )
            for call in calls:
                bad_ones = (0, -1, "5", True, float("nan"), float("inf"))
                for bad in bad_ones + ((None,) if call is not calls[3] else ()):
                    try:
                        call(bad)
                    except ValueError as e:
                        print(e)
            print(teleporter.checkpoint("x.ckpt", safe_point_timeout=0.5))
            teleporter.teleport(safe_point_timeout=30)
            print("moved")
            """
        )
    )
    r = run_program(prog, cwd=tmp_path)
    assert r.returncode == 0, r.stderr.decode()
    out = r.stdout.decode().splitlines()
    assert out[-2:] == ["False", "moved"], out
    assert len(out) == 29, out
    assert all(
        ln.startswith("safe_point_timeout must be a positive number of seconds, not ")
        for ln in out[:-2]
    ), out


FROM_A_WORKER = """
import os, sys, threading, time, teleporter
fake = [sys.executable, "-c", open(os.environ["FAKE_TARGET"]).read()]
said = []
def mover():
    try:
        teleporter.teleport(*fake, timeout=float(os.environ.get("TIMEOUT", "60")))
    except teleporter.TeleportError as e:
        said.append(f"refused: {e}")
worker = threading.Thread(target=mover)
worker.start()
try:
    while worker.is_alive():
        time.sleep(0.01)
except KeyboardInterrupt:
    print("KeyboardInterrupt in the main thread")
worker.join()
print(*said, sep="\\n")
print("still running", os.getpid())
"""


def test_a_move_called_from_a_worker_is_cancelled_as_from_the_main_thread(tmp_path):
    """teleport() called by a worker thread holds the terminating signals as well: Ctrl-C
    while the target has the program cancels the move; the worker's call says so, the
    main thread gets its KeyboardInterrupt where it stands, the target is stopped. A
    target that does not answer in time is stopped too."""
    _prog, env = _setup(tmp_path)
    prog = tmp_path / "from_worker.py"
    prog.write_text(FROM_A_WORKER)
    proc = subprocess.Popen(
        [sys.executable, str(prog)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **env, "FAKE": "verdict"},
    )
    time.sleep(1.5)  # the fake target has the program
    children = _live_children(proc.pid)
    assert len(children) == 1, children
    proc.send_signal(2)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and err == b"", err.decode()
    assert out.decode().splitlines() == [
        "KeyboardInterrupt in the main thread",
        "refused: the move was cancelled: SIGINT arrived before the destination took it",
        f"still running {proc.pid}",
    ]
    assert not os.path.exists(f"/proc/{children[0]}"), "the target was left running"
    r = run_program(prog, env={**env, "FAKE": "verdict", "TIMEOUT": "1"}, timeout=60)
    assert r.returncode == 0 and r.stderr == b"", r.stderr.decode()
    assert r.stdout.decode().splitlines()[0] == (
        "refused: the move was cancelled: the target did not say within 1 s that it rebuilt "
        "the program"
    )
