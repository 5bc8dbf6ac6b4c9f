"""teleporter inspect PATH [--json]: what a checkpoint holds, without running any of it.

Reads the header, the section table and the meta section only (recorded when the
checkpoint was taken): nothing is unpickled, no code of the program runs. A checkpoint of
another interpreter is refused like by `resume`, naming both versions.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys

from .. import _payload
from ..errors import PayloadError


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("inspect", help="show what a checkpoint holds, without running it")
    p.add_argument("path", help="the checkpoint file")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=run)


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def run(args: argparse.Namespace) -> int:
    try:
        fd = os.open(args.path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as e:
        raise PayloadError(f"cannot open {args.path!r}: {e.strerror}") from None
    try:
        info = _payload.describe(fd)
    finally:
        os.close(fd)
    meta = info["meta"]
    if args.json:
        info["bytecode_magic"] = info["bytecode_magic"].hex()
        json.dump(info, sys.stdout, indent=2)
        print()
        return 0
    created = datetime.datetime.fromtimestamp(meta.get("created", 0)).isoformat(" ", "seconds")
    py = ".".join(map(str, info["python"]))
    print(f"checkpoint   {args.path}")
    print(f"format       {info['format']}, teleporter {'.'.join(map(str, info['teleporter']))}")
    print(f"python       CPython {meta.get('python', py)}")
    print(f"created      {created} on {meta.get('host', '?')} (pid {meta.get('pid', '?')})")
    print(f"argv         {' '.join(meta.get('argv', []))}")
    print(f"cwd          {meta.get('cwd', '?')}")
    print("frames (innermost first):")
    for f in meta.get("frames", []):
        print(f"  {f['function']}  {f['file']}:{f['line']}")
        if f.get("source"):
            print(f"      {f['source']}")
        for v in f.get("locals", []):
            print(f"      {v['name']}: {v['type']} = {v['repr']}")
    if meta.get("globals"):
        print("globals:")
        for v in meta["globals"]:
            print(f"  {v['name']}: {v['type']} = {v['repr']}")
    print("sections:")
    for s in info["sections"]:
        print(f"  {s['kind']:8s} {_size(s['length']):>12s}")
    print(f"total        {_size(info['total'])}")
    return 0
