"""Serializing object-heavy state: teleporter's serializer against pickle, cloudpickle and
dill, dumps + loads of the same state in one process.

State (CONTRACTS.md): a 1e6-element list, a 1e5-key dict and 1e5 small instances of a
class defined in __main__ (which pickle can only do by reference, and cloudpickle, dill
and teleporter by value). Target: no slower than cloudpickle.
"""

from __future__ import annotations

import argparse
import gc
import pickle
import statistics
import time


class Small:
    def __init__(self, i: int) -> None:
        self.i = i
        self.name = f"n{i}"


def state(n: int) -> dict[str, object]:
    return {
        "numbers": list(range(n)),
        "table": {f"key{i}": i * 0.5 for i in range(n // 10)},
        "objects": [Small(i) for i in range(n // 10)],
    }


def once(dumps, loads, obj) -> float:  # type: ignore[no-untyped-def]
    gc.collect()
    t = time.perf_counter()
    loads(dumps(obj))
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    obj = state(args.n)

    from teleporter import _pickling

    def tp_dumps(o):  # type: ignore[no-untyped-def]
        return _pickling.dumps(o)

    def tp_loads(pair):  # type: ignore[no-untyped-def]
        return _pickling.loads(pair[0], pair[1])

    rows = [("teleporter", tp_dumps, tp_loads)]
    rows.append(("pickle", lambda o: pickle.dumps(o, 5), pickle.loads))
    for name in ("cloudpickle", "dill"):
        try:
            mod = __import__(name)
        except ImportError:
            print(f"{name:12s} not installed")
            continue
        rows.append((name, mod.dumps, mod.loads))
    # Rounds of one run each, side by side: this machine's speed drifts over seconds, so
    # each serializer is compared with cloudpickle within the same round, and the median
    # of those per-round ratios is reported beside the median times.
    times: dict[str, list[float]] = {name: [] for name, _d, _l in rows}
    for _ in range(args.runs):
        for name, d, lo in rows:
            times[name].append(once(d, lo, obj))
    base = times.get("cloudpickle")
    for name, ts in times.items():
        ratio = ""
        if base:
            r = statistics.median(t / b for t, b in zip(ts, base))
            ratio = f"  {r:5.2f}x cloudpickle (median of {args.runs} rounds)"
        print(f"{name:12s} {statistics.median(ts) * 1e3:8.1f} ms{ratio}")


if __name__ == "__main__":
    main()
