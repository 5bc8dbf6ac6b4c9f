"""What an asyncio program's loop adds to a move: a local ``await teleporter.ateleport()``
of a loop with 10,000 sleeping tasks and 100 queues (a task blocked on each), beside the
same move of an empty loop and beside the same program's loop not moved (its start-up,
task creation and wind-down): whole processes, median wall time. Also the move alone
(capture at the origin up to the destination's first callback), measured inside the
program.

Run it inside a venv: `nox -t bench` (or `python benchmarks/bench_asyncio.py`).
"""

from __future__ import annotations

import argparse
import subprocess

from _util import python, script, time_process

PROGRAM = """
import asyncio, os, sys, time
import teleporter

TASKS, QUEUES, MOVE = {tasks}, {queues}, {move}

async def sleeper(i):
    await asyncio.sleep(3600 + i)

async def getter(q):
    return await q.get()

async def main():
    sleepers = [asyncio.create_task(sleeper(i)) for i in range(TASKS)]
    queues = [asyncio.Queue() for _ in range(QUEUES)]
    getters = [asyncio.create_task(getter(q)) for q in queues]
    await asyncio.sleep(0)
    t0 = time.time()
    if MOVE:
        await teleporter.ateleport()
    took = time.time() - t0
    for t in sleepers:
        t.cancel()
    for q in queues:
        q.put_nowait(None)
    await asyncio.gather(*getters)
    await asyncio.gather(*sleepers, return_exceptions=True)
    if MOVE:
        print(took, file=sys.stderr)

asyncio.run(main())
"""


def _move_alone(py: str, tasks: int, queues: int, runs: int) -> float:
    """Median seconds from the call of ateleport() to the awaiting task running again at
    the destination (same clock: both processes on this machine)."""
    import statistics

    path = script(PROGRAM.format(tasks=tasks, queues=queues, move=True))
    took = []
    for _ in range(runs):
        r = subprocess.run([py, str(path)], check=True, capture_output=True)
        took.append(float(r.stderr.split()[-1]))
    path.unlink()
    return statistics.median(took)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    runs = ap.parse_args().runs
    py = python()
    rows = []
    for tasks, queues in ((0, 0), (10_000, 100)):
        moved = script(PROGRAM.format(tasks=tasks, queues=queues, move=True))
        still = script(PROGRAM.format(tasks=tasks, queues=queues, move=False))
        t_moved = time_process([py, str(moved)], runs)
        t_still = time_process([py, str(still)], runs)
        alone = _move_alone(py, tasks, queues, runs)
        moved.unlink()
        still.unlink()
        rows.append((tasks, queues, t_still, t_moved, alone))
    base = rows[0][4]
    for tasks, queues, t_still, t_moved, alone in rows:
        print(
            f"{tasks:6d} tasks {queues:4d} queues   not moved {t_still * 1e3:7.1f} ms   "
            f"moved {t_moved * 1e3:7.1f} ms ({t_moved / t_still:4.2f}x)   "
            f"the move alone {alone * 1e3:7.1f} ms ({alone / base:5.2f}x the empty loop's)"
        )
    tasks, _, _, _, alone = rows[-1]
    print(f"per task: {(alone - base) / tasks * 1e6:.1f} us")


if __name__ == "__main__":
    main()
