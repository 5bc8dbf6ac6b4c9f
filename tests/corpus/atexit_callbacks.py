"""A job that registers cleanup and summary callbacks with atexit before the move and
exits with a status code of its own after it; the callbacks run at exit, in LIFO order,
in the process where the program ends."""

import atexit
import json
import sys
from pathlib import Path

import teleporter

workdir = Path(sys.argv[1])
scratch = workdir / "scratch"
scratch.mkdir()
stats = {"files": 0, "bytes": 0, "failed": []}


def write_summary(path):
    path.write_text(json.dumps(stats, sort_keys=True))
    print("summary written:", path.read_text())
    path.unlink()


def remove_scratch():
    removed = 0
    for f in sorted(scratch.iterdir()):
        f.unlink()
        removed += 1
    scratch.rmdir()
    print("scratch removed:", removed, "files")


def goodbye(name, *, code):
    print(f"goodbye from {name}, exiting with {code}")


atexit.register(remove_scratch)
atexit.register(write_summary, workdir / "summary.json")

for i in range(10):
    data = ("record %d " % i * (i + 1)).encode()
    (scratch / f"part{i:02d}.txt").write_bytes(data)
    stats["files"] += 1
    stats["bytes"] += len(data)
    if i == 4:
        print("written so far:", stats["files"], stats["bytes"])
        teleporter.teleport()
        atexit.register(goodbye, "after-move", code=3)
    if i % 4 == 3:
        stats["failed"].append(i)

print("parts:", len(list(scratch.iterdir())), "failed:", stats["failed"])
sys.exit(3 if stats["failed"] else 0)
