"""Deadlines that the standard library keeps in a frame's locals as a ``time.monotonic()``
value (``queue.Queue.get(timeout=...)``'s ``endtime``) travel as the time they had left.

A monotonic clock is a machine's own, counted from its boot: on another machine, or after
a reboot before a checkpoint is resumed, the origin's value means nothing (a deadline far
ahead waits for hours; one behind has passed already). Each such local of a known
standard-library function is carried as the seconds it had left when the program was
captured and set to ``time.monotonic()`` + those seconds where it is rebuilt, as the
blocking calls' own timeouts are (read from their system call). A deadline that a
program computes itself is a float like any other and travels as it is."""

from __future__ import annotations

import sys
import time

TYPE_CHECKING = False  # typing itself costs start-up time
if TYPE_CHECKING:
    import types
    from typing import Any

# (module, function's qualified name, local): where 3.11-3.15 keep a monotonic deadline.
KNOWN = (
    ("queue", "Queue.get", "endtime"),
    ("queue", "Queue.put", "endtime"),
    ("threading", "Condition.wait_for", "endtime"),
    ("threading", "Semaphore.acquire", "endtime"),
    ("concurrent.futures._base", "as_completed", "end_time"),
)
# Their names: a frame of any other function is passed over without looking further.
NAMES = frozenset(qualname.rpartition(".")[2] for _module, qualname, _local in KNOWN)


def deadline_in(left: float) -> float:
    """The deadline `left` seconds from now, on this machine's monotonic clock."""
    return time.monotonic() + left


class Left:
    """A deadline as it travels: the seconds it had left at the capture."""

    __slots__ = ("left",)

    def __init__(self, left: float) -> None:
        self.left = left

    def __reduce__(self) -> tuple[Any, ...]:
        return deadline_in, (self.left,)


def _slot(code: types.CodeType, name: str) -> int | None:
    """The index of local `name` among `code`'s fast locals (cells included)."""
    count = len(code.co_varnames) + len(code.co_cellvars) + len(code.co_freevars)
    for i in range(count):
        try:
            if code._varname_from_oparg(i) == name:  # type: ignore[attr-defined]
                return i
        except Exception:
            return None
    return None


def slots() -> dict[int, int]:
    """The ids of the known functions' code objects, of the modules imported now, with the
    index of their deadline local."""
    found: dict[int, int] = {}
    for module, qualname, name in KNOWN:
        obj: Any = sys.modules.get(module)
        for part in qualname.split("."):
            obj = getattr(obj, part, None)
        code = getattr(obj, "__code__", None)
        if code is not None:
            slot = _slot(code, name)
            if slot is not None:
                found[id(code)] = slot
    return found


def carried(code: Any, localsplus: tuple[Any, ...], known: dict[int, int]) -> tuple[Any, ...]:
    """`localsplus` of a frame running `code`, its deadline (if `code` is known and its
    deadline set) replaced by the time it has left."""
    slot = known.get(id(code))
    if slot is None or slot >= len(localsplus):
        return localsplus
    value = localsplus[slot]
    if type(value) is not float:  # None until the wait starts; a cell: left as it is
        return localsplus
    values = list(localsplus)
    values[slot] = Left(value - time.monotonic())
    return tuple(values)


def carry_records(records: list[Any], known: dict[int, int] | None = None) -> None:
    """Replaces, in place, the deadlines of a thread's frame records (code, func, globals,
    localsplus, ...)."""
    if known is None:
        known = slots()
    if not known:
        return
    for i, record in enumerate(records):
        code, func, g, localsplus, *rest = record
        if id(code) in known:
            records[i] = (code, func, g, carried(code, localsplus, known), *rest)
