"""teleporter inspect [--key-file FILE] PATH [--json]: what a checkpoint holds, without
running any of it.

Reads and checks every byte of the file (checksums, padding, and with a key the
signature), but keeps only the header, the section table and the meta section (recorded
when the checkpoint was taken): nothing is unpickled, no code of the program runs. A
checkpoint of another interpreter is refused like by `resume`, naming both versions.

What the meta section says is shown as text, whatever its shape, with control characters
escaped (a terminal never interprets what a checkpoint recorded); --json escapes them too.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys

from .. import _payload
from .._checkpoint import KEY_ENV, KEY_FILE_ENV, configured_key, open_checkpoint
from ..errors import PayloadError, escape

TYPE_CHECKING = False  # typing itself costs start-up time
if TYPE_CHECKING:
    from typing import Any


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("inspect", help="show what a checkpoint holds, without running it")
    p.add_argument("path", help="the checkpoint file")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--key-file",
        metavar="FILE",
        help=f"verify the signature with the key in FILE (default: {KEY_FILE_ENV} or {KEY_ENV})",
    )
    p.set_defaults(run=run)


SIGNATURE = {
    "verified": "verified (HMAC-SHA256 with the given key)",
    "unverified": "signed, not verified (no key given)",
    "unsigned": "unsigned",
}


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def _text(value: Any, missing: str = "?") -> str:
    """A recorded value as one line of text: strings as they are, anything else as the
    JSON it was recorded as; control characters escaped."""
    if value is None:
        return missing
    return escape(value if isinstance(value, str) else json.dumps(value))


def _created(meta: dict[str, Any]) -> str:
    import datetime

    when = meta.get("created")
    if not isinstance(when, (int, float)):
        return "?"
    try:
        return datetime.datetime.fromtimestamp(when).isoformat(" ", "seconds")
    except (ValueError, OverflowError, OSError):  # no date this host can write
        return "?"


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _variable(v: Any) -> str:
    if not isinstance(v, dict):
        return _text(v)
    return f"{_text(v.get('name'))}: {_text(v.get('type'))} = {_text(v.get('repr'))}"


def _show(path: str, info: dict[str, Any]) -> None:
    meta = info["meta"]
    py = ".".join(map(str, info["python"]))
    print(f"checkpoint   {escape(path)}")
    print(f"format       {info['format']}, teleporter {'.'.join(map(str, info['teleporter']))}")
    print(f"signature    {SIGNATURE[info['signature']]}")
    print(f"python       CPython {_text(meta.get('python'), py)}")
    print(
        f"created      {_created(meta)} on {_text(meta.get('host'))} (pid {_text(meta.get('pid'))})"
    )
    argv = meta.get("argv", [])
    print(f"argv         {' '.join(map(_text, argv)) if isinstance(argv, list) else _text(argv)}")
    print(f"cwd          {_text(meta.get('cwd'))}")
    print("frames (innermost first):")
    for f in _items(meta.get("frames")):
        if not isinstance(f, dict):
            print(f"  {_text(f)}")
            continue
        print(f"  {_text(f.get('function'))}  {_text(f.get('file'))}:{_text(f.get('line'))}")
        if f.get("source"):
            print(f"      {_text(f['source'])}")
        for v in _items(f.get("locals")):
            print(f"      {_variable(v)}")
    if _items(meta.get("globals")):
        print("globals:")
        for v in meta["globals"]:
            print(f"  {_variable(v)}")
    print("sections:")
    for s in info["sections"]:
        print(f"  {s['kind']:8s} {_size(s['length']):>12s}")
    print(f"total        {_size(info['total'])}")


def run(args: argparse.Namespace) -> int:
    key = configured_key(key_file=args.key_file, error=PayloadError)
    fd = open_checkpoint(args.path)
    try:
        info = _payload.describe(fd, key)
    finally:
        os.close(fd)
    signed = info.pop("signed")
    info["signature"] = "unsigned" if not signed else "verified" if key else "unverified"
    if isinstance(sys.stdout, io.TextIOWrapper):  # an encoding without, say, "é" gets "\xe9"
        sys.stdout.reconfigure(errors="backslashreplace")
    try:
        if args.json:
            info["bytecode_magic"] = info["bytecode_magic"].hex()
            # ensure_ascii escapes every control character but DEL: escape that one too.
            print(json.dumps(info, indent=2).replace("\x7f", "\\u007f"))
        else:
            _show(args.path, info)
        sys.stdout.flush()
    except BrokenPipeError:  # `| head`: the reader has seen enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0
