"""Cost of one extra stack frame in a move (capture + serialize + resume), measured as the
difference between teleporting from a shallow and from a deep recursion.

Two measurements: the whole process (beside the same programs without the teleport), and
the hand-off alone, from just before teleport() at the origin to just after it at the
destination (perf_counter is CLOCK_MONOTONIC on Linux, shared by both processes), which
leaves out the origin's start-up and exit noise. Target: <= 20 us per frame.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess

from _util import python, script, time_process

PROGRAM = """
import sys
import teleporter
sys.setrecursionlimit(50000)
MOVE = {move}

import time

def rec(n, acc):
    if n == 0:
        if MOVE:
            t0 = time.perf_counter()
            teleporter.teleport()
            print(time.perf_counter() - t0, file=sys.stderr)
        return acc
    return rec(n - 1, acc + 1)

rec({depth}, 0)
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--deep", type=int, default=1000)
    args = ap.parse_args()
    py = python()
    shallow = 10
    t = {}
    for move in (False, True):
        for depth in (shallow, args.deep):
            path = script(PROGRAM.format(move=move, depth=depth))
            t[move, depth] = time_process([py, str(path)], args.runs)
            path.unlink()
    hand_off = {}
    for depth in (shallow, args.deep):
        path = script(PROGRAM.format(move=True, depth=depth))
        times = []
        for _ in range(args.runs):
            r = subprocess.run([py, str(path)], capture_output=True, text=True, check=True)
            times.append(float(r.stderr.split()[-1]))
        path.unlink()
        hand_off[depth] = statistics.median(times)
    frames = args.deep - shallow
    base = (t[False, args.deep] - t[False, shallow]) / frames
    moved = (t[True, args.deep] - t[True, shallow]) / frames
    print(f"frames added                       {frames}")
    print(f"per frame, no teleport (baseline)  {base * 1e6:8.2f} us")
    print(f"per frame, with teleport           {moved * 1e6:8.2f} us")
    print(f"teleporter's cost per frame        {(moved - base) * 1e6:8.2f} us  (target <= 20)")
    print(
        f"whole run at depth {args.deep}: {t[True, args.deep] * 1e3:.1f} ms "
        f"vs {t[False, args.deep] * 1e3:.1f} ms unmoved"
    )
    per_frame = (hand_off[args.deep] - hand_off[shallow]) / frames
    print(f"hand-off alone, depth {shallow}        {hand_off[shallow] * 1e3:8.2f} ms")
    print(f"hand-off alone, depth {args.deep}      {hand_off[args.deep] * 1e3:8.2f} ms")
    print(f"per frame, hand-off alone          {per_frame * 1e6:8.2f} us  (target <= 20)")


if __name__ == "__main__":
    main()
