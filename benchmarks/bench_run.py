"""What a periodic checkpoint of `teleporter run --every` costs the running program: the
program measures the longest gaps between iterations of its own loop (what a pause
looks like from inside), with and without `--every 0.5`, for a state of small objects
(a dict of 200,000 entries) and of arrays (64 MiB of numpy). The pause is the capture
and the copy of the state; the file is written while the program goes on.

Run it inside a venv: `nox -t bench` (or `python benchmarks/bench_run.py`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

PROGRAM = """
import json, sys, time
kind = sys.argv[1]
if kind == "objects":
    state = {{i: (str(i), [i, i + 1]) for i in range(200_000)}}
else:
    import numpy as np
    state = [np.full(8 << 20, i, dtype=np.float64) for i in range(1)]
gaps = []
end = time.perf_counter() + {seconds}
last = time.perf_counter()
while (now := time.perf_counter()) < end:
    gaps.append(now - last)
    last = now
    x = sum(range(200))
gaps.sort()
print(json.dumps({{"max": gaps[-1], "p999": gaps[int(len(gaps) * 0.999)], "n": len(gaps)}}))
"""


def run(kind: str, every: float | None, seconds: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "p.py")
        with open(path, "w") as f:
            f.write(PROGRAM.format(seconds=seconds))
        args = [sys.executable, "-m", "teleporter", "run", "--checkpoint", os.path.join(d, "c")]
        if every is not None:
            args += ["--every", str(every)]
        r = subprocess.run([*args, path, kind], capture_output=True, check=True, timeout=300)
        result: dict[str, float] = json.loads(r.stdout)
        return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=4.0)
    seconds = ap.parse_args().seconds
    print(f"{'state':<10} {'mode':<12} {'longest pause':>14} {'99.9th pct':>11} {'iterations':>11}")
    for kind in ("objects", "arrays"):
        for every in (None, 0.5):
            r = run(kind, every, seconds)
            mode = "plain" if every is None else f"--every {every}"
            print(
                f"{kind:<10} {mode:<12} {r['max'] * 1e3:>11.1f} ms {r['p999'] * 1e3:>8.2f} ms "
                f"{int(r['n']):>11}"
            )


if __name__ == "__main__":
    main()
