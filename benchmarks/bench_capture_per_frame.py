"""Cost of one extra stack frame in a move (capture + serialize + resume), measured as the
difference between teleporting from a shallow and from a deep recursion, whole process.
The baseline beside it is the same pair of programs without the teleport, so what is
reported is teleporter's own cost per frame. Target: <= 20 us per frame.
"""

from __future__ import annotations

import argparse

from _util import python, script, time_process

PROGRAM = """
import sys
import teleporter
sys.setrecursionlimit(50000)
MOVE = {move}

def rec(n, acc):
    if n == 0:
        if MOVE:
            teleporter.teleport()
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


if __name__ == "__main__":
    main()
