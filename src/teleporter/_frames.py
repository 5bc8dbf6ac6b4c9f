"""Reading captured frame records in Python: local names and values, lines."""

from __future__ import annotations

import types

from . import _teleporter_impl as _impl

TYPE_CHECKING = False  # typing itself costs start-up time
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any


def bound_locals(code: types.CodeType, localsplus: tuple[Any, ...]) -> Iterator[tuple[str, Any]]:
    """(name, value) of every bound local, cell contents unwrapped; unbound ones skipped."""
    for i, value in enumerate(localsplus):
        if value is _impl.NULL:
            continue
        if isinstance(value, types.CellType):
            try:
                value = value.cell_contents
            except ValueError:
                continue
        try:
            name = code._varname_from_oparg(i)  # type: ignore[attr-defined]
        except Exception:
            name = f"<slot {i}>"
        yield name, value


def line_of(code: types.CodeType, unit: int) -> int | None:
    """The line of the instruction starting at code unit `unit`."""
    for start, end, line in code.co_lines():
        if start <= 2 * unit < end:
            return line
    return None


class StackInt(int):
    """An integer that CPython 3.14+ keeps on a frame's value stack as a tagged value
    rather than an object (an exception handler's saved offset, a loop's index): the
    frame adapter reads one as a StackInt and writes it back tagged."""

    __slots__ = ()
