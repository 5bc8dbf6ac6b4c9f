"""Checkpointing a program that holds a large array, and resuming it, beside the disk's
own speed measured the same way (write + fsync, then read back into fresh memory).

Run inside a venv (`nox -t bench`); --mib sets the size (1024 for the contract figure).
--drop-caches (root) empties the page cache before each read, so reads come from disk.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

PROGRAM = r"""
import sys, time
import numpy as np
import teleporter
data = np.ones({n} // 8)
t0 = time.perf_counter()
if teleporter.checkpoint(sys.argv[1]):
    assert float(data[::4096].sum()) == len(data[::4096])
    print("resumed", flush=True)
else:
    print(time.perf_counter() - t0, flush=True)
"""


def drop_caches(enabled: bool) -> None:
    if enabled:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mib", type=int, default=256)
    ap.add_argument("--drop-caches", action="store_true")
    args = ap.parse_args()
    n = args.mib << 20
    gib = n / 2**30
    where = tempfile.mkdtemp(dir=os.environ.get("TMPDIR", "/var/tmp"))
    raw = os.path.join(where, "raw.bin")
    ckpt = os.path.join(where, "run.ckpt")
    prog = os.path.join(where, "prog.py")
    with open(prog, "w") as f:
        f.write(PROGRAM.format(n=n))
    try:
        a = np.ones(n // 8)
        t = time.perf_counter()
        with open(raw, "wb") as f:
            f.write(memoryview(a).cast("B"))
            f.flush()
            os.fsync(f.fileno())
        t_raw_write = time.perf_counter() - t
        del a
        drop_caches(args.drop_caches)
        t = time.perf_counter()
        buf = bytearray(n)
        with open(raw, "rb", buffering=0) as f:
            f.readinto(buf)
        t_raw_read = time.perf_counter() - t
        del buf

        r = subprocess.run([sys.executable, prog, ckpt], capture_output=True, text=True, check=True)
        t_ckpt = float(r.stdout)
        drop_caches(args.drop_caches)
        start = [sys.executable, "-c", "import numpy, teleporter"]
        t = time.perf_counter()
        subprocess.run(start, check=True)
        t_start = time.perf_counter() - t
        t = time.perf_counter()
        r = subprocess.run(
            [sys.executable, "-m", "teleporter", "resume", ckpt],
            capture_output=True,
            text=True,
            check=True,
        )
        t_resume = time.perf_counter() - t - t_start
        assert r.stdout == "resumed\n", r.stdout
        size = os.path.getsize(ckpt)
    finally:
        for name in os.listdir(where):
            os.remove(os.path.join(where, name))
        os.rmdir(where)
    print(f"data                          {args.mib} MiB (checkpoint file {size / 2**20:.1f} MiB)")
    print(f"disk write + fsync            {gib / t_raw_write:6.2f} GiB/s")
    print(
        f"checkpoint (write + fsync)    {gib / t_ckpt:6.2f} GiB/s  "
        f"({t_raw_write / t_ckpt:.2f}x the disk's speed)"
    )
    print(f"disk read                     {gib / t_raw_read:6.2f} GiB/s")
    print(
        f"resume (minus start-up)       {gib / t_resume:6.2f} GiB/s  "
        f"({t_raw_read / t_resume:.2f}x the disk's speed)"
    )


if __name__ == "__main__":
    main()
