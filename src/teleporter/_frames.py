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


# ---- the program's signal handlers -------------------------------------------------------


def _code_of(handler: Any) -> Any:
    """The code a Python handler runs when the interpreter calls it, or None."""
    if handler is None or type(handler) is int:  # SIG_DFL, SIG_IGN, set outside Python
        return None
    for _ in range(8):  # a partial of a bound method of ...: a few levels at most
        if isinstance(handler, types.FunctionType):
            return handler.__code__
        if isinstance(handler, types.MethodType):
            handler = handler.__func__
        elif hasattr(handler, "func") and callable(handler):  # functools.partial
            handler = handler.func
        else:
            call = getattr(type(handler), "__call__", None)
            return call.__code__ if isinstance(call, types.FunctionType) else None
    return None


def signal_context() -> None:
    """Tells captures the program's Python signal handlers as they are now, and the C
    calls that run handlers themselves: made again once the handler has returned (a
    sleep, a lock's acquire: the calls a blocked thread is made again in) or given None
    (os.kill and its kind, which ran the handler before returning None)."""
    import _signal  # type: ignore[import-not-found]  # signal's functions wrap in enums: slower
    import os
    import signal

    from . import _threads

    codes = set()
    for signum in _signal.valid_signals():
        try:
            code = _code_of(_signal.getsignal(signum))
        except (OSError, ValueError, TypeError):
            continue
        if code is not None:
            codes.add(code)
    return_none = {
        f
        for f in (
            getattr(os, "kill", None),
            getattr(os, "killpg", None),
            getattr(signal, "raise_signal", None),
            getattr(signal, "pthread_kill", None),
            getattr(signal, "pause", None),
        )
        if f is not None
    }
    again = set(_threads.blocking_calls())
    _impl.signal_context(frozenset(codes), frozenset(again), frozenset(return_none))


# ---- frame objects of the moving frames ----------------------------------------------------


class MovingFrame(int):
    """Stands, in a travelling record's locals, for the frame object of the record at this
    index of the same stack (a signal handler's `frame`, a kept sys._getframe()): the
    destination puts that frame's own object back before the program runs."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<the frame object of frame {int(self)} of its stack>"


def _stack_of(innermost: Any, count: int) -> list[Any]:
    """The frame objects of a stack of `count` frames ending at `innermost`, outermost
    first (fewer when the stack is shorter)."""
    chain: list[Any] = []
    f = innermost
    while f is not None and len(chain) < count:
        chain.append(f)
        f = f.f_back
    chain.reverse()
    return chain


def detach_frames(records: list[Any], innermost: Any) -> None:
    """Replaces, in place, each local of `records` that holds the frame object of one of
    their own frames by a MovingFrame. `innermost`: the frame object of the last record.
    A frame object held anywhere else is left for the serializer to refuse by name."""
    chain = _stack_of(innermost, len(records))
    if len(chain) != len(records) or any(
        fr.f_code is not rec[0] for fr, rec in zip(chain, records, strict=True)
    ):
        return
    index = {id(fr): k for k, fr in enumerate(chain)}
    for j, rec in enumerate(records):
        localsplus = rec[3]
        if any(type(v) is types.FrameType and id(v) in index for v in localsplus):
            swapped = tuple(
                MovingFrame(index[id(v)]) if type(v) is types.FrameType and id(v) in index else v
                for v in localsplus
            )
            records[j] = (*rec[:3], swapped, *rec[4:])


def frame_fixes(records: list[Any]) -> list[tuple[int, int, int]]:
    """(record, local slot, record whose frame object goes there) for every MovingFrame
    in `records`' locals; PayloadError when one names no record of the stack."""
    from .errors import PayloadError

    fixes = []
    for j, rec in enumerate(records):
        if not (type(rec) is tuple and len(rec) == 7 and type(rec[3]) is tuple):
            continue  # malformed: the rebuild refuses it, naming the record
        for i, v in enumerate(rec[3]):
            if type(v) is MovingFrame:
                if not 0 <= v < len(records):
                    raise PayloadError("malformed payload: a frame reference out of its stack")
                fixes.append((j, i, int(v)))
    return fixes


def attach_frames(innermost: Any, count: int, fixes: list[tuple[int, int, int]]) -> None:
    """Puts the rebuilt frames' own objects where their MovingFrame stood; `innermost`:
    the rebuilt stack's innermost frame object, `count` its number of frames."""
    chain = _stack_of(innermost, count)
    for j, i, k in fixes:
        _impl.set_frame_local(chain[j], i, chain[k])
