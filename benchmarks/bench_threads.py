"""What each thread adds to a move: a local teleport of a program with 0, 1, 10 and 50
other threads (half waiting on an Event, half on a queue), whole process, beside the same
program with no other thread. The cost per thread is the slope.

Run it inside a venv: `nox -t bench` (or `python benchmarks/bench_threads.py`).
"""

from __future__ import annotations

import argparse

from _util import python, script, time_process

PROGRAM = """
import queue, threading
import teleporter

N = {n}
stop = threading.Event()
q = queue.Queue()
def wait():
    stop.wait()
def take():
    q.get()
threads = [threading.Thread(target=wait if i % 2 else take) for i in range(N)]
for t in threads:
    t.start()
teleporter.teleport()
stop.set()
for _ in range(N):
    q.put(None)
for t in threads:
    t.join()
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    runs = ap.parse_args().runs
    py = python()
    results = {}
    for n in (0, 1, 10, 50):
        path = script(PROGRAM.format(n=n))
        results[n] = time_process([py, str(path)], runs)
        path.unlink()
    base = results[0]
    for n, t in results.items():
        extra = f"   +{(t - base) / n * 1e3:6.2f} ms per thread" if n else ""
        print(f"{n:3d} other threads   {t * 1e3:8.1f} ms   {t / base:5.2f}x{extra}")


if __name__ == "__main__":
    main()
