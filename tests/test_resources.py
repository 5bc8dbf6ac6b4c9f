"""What a move leaves behind: the origin keeps none of the program's memory once it only
serves the destination, a chain of local moves leaves one waiting process (the original),
with stdin, signals and the exit code still right, and large buffers keep no descriptor
open at the destination."""

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid

from conftest import run_program

MiB = 1 << 20


def _rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_the_origin_lets_go_of_the_programs_memory(tmp_path):
    prog = tmp_path / "prog.py"
    prog.write_text(
        textwrap.dedent(
            """
            import os, sys, time, teleporter
            origin = os.getpid()
            data = bytearray(os.urandom(1 << 20)) * 300  # 300 MiB, touched
            way = sys.argv[1:]
            teleporter.teleport(*way)
            for _ in range(100):  # the origin lets go just after it let the program run
                with open(f"/proc/{origin}/status") as f:
                    rss = [ln.split()[1] for ln in f if ln.startswith("VmRSS:")][0]
                if int(rss) < 40 * 1024:
                    break
                time.sleep(0.05)
            print("origin rss kib", rss, "data", len(data) >> 20)
            """
        )
    )
    for way in ((), ("bash", "-c")):
        r = run_program(prog, *way)
        assert r.returncode == 0, r.stderr.decode()
        words = r.stdout.decode().split()
        assert words[-1] == "300"
        # The server is a bare interpreter (about 10 MiB), not the program (300 MiB).
        assert int(words[3]) < 40 * 1024, (way, words)


CHAIN = """
import os, signal, sys, time
import teleporter

origin = os.getpid()
data = bytearray(64 << 20)
data[::4096] = b"x" * len(data[::4096])
print("first line:", input(), flush=True)
pids = set()
for hop in range(int(sys.argv[1])):
    teleporter.teleport()
    pids.add(os.getpid())
    if hop == 7:
        print("hop 7 line:", input(), flush=True)


def alive():
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if os.environ["MARK"].encode() in f.read():
                    found.append(pid)
        except OSError:
            pass
    return found


for _ in range(100):  # the hand-overs complete in the origin's time, a little later
    if len(alive()) <= 2 and os.getppid() == origin:
        break
    time.sleep(0.05)
print("distinct pids", len(pids), "parent is the origin", os.getppid() == origin, flush=True)
print("processes", len(alive()), flush=True)
# os.write: the signal may come while print() is still flushing "rest:" (reentrant there)
signal.signal(signal.SIGTERM, lambda *a: (os.write(1, b"SIGTERM here\\n"), sys.exit(3)))
print("waiting", flush=True)
print("rest:", sys.stdin.read().split(), data.count(b"x"), flush=True)
time.sleep(30)
"""


def test_a_chain_of_local_moves_leaves_one_waiting_process(tmp_path):
    prog = tmp_path / "chain.py"
    prog.write_text(CHAIN)
    mark = uuid.uuid4().hex
    proc = subprocess.Popen(
        [sys.executable, str(prog), "40"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "MARK": mark},
    )
    proc.stdin.write(b"one\ntwo\n")
    proc.stdin.flush()
    lines = []
    while not lines or lines[-1] != "waiting":
        line = proc.stdout.readline().decode()
        assert line, (lines, proc.stderr.read().decode())
        lines.append(line.strip())
    assert lines[:2] == ["first line: one", "hop 7 line: two"], lines
    assert lines[2] == "distinct pids 40 parent is the origin True", lines
    assert lines[3] == "processes 2", lines  # the original process and the program
    assert _rss_kib(proc.pid) < 40 * 1024
    proc.stdin.write(b"three\nfour\n")
    proc.stdin.close()  # stdin ends: the program reads what was left, then waits
    proc.stdin = None
    assert proc.stdout.readline().decode().strip() == "rest: ['three', 'four'] 16384"
    proc.send_signal(signal.SIGTERM)  # to the original process: forwarded once
    out, err = proc.communicate(timeout=60)
    assert out.decode().splitlines() == ["SIGTERM here"], (out, err)
    assert proc.returncode == 3 and err == b"", err.decode()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _marked(mark):
        time.sleep(0.05)
    assert not _marked(mark)


def _marked(mark):
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if mark.encode() in f.read():
                    found.append(pid)
        except OSError:
            pass
    return found


def test_large_buffers_keep_no_descriptor_open_at_the_destination(tmp_path):
    prog = tmp_path / "prog.py"
    prog.write_text(
        textwrap.dedent(
            """
            import os, stat, teleporter
            def fds():
                found = set()
                for fd in map(int, os.listdir("/proc/self/fd")):
                    try:
                        os.fstat(fd)  # not the listing's own, closed by now
                        found.add(fd)
                    except OSError:
                        pass
                return found
            buffers = [bytearray(2 << 20) for _ in range(6)]  # mapped at the destination
            for i, b in enumerate(buffers):
                b[-1] = i
            before = fds()
            teleporter.teleport()
            extra = fds() - before
            kinds = [stat.S_ISSOCK(os.fstat(fd).st_mode) for fd in extra]
            print("values", [b[-1] for b in buffers], "extra", kinds)
            """
        )
    )
    r = run_program(prog)
    assert r.returncode == 0, r.stderr.decode()
    # One descriptor of teleporter's own stays: the socket to the origin's server (for a
    # later local move); none per buffer.
    assert r.stdout.decode().split("extra")[1].strip() == "[True]", r.stdout.decode()
    assert "values [0, 1, 2, 3, 4, 5]" in r.stdout.decode()
