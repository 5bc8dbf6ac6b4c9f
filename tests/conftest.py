import os
import subprocess
import sys
from pathlib import Path

import pytest
from sshd import SSHServer

HERE = Path(__file__).parent
SCENARIOS = HERE / "scenarios"
REFUSALS = HERE / "refusals"
FORKSHIM = HERE / "forkshim"


def run_program(path, *args, stdin=b"", reference=False, timeout=120, env=None, cwd=None):
    """Runs a program as a real subprocess; `reference=True` puts the fork-based stand-in
    for teleporter first on the path."""
    return run_python(
        str(path), *args, stdin=stdin, reference=reference, timeout=timeout, env=env, cwd=cwd
    )


def run_python(*args, stdin=b"", reference=False, timeout=120, env=None, cwd=None):
    """Runs this interpreter with `args` as a real subprocess."""
    e = dict(os.environ)
    if reference:
        e["PYTHONPATH"] = os.pathsep.join(filter(None, [str(FORKSHIM), e.get("PYTHONPATH")]))
    for name, value in (env or {}).items():  # None removes a variable
        if value is None:
            e.pop(name, None)
        else:
            e[name] = value
    return subprocess.run(
        [sys.executable, *args],
        input=stdin,
        capture_output=True,
        timeout=timeout,
        env=e,
        cwd=cwd,
    )


# The move, as a checkpoint: flush, write it, and end this run; the resumed run goes on.
CHECKPOINT = (
    "(teleporter.checkpoint(__import__('os').environ['TELEPORTER_CKPT']) or "
    "[s.flush() for s in (__import__('sys').stdout, __import__('sys').stderr)] and "
    "__import__('os')._exit(0))"
)


def run_moved(path, text, mode, env, cwd, resume=True):
    """Writes the program `text` to `path` and runs it: "reference" with the fork-based
    stand-in, "teleport" as written, "checkpoint" with its teleport() replaced by a
    checkpoint that ends the run, then (with `resume`) `python -m teleporter resume`; the
    two runs' stdout are joined. `env` names the checkpoint in TELEPORTER_CKPT."""
    if mode == "checkpoint":
        text = text.replace("teleporter.teleport()", CHECKPOINT)
    path.write_text(text)
    first = run_program(path, reference=mode == "reference", env=env, cwd=cwd)
    if mode != "checkpoint" or not resume:
        return first
    assert first.returncode == 0 and first.stderr == b"", first.stderr.decode()
    second = subprocess.run(
        [sys.executable, "-m", "teleporter", "resume", env["TELEPORTER_CKPT"]],
        capture_output=True,
        cwd=cwd,
        timeout=120,
        env={k: v for k, v in {**os.environ, **env}.items() if v is not None},
    )
    return subprocess.CompletedProcess(
        second.args, second.returncode, first.stdout + second.stdout, second.stderr
    )


@pytest.fixture
def run():
    return run_program


@pytest.fixture(scope="session")
def sshd(tmp_path_factory):
    server = SSHServer(tmp_path_factory.mktemp("sshd"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def netns_sshd(tmp_path_factory):
    """sshd inside a network namespace of its own, joined to this one by a veth pair:
    another host as far as the network goes."""
    if os.geteuid() != 0:
        pytest.fail("a network namespace needs root (the test command runs as root)")
    tag = f"tp{os.getpid() % 100000}"
    net = f"10.{200 + os.getpid() % 50}.{os.getpid() % 250}"
    here, there = f"{tag}a", f"{tag}b"
    steps = [
        ["ip", "netns", "add", tag],
        ["ip", "link", "add", here, "type", "veth", "peer", "name", there],
        ["ip", "link", "set", there, "netns", tag],
        ["ip", "addr", "add", f"{net}.1/30", "dev", here],
        ["ip", "link", "set", here, "up"],
        ["ip", "netns", "exec", tag, "ip", "addr", "add", f"{net}.2/30", "dev", there],
        ["ip", "netns", "exec", tag, "ip", "link", "set", there, "up"],
        ["ip", "netns", "exec", tag, "ip", "link", "set", "lo", "up"],
    ]
    server = None
    try:
        for step in steps:
            subprocess.run(step, check=True, capture_output=True)
        server = SSHServer(
            tmp_path_factory.mktemp("netns_sshd"), f"{net}.2", ("ip", "netns", "exec", tag)
        )
        server.interface = there
        yield server
    finally:
        if server is not None:
            server.stop()
        subprocess.run(["ip", "link", "del", here], capture_output=True)
        subprocess.run(["ip", "netns", "del", tag], capture_output=True)
