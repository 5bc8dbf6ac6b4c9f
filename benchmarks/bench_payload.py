"""Serializing object-heavy state: teleporter's serializer against pickle, cloudpickle and
dill, dumps + loads of the same state in one process.

State (CONTRACTS.md): a 1e6-element list, a 1e5-key dict and 1e5 small instances of a
class defined in __main__ (which pickle can only do by reference, and cloudpickle, dill
and teleporter by value). Target: no slower than cloudpickle.
"""

from __future__ import annotations

import argparse
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


def measure(dumps, loads, obj, runs: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        loads(dumps(obj))
        times.append(time.perf_counter() - t)
    return statistics.median(times)


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
    results = {name: measure(d, lo, obj, args.runs) for name, d, lo in rows}
    base = results.get("cloudpickle")
    for name, t in results.items():
        ratio = f"  {t / base:5.2f}x cloudpickle" if base else ""
        print(f"{name:12s} {t * 1e3:8.1f} ms{ratio}")


if __name__ == "__main__":
    main()
