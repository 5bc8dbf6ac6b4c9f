"""Large arrays through a local teleport: throughput and peak RSS on both sides.

Side by side, in the same run:
  - memcpy:   np.copyto of the same array into fresh memory (the machine's ceiling);
  - pickle 5: dumps with out-of-band buffers + loads (one extra copy), in one process;
  - teleport: the whole move of a program holding the array, from the teleport() call to
    the first line after it at the destination.
Target (CONTRACTS.md): >= 1 GiB/s end to end; peak RSS <= 1.2x the data on each side.
Run inside a venv (`nox -t bench`); --mib sets the size (1024 for the contract figure).
"""

from __future__ import annotations

import argparse
import os
import pickle
import subprocess
import sys
import tempfile
import time

import numpy as np

PROGRAM = r"""
import os, resource, sys, time
import numpy as np
import teleporter
data = np.ones({n} // 8, dtype=np.float64)
data[::4096] = 7.0
t0 = time.time()
origin = os.getpid()
teleporter.teleport()
t1 = time.time()
assert os.getpid() != origin and float(data[::4096].sum()) == 7.0 * len(data[::4096])
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(t1 - t0, rss, file=sys.stderr)
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mib", type=int, default=256)
    args = ap.parse_args()
    n = args.mib << 20
    gib = n / 2**30

    a = np.ones(n // 8)
    b = np.empty_like(a)
    t = time.perf_counter()
    np.copyto(b, a)
    t_copy = time.perf_counter() - t
    del b

    t = time.perf_counter()
    bufs: list[pickle.PickleBuffer] = []
    s = pickle.dumps(a, protocol=5, buffer_callback=bufs.append)
    c = pickle.loads(s, buffers=[bytearray(m.raw()) for m in bufs])
    t_pickle = time.perf_counter() - t
    del a, c, bufs

    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(PROGRAM.format(n=n))
    try:
        proc = subprocess.Popen([sys.executable, f.name], stderr=subprocess.PIPE, text=True)
        # The origin's own high-water mark (VmHWM), read while it lives: rusage from
        # wait4 would mix in its child's accounting.
        hwm_kib = 0
        while proc.poll() is None:
            try:
                with open(f"/proc/{proc.pid}/status") as st:
                    for line in st:
                        if line.startswith("VmHWM"):
                            hwm_kib = max(hwm_kib, int(line.split()[1]))
            except OSError:
                break
            time.sleep(0.005)
        err = proc.stderr.read() if proc.stderr else ""
    finally:
        os.unlink(f.name)
    if proc.wait() != 0:
        raise SystemExit(err)
    t_move, rss_dest_kib = err.split()
    rss_o = hwm_kib * 1024 / n
    rss_d = int(rss_dest_kib) * 1024 / n
    print(f"data                         {args.mib} MiB")
    print(f"memcpy (np.copyto, cold)     {gib / t_copy:6.2f} GiB/s")
    print(f"pickle 5 dumps+loads (OOB)   {gib / t_pickle:6.2f} GiB/s")
    print(f"teleport, end to end         {gib / float(t_move):6.2f} GiB/s  (target >= 1)")
    print(f"peak RSS / data, origin      {rss_o:6.2f}x  (target <= 1.2)")
    print(f"peak RSS / data, destination {rss_d:6.2f}x  (target <= 1.2)")


if __name__ == "__main__":
    main()
