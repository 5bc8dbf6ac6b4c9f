"""Moves through launchers and into several copies: a real sshd on loopback, real
subprocesses, and what the user sees at the origin (output, stdin, signals, exit code,
refusals before the hand-off)."""

import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from conftest import run_program

from teleporter import TeleportError
from teleporter.transports import launcher


def write(tmp_path, source, name="prog.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


def via(sshd):
    return {"VIA": " ".join(sshd.command())}


class Live:
    """A program running at the origin, driven line by line through pipes."""

    def __init__(self, path, env=None, timeout=120):
        self.proc = subprocess.Popen(
            [sys.executable, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, **(env or {})},
        )
        self.watchdog = threading.Timer(timeout, self.proc.kill)
        self.watchdog.start()

    def line(self):
        return self.proc.stdout.readline().decode()

    def send(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def finish(self):
        out, err = self.proc.communicate()
        self.watchdog.cancel()
        self.watchdog.join()  # no thread left behind (a later fork() would warn about it)
        return self.proc.returncode, out.decode(), err.decode()


PID_AND_WAY = """
    import os, sys, teleporter
    way = os.environ["VIA"].split() if os.environ.get("VIA") else []
    origin = os.getpid()
"""


# -- fork ------------------------------------------------------------------------------


@pytest.mark.parametrize("remote", [False, True], ids=["local", "ssh"])
def test_fork_gives_each_copy_its_index_and_the_first_failure(tmp_path, remote, request):
    env = via(request.getfixturevalue("sshd")) if remote else {}
    prog = write(
        tmp_path,
        PID_AND_WAY
        + """
    import time
    table = {"k": [1, 2, 3]}
    index = teleporter.fork(4, *way)
    line = sys.stdin.readline().strip() if index == 0 else sys.stdin.read()
    time.sleep(0.3 * index)  # copy 3 ends last: its failure must not win over copy 1's
    print(f"copy {index} pid-differs={os.getpid() != origin} table={table} stdin={line!r}")
    sys.exit({0: 0, 1: 5, 2: 0, 3: 9}[index])
    """,
    )
    r = run_program(prog, stdin=b"for copy zero\n", env=env)
    lines = sorted(r.stdout.decode().splitlines())
    assert lines == [
        f"copy {i} pid-differs=True table={{'k': [1, 2, 3]}} stdin="
        + ("'for copy zero'" if i == 0 else "''")
        for i in range(4)
    ], r.stderr
    assert r.stderr == b""
    assert r.returncode == 5


def test_fork_all_succeed_and_seed_name(tmp_path):
    prog = write(
        tmp_path,
        """
    import sys
    import teleporter
    i = teleporter.fork_shell("bash", "-c", n=3)
    sys.stdout.write(f"copy {i}\\n")  # one write: copies print at once (unbuffered under nox)
    """,
    )
    r = run_program(prog)
    assert sorted(r.stdout.decode().splitlines()) == ["copy 0", "copy 1", "copy 2"]
    assert r.returncode == 0, r.stderr


def test_fork_refuses_a_bad_count(tmp_path):
    prog = write(
        tmp_path,
        """
    import teleporter
    for n in (0, -1, True, 2.0):
        try:
            teleporter.fork(n)
        except ValueError as e:
            print(e)
    """,
    )
    r = run_program(prog)
    assert r.stdout.decode().splitlines() == [
        "fork() needs a positive number of copies, not 0",
        "fork() needs a positive number of copies, not -1",
        "fork() needs a positive number of copies, not True",
        "fork() needs a positive number of copies, not 2.0",
    ]


# -- after the hand-off: stdio, signals, exit codes -------------------------------------


@pytest.mark.parametrize("remote", [False, True], ids=["local", "ssh"])
def test_interactive_stdin_and_prompt_output(tmp_path, remote, request):
    """Each prompt must reach the origin before the answer is typed: line by line, not
    when the program ends."""
    env = via(request.getfixturevalue("sshd")) if remote else {}
    prog = write(
        tmp_path,
        PID_AND_WAY
        + """
    teleporter.teleport(*way)
    total = 0
    while True:
        print("number?", flush=True)
        line = input()
        if line == "done":
            break
        total += int(line)
        print("total", total, file=sys.stderr, flush=True)
    print("moved", os.getpid() != origin, "sum", total)
    sys.exit(total % 256)
    """,
    )
    live = Live(prog, env)
    for n in (3, 4, 10):
        assert live.line() == "number?\n"
        live.send(f"{n}\n")
    assert live.line() == "number?\n"
    live.send("done\n")
    code, out, err = live.finish()
    assert out == "moved True sum 17\n"
    assert err == "total 3\ntotal 7\ntotal 17\n"
    assert code == 17


@pytest.mark.parametrize("remote", [False, True], ids=["local", "ssh"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signals_at_the_origin_reach_the_program(tmp_path, remote, sig, request):
    env = via(request.getfixturevalue("sshd")) if remote else {}
    prog = write(
        tmp_path,
        PID_AND_WAY
        + """
    import time
    teleporter.teleport(*way)
    try:
        print("moved", os.getpid() != origin, flush=True)
        time.sleep(60)
    finally:
        print("cleanup ran", flush=True)
    """,
    )
    live = Live(prog, env)
    assert live.line() == "moved True\n"
    live.proc.send_signal(sig)
    code, out, err = live.finish()
    if sig == signal.SIGINT:  # KeyboardInterrupt, reported as the interpreter would
        assert out == "cleanup ran\n"
        assert err.startswith("Traceback (most recent call last):\n"), err
        assert err.rstrip().endswith("KeyboardInterrupt")
        assert code == 128 + signal.SIGINT
    else:  # the default action: the process ends at once
        assert (out, err) == ("", "")
        assert code == 128 + signal.SIGTERM


def _read_until(fd, marker, timeout=60):
    """What a pseudo-terminal's master reads until `marker` has come (or it ends)."""
    import select

    data = b""
    deadline = time.monotonic() + timeout
    while marker not in data:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise AssertionError(f"{marker!r} did not come: {data!r}")
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the other side is closed
            chunk = b""
        if not chunk:
            break
        data += chunk
    return data


@pytest.mark.parametrize("remote", [False, True], ids=["local", "ssh"])
def test_ctrl_c_at_a_terminal(tmp_path, remote, request):
    """At a terminal, output is line-buffered and comes as it is printed, and Ctrl-C
    reaches the moved program once (the launcher does not get it as well)."""
    import pty

    env = via(request.getfixturevalue("sshd")) if remote else {}
    prog = write(
        tmp_path,
        PID_AND_WAY
        + """
    import time
    teleporter.teleport(*way)
    try:
        print("moved", os.getpid() != origin, "- press Ctrl-C")  # no flush: a terminal
        time.sleep(60)
    finally:
        print("cleanup ran")
    """,
    )
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(sys.executable, [sys.executable, str(prog)], {**os.environ, **env})
    try:
        seen = _read_until(fd, b"press Ctrl-C\r\n")
        os.write(fd, b"\x03")
        seen += _read_until(fd, b"KeyboardInterrupt\r\n")
        seen += _read_until(fd, b"\0")  # until it ends
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    # (3.13 colours a traceback written to a terminal)
    text = re.sub(r"\x1b\[[0-9;]*m", "", seen.decode()).replace("\r\n", "\n")
    assert text.startswith("moved True - press Ctrl-C\n"), text
    assert "cleanup ran\nTraceback (most recent call last):\n" in text
    assert text.endswith("KeyboardInterrupt\n")
    assert text.count("KeyboardInterrupt") == 1
    assert os.waitstatus_to_exitcode(status) == 128 + signal.SIGINT


def test_exit_codes_and_tracebacks_over_ssh(tmp_path, sshd):
    prog = write(
        tmp_path,
        PID_AND_WAY
        + """
    teleporter.teleport(*way)
    print("out line")
    print("err line", file=sys.stderr)
    how = sys.argv[1]
    if how == "exit":
        sys.exit(42)
    if how == "kill":
        os.kill(os.getpid(), 9)
    if how == "raise":
        def inner():
            raise LookupError("from the target")
        inner()
    """,
    )
    cases = [("exit", 42, None), ("raise", 1, None), ("end", 0, None)]
    # stdout is a pipe here, so block-buffered there too (SIGKILL loses the line, as it
    # would have without the move), unless the program runs unbuffered (python -u)
    cases += [("kill", 128 + 9, None), ("kill", 128 + 9, "1")]
    for how, code, unbuffered in cases:
        r = run_program(prog, how, env={**via(sshd), "PYTHONUNBUFFERED": unbuffered})
        assert r.returncode == code, (how, r.stderr)
        assert r.stdout == (b"" if how == "kill" and not unbuffered else b"out line\n")
        err = r.stderr.decode()
        if how == "raise":
            assert err.startswith("err line\nTraceback (most recent call last):\n")
            line = [ln.strip() for ln in prog.read_text().splitlines()].index("inner()") + 1
            assert f'File "{prog}", line {line}, in <module>\n    inner()\n' in err
            assert err.endswith("LookupError: from the target\n")
        else:
            assert err == "err line\n"


def _children(pid):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def test_dropped_connection_ends_the_origin_with_one_line(tmp_path, sshd):
    """The connection drops (the ssh client dies): the origin says so and exits 255;
    the program at the target gets SIGHUP."""
    hung_up = tmp_path / "hung-up"
    prog = write(
        tmp_path,
        PID_AND_WAY
        + f"""
    import signal, time
    teleporter.teleport(*way)
    def on_hangup(signum, frame):
        open({str(hung_up)!r}, "w").close()
        os._exit(0)
    signal.signal(signal.SIGHUP, on_hangup)
    print("moved", flush=True)
    time.sleep(60)
    """,
    )
    live = Live(prog, via(sshd))
    assert live.line() == "moved\n"
    (ssh,) = _children(live.proc.pid)
    os.kill(ssh, signal.SIGKILL)
    code, out, err = live.finish()
    assert code == 255
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("teleporter: lost the connection to the program (ssh ")
    deadline = time.monotonic() + 30
    while not hung_up.exists():
        assert time.monotonic() < deadline, "the program was not told"
        time.sleep(0.05)


# -- before the hand-off: refusals, and the origin keeps running ----------------------

REFUSAL = """
    import os, sys, teleporter
    origin = os.getpid()
    try:
        teleporter.teleport(*COMMAND, **KWARGS)
    except teleporter.TeleportError as e:
        print("refused:", e)
    print("still here:", os.getpid() == origin)
"""


def refused(tmp_path, command, **kwargs):
    prog = write(
        tmp_path,
        REFUSAL.replace("COMMAND", repr(tuple(command))).replace("KWARGS", repr(kwargs)),
    )
    r = run_program(prog)
    out = r.stdout.decode().splitlines()
    assert r.returncode == 0 and r.stderr == b"", r.stderr
    assert len(out) == 2 and out[1] == "still here: True", out
    assert out[0].startswith("refused: ")
    return out[0][len("refused: ") :]


def other_minor():
    """An interpreter of another supported minor version."""
    mine = "%d.%d" % sys.version_info[:2]
    for path in os.environ.get("TELEPORTER_TEST_PYTHONS", "").split(os.pathsep):
        if path and mine not in os.path.basename(path):
            return path
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    import glob

    for minor in ("3.11", "3.12", "3.13", "3.14", "3.15"):
        if minor != mine:
            found = sorted(glob.glob(f"{root}/versions/{minor}.*/bin/python{minor}"))
            if found:
                return found[-1]
    pytest.fail("no interpreter of another minor version")


def test_a_target_of_another_python_version_is_refused(tmp_path, sshd):
    other = other_minor()
    why = refused(tmp_path, sshd.command(), python=other)
    theirs = subprocess.run(
        [other, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    ours = "%d.%d.%d" % sys.version_info[:3]
    assert why == (
        f"the target's Python cannot continue this program: it is cpython {theirs} ({other}), "
        f"this program runs on cpython {ours}; a program moves only to the same minor version "
        "(choose the target's interpreter with python=)"
    )


def other_patch_releases():
    """Interpreters of this minor version at another patch release: pyenv's and Debian's
    3.11 (3.11.7 and 3.11.2) on this machine; none of the other minor versions has two."""
    mine = "%d.%d" % sys.version_info[:2]
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    import glob

    found = {}
    for path in [
        *glob.glob(f"{root}/versions/{mine}.*/bin/python{mine}"),
        f"/usr/bin/python{mine}",
    ]:
        probe = (
            subprocess.run(
                [path, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
                capture_output=True,
                text=True,
            )
            if os.path.exists(path)
            else None
        )
        if (
            probe
            and probe.returncode == 0
            and probe.stdout.strip() != "%d.%d.%d" % sys.version_info[:3]
        ):
            found.setdefault(probe.stdout.strip(), path)
    return sorted(found.items())


PATCH_ROUND_TRIP = """
import sys
import teleporter

def release():
    return "%d.%d.%d" % sys.version_info[:3]

def main(other, home):
    frames = [release()]
    teleporter.teleport(python=other)
    frames.append(release())
    teleporter.teleport(python=home)
    frames.append(release())
    print(" -> ".join(frames), sys.executable == home)

main(sys.argv[1], sys.executable)
"""


def test_a_move_across_patch_releases_goes_there_and_back(tmp_path):
    # There (a target without teleporter: the shipped copy, built for this release) and
    # back (from that copy to this interpreter).
    others = other_patch_releases()
    if sys.version_info[:2] != (3, 11):
        assert others == [], "another patch release is at hand: it is tested below"
    else:
        assert others, "pyenv's and Debian's 3.11 are both needed"
    prog = tmp_path / "patch.py"
    prog.write_text(PATCH_ROUND_TRIP)
    ours = "%d.%d.%d" % sys.version_info[:3]
    for theirs, path in others:
        r = run_program(prog, path)
        assert r.stderr == b"" and r.returncode == 0, r.stderr.decode()
        assert r.stdout.decode() == f"{ours} -> {theirs} -> {ours} True\n"


def test_unreachable_host_failed_login_and_missing_pieces_are_refused(tmp_path, sshd):
    closed = ("ssh", "-F", str(sshd.config), "-p", "1", sshd.HOST)
    why = refused(tmp_path, closed)
    assert why.startswith("the target did not start teleporter (ssh -F ")
    assert why.endswith(
        "exited with code 255): ssh: connect to host 127.0.0.1 port 1: Connection refused"
    )

    why = refused(tmp_path, sshd.command("wrong-key"))
    assert "exited with code 255)" in why and "Permission denied" in why

    why = refused(tmp_path, ["no-such-launcher-anywhere"])
    assert why == "cannot start 'no-such-launcher-anywhere': No such file or directory"

    why = refused(tmp_path, sshd.command(), python="/nowhere/bin/python3")
    assert why.startswith("the target did not start teleporter (ssh -F ")
    assert why.endswith(
        "exited with code 127): teleporter: no Python at the target"
        " (looked for /nowhere/bin/python3)"
    )

    why = refused(tmp_path, ["bash", "-c", "exit 3"])
    assert why == "the target did not start teleporter (bash -c exit 3 exited with code 3)"


# -- what the target gets ---------------------------------------------------------------


def test_large_state_over_ssh(tmp_path, sshd):
    """Over 200 MB of arrays and bytes travel through ssh's stdin (never argv)."""
    prog = write(
        tmp_path,
        PID_AND_WAY
        + """
    import hashlib, numpy as np
    big = np.arange(24 * 1024 * 1024, dtype=np.float64)  # 192 MiB
    blob = bytes(range(256)) * (64 * 1024)  # 16 MiB
    views = (big, big[::2], blob)
    before = hashlib.sha256(big.tobytes() + blob).hexdigest()
    teleporter.teleport(*way)
    after = hashlib.sha256(big.tobytes() + blob).hexdigest()
    print("moved", os.getpid() != origin, "intact", before == after)
    print("identity", views[0] is big, views[2] is blob, np.array_equal(views[1], big[::2]))
    """,
    )
    r = run_program(prog, env=via(sshd), timeout=600)
    assert r.stdout.decode().splitlines() == ["moved True intact True", "identity True True True"]
    assert r.returncode == 0, r.stderr


def test_into_another_network_namespace(tmp_path, netns_sshd):
    """The target is another host as far as the network goes: its own interfaces,
    reached over a veth link."""
    prog = write(
        tmp_path,
        PID_AND_WAY
        + """
    def interfaces():
        with open("/proc/self/net/dev") as f:
            return sorted(line.split(":")[0].strip() for line in f.readlines()[2:])
    before = interfaces()
    teleporter.teleport(*way)
    print("moved", os.getpid() != origin, "interfaces", interfaces(), "before", before)
    """,
    )
    r = run_program(prog, env={"VIA": " ".join(netns_sshd.command())})
    assert r.returncode == 0, r.stderr
    moved, before = r.stdout.decode().rstrip("\n").split(" before ")
    assert moved == f"moved True interfaces ['lo', '{netns_sshd.interface}']"
    assert netns_sshd.interface not in before


def test_teleporter_is_shipped_to_a_target_without_it(tmp_path, sshd):
    """The target's interpreter has no teleporter (a bare virtual environment, reached
    through ssh, which passes no PYTHONPATH): the origin ships its own."""
    venv = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    probe = subprocess.run(
        [python, "-c", "import teleporter"], capture_output=True, env={"PATH": "/usr/bin:/bin"}
    )
    assert probe.returncode != 0
    cache = tmp_path / "cache"
    prog = write(
        tmp_path,
        PID_AND_WAY
        + f"""
    for _ in range(2):  # the second time, the cached copy is used
        teleporter.teleport(*way, python={python!r}, env={{"XDG_CACHE_HOME": {str(cache)!r}}})
        print(sys.executable, teleporter.__file__.startswith({str(cache)!r}), os.getpid() != origin)
    """,
    )
    r = run_program(prog, env=via(sshd))
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().splitlines() == [f"{python} True True"] * 2
    (shipped,) = os.listdir(cache / "teleporter")
    assert shipped.startswith(launcher.ship_id().rsplit("-", 1)[0])


def test_a_module_missing_at_the_target_is_refused_before_the_hand_off(tmp_path):
    """numpy is not installed at the target (a mount namespace hides the directory it
    is installed in): rebuilding the program fails there, so the origin is told and
    keeps the program."""
    if os.geteuid() != 0:
        pytest.fail("needs root for a mount namespace (the test command runs as root)")
    import numpy

    site = os.path.dirname(os.path.dirname(numpy.__file__))
    hide = ("unshare", "-m", "sh", "-c", 'mount -t tmpfs tmpfs "$0" && exec sh -c "$1"', site)
    prog = write(
        tmp_path,
        PID_AND_WAY
        + f"""
    import numpy as np
    data = np.arange(5)
    try:
        teleporter.teleport(*{hide!r})
    except teleporter.TeleportError as e:
        print("refused:", e)
    print("still here", os.getpid() == origin, data.sum())
    """,
    )
    r = run_program(prog, env={"XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert r.returncode == 0 and r.stderr == b"", r.stderr
    refusal, stayed = r.stdout.decode().splitlines()
    assert refusal == (
        "refused: the target could not take the program: cannot rebuild the program's "
        "state: ModuleNotFoundError: No module named 'numpy'"
    )
    assert stayed == "still here True 10"


def test_environment_and_directory_at_the_target(tmp_path, sshd):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    prog = write(
        tmp_path,
        PID_AND_WAY
        + f"""
    os.environ["SET_BY_PROGRAM"] = "yes"
    os.environ.pop("REMOVED_BY_PROGRAM")
    here = os.getcwd()
    teleporter.teleport(*way)
    print(os.environ.get("SET_BY_PROGRAM"), os.environ.get("REMOVED_BY_PROGRAM"))
    print(os.environ.get("ONLY_AT_ORIGIN"), os.getcwd() == here)
    teleporter.teleport(*way, env={{"GIVEN": "1 2"}}, cwd={str(elsewhere)!r})
    print(os.environ.get("GIVEN"), os.getcwd())
    """,
    )
    env = {**via(sshd), "REMOVED_BY_PROGRAM": "x", "ONLY_AT_ORIGIN": "o"}
    r = run_program(prog, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().splitlines() == ["yes None", "None True", f"1 2 {elsewhere}"]


def test_interpreter_found_by_minor_version_when_its_path_is_missing(tmp_path):
    """The origin's interpreter path does not exist at the target (a mount namespace
    hides it there): python3.X from the target's PATH continues the program."""
    if os.geteuid() != 0:
        pytest.fail("needs root for a mount namespace (the test command runs as root)")
    minor = "python%d.%d" % sys.version_info[:2]
    real = os.path.realpath(sys.executable)
    origin_bin, target_bin = tmp_path / "origin-bin", tmp_path / "target-bin"
    for d in (origin_bin, target_bin):
        d.mkdir()
        os.symlink(real, d / minor)
    here = os.path.dirname(os.path.dirname(os.path.abspath(launcher.__file__)))
    site = [p for p in sys.path if p.endswith("-packages")]
    hide = (
        "unshare",
        "-m",
        "sh",
        "-c",
        'mount -t tmpfs tmpfs "$0" && exec sh -c "$1"',
        str(origin_bin),
    )
    prog = write(
        tmp_path,
        PID_AND_WAY
        + f"""
    print(sys.executable)
    teleporter.teleport(*{hide!r}, env={{"PATH": {str(target_bin)!r} + ":/usr/bin:/bin"}})
    print(sys.executable, os.getpid() != origin)
    """,
    )
    r = subprocess.run(
        [str(origin_bin / minor), str(prog)],
        capture_output=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([os.path.dirname(here), *site])},
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().splitlines() == [f"{origin_bin / minor}", f"{target_bin / minor} True"]


# -- the pieces -------------------------------------------------------------------------


def test_command_line_is_small_and_carries_no_payload():
    line = launcher.command_line(None, {"A": "x y", "B": "it's"})
    assert len(line) < 1024
    assert line.startswith("export A='x y'; export B='it'\"'\"'s'; P=")


def _hello(**changes):
    import _frozen_importlib_external as bootstrap

    hello = {
        "python": "%d.%d.%d" % sys.version_info[:3],
        "implementation": "cpython",
        "magic": bootstrap.MAGIC_NUMBER.hex(),
        "platform": sys.platform,
        "machine": os.uname().machine,
        "ext": bootstrap.EXTENSION_SUFFIXES[0],
        "executable": "/there/python",
        "teleporter": launcher.__version__,
    }
    hello.update(changes)
    return hello


def test_what_the_hello_decides():
    assert launcher._decide(_hello()) is False  # the same teleporter is there
    assert launcher._decide(_hello(teleporter="")) is True  # shipped
    assert launcher._decide(_hello(teleporter="0.0.1")) is True  # ours is shipped
    with pytest.raises(TeleportError, match="cannot be shipped there: it is linux aarch64"):
        launcher._decide(_hello(teleporter="", machine="aarch64"))
    with pytest.raises(TeleportError, match="teleporter 0.0.1 is installed at the target"):
        launcher._decide(_hello(teleporter="0.0.1", platform="darwin"))
    with pytest.raises(TeleportError, match="a program moves only to the same minor version"):
        launcher._decide(_hello(magic="00000000"))
    with pytest.raises(TeleportError, match="it is pypy"):
        launcher._decide(_hello(implementation="pypy"))
