"""Helpers shared by the benchmarks: time whole processes, side by side."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def time_process(argv: list[str], runs: int, stdin: bytes = b"") -> float:
    """Median wall time of `runs` runs of argv, in seconds (after one warm-up run)."""
    times = []
    for i in range(runs + 1):
        t0 = time.perf_counter()
        r = subprocess.run(argv, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        dt = time.perf_counter() - t0
        if r.returncode != 0:
            raise SystemExit(f"benchmark command failed: {argv}\n{r.stderr.decode()}")
        if i:
            times.append(dt)
    return statistics.median(times)


def script(text: str) -> Path:
    fd, name = tempfile.mkstemp(suffix=".py", prefix="tpbench_")
    os.write(fd, text.encode())
    os.close(fd)
    return Path(name)


def python() -> str:
    return sys.executable
