"""Moves through ssh to a real sshd on loopback, against ssh itself doing the same work.

Side by side, in the same run, against the same server:
  - small move: hello -> teleport("ssh", host) -> world, whole run, against
    `ssh host python -c pass` (a connection plus a remote interpreter start-up);
  - large move: a program holding --mib MiB of numpy data, from the teleport() call to the
    first line after it at the target (connection included), against the whole run of
    `ssh host 'cat > /dev/null'` fed the same number of bytes (what a connection carries).
Needs sshd (`apt-get install openssh-server`, done by ./scripts/test-all) and root for its
privilege separation directory. Run inside a venv with teleporter and numpy installed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from _util import python, script, time_process  # noqa: E402
from sshd import SSHServer  # noqa: E402

HELLO = """
import sys, teleporter
print("hello")
teleporter.teleport(*sys.argv[1:])
print("world")
"""

LARGE = r"""
import os, sys, time
import numpy as np
import teleporter
data = np.ones({n} // 8, dtype=np.float64)
t0 = time.time()
teleporter.teleport(*sys.argv[1:])
t1 = time.time()
assert float(data.sum()) == len(data)
print(t1 - t0, file=sys.stderr)
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mib", type=int, default=256)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    n = args.mib << 20
    py = python()
    with tempfile.TemporaryDirectory() as tmp:
        server = SSHServer(Path(tmp))
        try:
            ssh = list(server.command())
            bare = time_process([*ssh, py, "-c", "pass"], args.runs)
            hello = script(HELLO)
            small = time_process([py, str(hello), *ssh], args.runs)
            hello.unlink()

            blob = os.urandom(1 << 20) * args.mib
            pipes = []
            for _ in range(args.runs):
                t = time.perf_counter()
                subprocess.run([*ssh, "cat > /dev/null"], input=blob, check=True)
                pipes.append(time.perf_counter() - t)
            pipe = sorted(pipes)[len(pipes) // 2]
            del blob

            large = script(LARGE.format(n=n))
            moves = []
            for _ in range(args.runs):
                r = subprocess.run([py, str(large), *ssh], capture_output=True, check=True)
                moves.append(float(r.stderr.decode().split()[-1]))
            large.unlink()
        finally:
            server.stop()
    gib = n / 2**30
    move = sorted(moves)[len(moves) // 2]
    print(f"ssh host python -c pass            {bare * 1e3:8.1f} ms")
    print(f"hello -> teleport(ssh) -> world    {small * 1e3:8.1f} ms   {small / bare:5.2f}x")
    ratio = pipe / move
    print(f"ssh 'cat > /dev/null', {args.mib} MiB     {gib / pipe:8.2f} GiB/s")
    print(f"teleport(ssh) holding {args.mib} MiB     {gib / move:8.2f} GiB/s   {ratio:4.2f}x ssh")


if __name__ == "__main__":
    main()
