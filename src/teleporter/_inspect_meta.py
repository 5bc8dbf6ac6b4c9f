"""What `teleporter inspect` shows of a checkpoint, recorded when it is taken: each frame's
function, file, line and source line, and its locals' names, types and short reprs.
Reprs run here, in the program that takes the checkpoint; `inspect` only reads them."""

from __future__ import annotations

import linecache
import types

from ._frames import bound_locals, line_of

TYPE_CHECKING = False  # typing itself costs start-up time
if TYPE_CHECKING:
    from typing import Any

_REPR_LIMIT = 120


_reprs: Any = None


def _bounded_repr(value: Any) -> str:
    """A repr that never builds the whole text of a large container or string (a list of
    ten million numbers costs what its first few items cost)."""
    global _reprs
    if _reprs is None:
        import reprlib

        _reprs = reprlib.Repr()
        _reprs.maxlevel = 3
        _reprs.maxstring = _reprs.maxother = _reprs.maxlong = _REPR_LIMIT
        for name in ("maxtuple", "maxlist", "maxarray", "maxdict", "maxset", "maxfrozenset"):
            setattr(_reprs, name, 8)
        _reprs.maxdeque = 8
    text: str = _reprs.repr(value)
    return text


def _short_repr(value: Any) -> str:
    try:
        text = _bounded_repr(value)
    except Exception as e:  # a user's __repr__ may fail: say so, do not stop the checkpoint
        text = f"<repr failed: {type(e).__name__}>"
    return text if len(text) <= _REPR_LIMIT else text[: _REPR_LIMIT - 3] + "..."


def describe_frames(frames: list[Any]) -> list[dict[str, Any]]:
    out = []
    for code, _func, _g, localsplus, _stack, at, _entry in reversed(frames):  # innermost first
        line = line_of(code, at)
        local_vars = []
        if code.co_flags & 0x1:  # CO_OPTIMIZED: a function's fast locals
            for name, value in bound_locals(code, localsplus):
                local_vars.append(
                    {"name": name, "type": _type_name(value), "repr": _short_repr(value)}
                )
        out.append(
            {
                "function": code.co_qualname,
                "file": code.co_filename,
                "line": line,
                "source": linecache.getline(code.co_filename, line).strip() if line else "",
                "locals": local_vars,
            }
        )
    return out


def describe_globals(g: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {"name": k, "type": _type_name(v), "repr": _short_repr(v)}
        for k, v in g.items()
        if not (k.startswith("__") and k.endswith("__"))
        and not isinstance(v, (types.ModuleType, types.FunctionType, type))
    ]


def _type_name(value: Any) -> str:
    t = type(value)
    return (
        t.__qualname__
        if t.__module__ in ("builtins", "__main__")
        else f"{t.__module__}.{t.__qualname__}"
    )
