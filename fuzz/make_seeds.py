"""Writes the seed corpus of the decode_payload fuzz target with the installed teleporter:
    python fuzz/make_seeds.py
Run it again whenever the payload format changes (each seed must decode)."""

from __future__ import annotations

import os
import tempfile
from typing import Any

from teleporter import _payload
from teleporter import _teleporter_impl as impl

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "decode_payload")


def payload(meta: bytes, state: bytes, buffers: list[Any], **kw: Any) -> bytes:
    with tempfile.TemporaryFile() as f:
        _payload.write(f.fileno(), meta, state, buffers, **kw)
        f.seek(0)
        return f.read()


def mapped() -> bytes:
    """A local move's payload: one buffer in the memory file, not in the stream."""
    with tempfile.TemporaryFile() as f, tempfile.TemporaryFile() as memory:
        impl.write_payload(
            f.fileno(), b"{}", b"s", [b"m" * 5000], _payload.VERSION, memory.fileno(), 4096
        )
        f.seek(0)
        return f.read()


SEEDS = {
    "minimal": lambda: payload(b"{}", b"s", []),
    "buffers": lambda: payload(b'{"kind": "teleport"}', b"state" * 20, [b"a" * 100, b"", b"z" * 7]),
    "lifted": lambda: payload(b"{}", b"s", [bytearray(b"w" * 300), b"x" * 200]),
    "meta_only_large": lambda: payload(b"{" + b" " * 300 + b"}", b"\x80\x05N.", [b"q" * 64]),
    "mapped": mapped,
    "signed": lambda: payload(b"{}", b"s", [b"b" * 70], key=b"fuzz seed key"),
}

if __name__ == "__main__":
    for name, make in SEEDS.items():
        data = make()
        impl.check_payload(data)
        with open(os.path.join(HERE, f"{name}.bin"), "wb") as f:
            f.write(data)
        print(f"{name}.bin: {len(data)} bytes")
