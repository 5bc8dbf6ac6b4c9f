"""Errors raised by teleporter. Each carries the exit code a command-line use reports."""

from __future__ import annotations


class TeleportError(Exception):
    """The program could not be moved. Raised before the hand-off: the origin keeps running."""

    exit_code = 1


class PayloadError(TeleportError):
    """A payload or checkpoint is corrupt, truncated, foreign or for another interpreter."""

    exit_code = 2


_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape(text: str) -> str:
    """`text` with its control and format characters (line breaks, terminal escape
    sequences, bidirectional overrides, lone surrogates) written as escapes, as repr()
    writes them: what a checkpoint recorded, or another process sent, is shown, never
    interpreted by a terminal."""
    if text.isprintable():
        return text
    import unicodedata

    out = []
    for c in text:
        if c.isprintable() or unicodedata.category(c) in ("Zs", "Co", "Cn"):
            out.append(c)  # spaces, private use and unassigned: printable enough
            continue
        o = ord(c)
        out.append(
            _SHORT_ESCAPES.get(c)
            or (f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}" if o < 0x10000 else f"\\U{o:08x}")
        )
    return "".join(out)
