"""Finds which object made serialization fail, and where it lives.

Runs only after a failure: it pickles the state piece by piece and walks into the first
piece that fails (items, keys, attributes) down to the deepest object that still fails
on its own, then names the frame, the variable and the path to that object.
"""

from __future__ import annotations

import io
import sys
import types

from . import _pickling
from . import _teleporter_impl as _impl
from ._frames import bound_locals, line_of

TYPE_CHECKING = False  # typing itself costs start-up time
if TYPE_CHECKING:
    from typing import Any, Iterator


def _fails(obj: Any) -> BaseException | None:
    try:
        _pickling.dumps(obj)
    except Exception as e:
        # Kept without its traceback: its frames would hold the walk's frames (f_back), and
        # so, in a cycle, everything the walk looked at.
        return e.with_traceback(None)
    return None


def _fails_alone(obj: Any, shared: tuple[type, ...]) -> BaseException | None:
    """_fails(obj), the instances of `shared` that obj refers to left out (obj itself
    not)."""
    buf = io.BytesIO()
    pickler = _pickling.Pickler(buf, _pickling.PROTOCOL)
    pickler.persistent_id = lambda o: (  # type: ignore[method-assign]
        0 if o is not obj and isinstance(o, shared) else None
    )
    try:
        pickler.dump(obj)
    except Exception as e:
        pickler.clear_memo()
        return e.with_traceback(None)
    return None


def _children(obj: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield f"[{k!r}]", v
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield f"[{i}]", v
    elif isinstance(obj, (set, frozenset)):
        for v in obj:
            yield f" (item {v!r})", v
    else:
        d = getattr(obj, "__dict__", None)
        if isinstance(d, dict):
            for k, v in d.items():
                yield f".{k}", v
        for cls in type(obj).__mro__:
            for name in cls.__dict__.get("__slots__", ()):
                if hasattr(obj, name):
                    yield f".{name}", getattr(obj, name)


# The walk down to the culprit stops after this many steps: each step pickles what is
# below it again, and the message names a path a person can read.
_MAX_STEPS = 64
_PATH_SHOWN = 12


def _trail(obj: Any) -> list[Any]:
    """The objects being saved, outermost first, when pickling `obj` failed: one pass of
    pickle's Python pickler, which keeps its nesting on the Python stack."""
    base = _pickling._deep_pickler()
    trail: list[Any] = []

    class Tracing(base):  # type: ignore[misc, valid-type]
        def save(self, o: Any, save_persistent_id: bool = True) -> None:
            trail.append(o)
            super().save(o, save_persistent_id)
            trail.pop()

    pickler = Tracing(io.BytesIO(), _pickling.PROTOCOL, buffer_callback=lambda b: None)
    try:
        _pickling.deep_dump(pickler, obj)
    except Exception:
        return trail
    return []


def _follow(obj: Any, trail: list[Any]) -> tuple[list[str], Any]:
    """The path from `obj` along the trail, through the objects that are its items or
    attributes (what a reducer made on the way, e.g. argument tuples, is skipped)."""
    steps: list[str] = []
    for item in trail[1:]:
        for step, child in _children(obj):
            if child is item:
                steps.append(step)
                obj = item
                break
    return steps, obj


def _deepest(obj: Any, path: str, err: BaseException) -> tuple[str, Any, BaseException]:
    steps, found = _follow(obj, _trail(obj))
    if found is not obj:
        e = _fails(found)
        if e is not None:
            obj, err = found, e
        else:
            steps = []
    seen = {id(obj)}
    walked = 0
    while walked < _MAX_STEPS:  # down from there, item by item
        walked += 1
        for step, child in _children(obj):
            if id(child) in seen:
                continue
            e = _fails(child)
            if e is not None:
                seen.add(id(child))
                steps.append(step)
                obj, err = child, e
                break
        else:
            break
    if len(steps) > _PATH_SHOWN:
        hidden = len(steps) - _PATH_SHOWN + 4
        steps = steps[: _PATH_SHOWN - 4] + [f"...({hidden} steps)..."] + steps[-4:]
    return path + "".join(steps), obj, err


def _where(code: types.CodeType, at: int) -> str:
    return f"`{code.co_qualname}` ({code.co_filename}:{line_of(code, at)})"


def _report(what: str, obj: Any, err: BaseException, unnamed: bool = False) -> str:
    path, bad, e = _deepest(obj, what, err)
    if unnamed and path != what:  # a value with no name of its own: "its" part
        path = f"{what} (its {path[len(what) :]})"
    kind = f"{type(bad).__module__}.{type(bad).__qualname__}"
    return f"{path} is a {kind} that cannot be moved ({type(e).__name__}: {e})"


def culprit(
    frames: list[Any], main_globals: dict[str, Any], handled: Any, err: BaseException
) -> str:
    for code, _func, _g, localsplus, stack, at, _entry in reversed(frames):
        where = _where(code, at)
        for name, value in bound_locals(code, localsplus):
            e = _fails(value)
            if e is not None:
                return f"cannot teleport: in {where}, local variable " + _report(
                    f"`{name}`", value, e
                )
        for i, value in enumerate(stack):
            e = _fails(value) if value is not _impl.NULL else None
            if e is not None:
                what = (
                    "the iterator of a `for` loop"
                    if hasattr(type(value), "__next__")
                    else f"the value stack item {i}"
                )
                return f"cannot teleport: in {where}, " + _report(what, value, e, True)
    for name, value in main_globals.items():
        e = _fails(value)
        if e is not None:
            return "cannot teleport: global variable " + _report(f"`{name}`", value, e)
    if handled is not None and _fails(handled) is not None:
        return "cannot teleport: " + _report("the exception being handled", handled, err)
    return (
        f"cannot teleport: the program's state cannot be serialized ({type(err).__name__}: {err})"
    )


def task_culprit() -> str | None:
    """When the running asyncio loop's state cannot be serialized: the local variable of a
    task's coroutine (or async generator) that cannot, named with the task; else None."""
    asyncio: Any = sys.modules.get("asyncio")
    loop = asyncio.events._get_running_loop() if asyncio is not None else None
    if loop is None:
        return None
    from ._event_loop import chain_frames

    # Each local alone: the loop and the other tasks, futures and handles it reaches are
    # looked at in their own turn (else each local would serialize the whole program).
    shared = (asyncio.Future, asyncio.AbstractEventLoop, asyncio.Handle)
    pytask = getattr(asyncio.tasks, "_PyTask", None)
    shared += (pytask,) if isinstance(pytask, type) else ()
    for task in sorted(asyncio.all_tasks(loop), key=lambda t: t.get_name()):
        for frame in chain_frames(task.get_coro()):
            for name, value in frame.f_locals.items():
                e = _fails_alone(value, shared)
                if e is not None:
                    code = frame.f_code
                    where = f"`{code.co_qualname}` ({code.co_filename}:{frame.f_lineno})"
                    return (
                        f"cannot teleport: in the task {task.get_name()!r}, in {where}, local "
                        "variable " + _report(f"`{name}`", value, e)
                    )
    return None
