"""The serializer: one pickle stream for the whole moved state.

Standard ``pickle`` (protocol 5) with a ``reducer_override`` that adds what pickle lacks:
code objects, closure cells, modules, and functions and classes that must travel by
value (see :mod:`teleporter.policy`). One stream means one memo, so an object reachable
from several frames, globals or containers is rebuilt once: ``a is b`` survives, and so
do cycles.
"""

from __future__ import annotations

import _pickle  # the C pickler itself: pickle.py would also import re and enum
import importlib
import io
import marshal
import sys
import types

from . import policy

TYPE_CHECKING = False  # typing itself costs start-up time
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

PROTOCOL = 5

# ---- rebuilding (runs at the destination) --------------------------------------------------


def _module_dict(name: str) -> dict[str, Any]:
    return sys.modules[name].__dict__ if name in sys.modules else _import(name).__dict__


def _import(name: str) -> types.ModuleType:
    if name == "__main__":
        return sys.modules["__main__"]
    return importlib.import_module(name)


def _make_code(data: bytes) -> types.CodeType:
    code = marshal.loads(data)
    if not isinstance(code, types.CodeType):
        raise _pickle.UnpicklingError("marshalled data is not a code object")
    return code


_EMPTY = "teleporter.empty-cell"


def _make_cell() -> types.CellType:
    return types.CellType()


def _cell_setstate(cell: types.CellType, state: Any) -> None:
    if state != _EMPTY:
        cell.cell_contents = state[0]


def _make_function(
    code: types.CodeType, globals_: dict[str, Any], name: str, closure: tuple[Any, ...] | None
) -> types.FunctionType:
    return types.FunctionType(code, globals_, name, None, closure)


def _function_setstate(func: types.FunctionType, state: dict[str, Any]) -> None:
    for key, value in state.items():
        setattr(func, key, value)


def _make_class(meta: type, name: str, bases: tuple[type, ...], ns: dict[str, Any]) -> type:
    return types.new_class(name, bases, {"metaclass": meta}, lambda body: body.update(ns))


def _class_setstate(cls: type, state: dict[str, Any]) -> None:
    for key, value in state.items():
        setattr(cls, key, value)


# ---- reducing (runs at the origin) -----------------------------------------------------------


class _GlobalsRef:
    """Stands for a module's ``__dict__``: rebuilt as the destination module's own dict."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[str]]:
        return _module_dict, (self.name,)


def globals_ref(g: dict[str, Any]) -> Any:
    """A reference to ``g`` when it is a module's namespace, else ``g`` itself (by value)."""
    name = g.get("__name__")
    if isinstance(name, str):
        mod = sys.modules.get(name)
        if mod is not None and getattr(mod, "__dict__", None) is g:
            return _GlobalsRef(name)
    return g


_CLASS_SKIP = frozenset({"__dict__", "__weakref__"})


def _function_reduce(f: types.FunctionType) -> Any:
    state = {
        "__defaults__": f.__defaults__,
        "__kwdefaults__": f.__kwdefaults__,
        "__qualname__": f.__qualname__,
        "__module__": f.__module__,
        "__doc__": f.__doc__,
        "__annotations__": f.__annotations__,
    }
    if f.__dict__:
        state["__dict__"] = f.__dict__
    return (
        _make_function,
        (f.__code__, globals_ref(f.__globals__), f.__name__, f.__closure__),
        state,
        None,
        None,
        _function_setstate,
    )


def _class_reduce(cls: type) -> Any:
    slots = cls.__dict__.get("__slots__", ())
    if isinstance(slots, str):
        slots = (slots,)
    ns: dict[str, Any] = {"__module__": cls.__module__, "__qualname__": cls.__qualname__}
    if "__slots__" in cls.__dict__:
        ns["__slots__"] = cls.__dict__["__slots__"]
    state = {
        k: v
        for k, v in cls.__dict__.items()
        if k not in _CLASS_SKIP and k not in ns and k not in slots
    }
    return (
        _make_class,
        (type(cls), cls.__name__, cls.__bases__, ns),
        state,
        None,
        None,
        _class_setstate,
    )


class Pickler(_pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        t = type(obj)
        if t is types.FunctionType:
            if policy.defined_by_value(obj):
                return _function_reduce(obj)
            return NotImplemented
        if t is types.CodeType:
            return _make_code, (marshal.dumps(obj),)
        if t is types.CellType:
            try:
                state: Any = (obj.cell_contents,)
            except ValueError:
                state = _EMPTY
            return _make_cell, (), state, None, None, _cell_setstate
        if t is classmethod or t is staticmethod:
            return t, (obj.__func__,), obj.__dict__ or None
        if t is property:
            return property, (obj.fget, obj.fset, obj.fdel, obj.__doc__)
        if t is types.ModuleType:
            return _import, (obj.__name__,)
        if isinstance(obj, type) and policy.defined_by_value(obj):
            return _class_reduce(obj)
        return NotImplemented


def dumps(obj: Any) -> tuple[bytes, list[Any]]:
    """The pickle stream of obj, and its out-of-band buffers (views, not copies)."""
    buf = io.BytesIO()
    buffers: list[Any] = []
    Pickler(buf, PROTOCOL, buffer_callback=buffers.append).dump(obj)
    return buf.getvalue(), buffers


def loads(data: bytes | bytearray | memoryview, buffers: list[Any] | None = None) -> Any:
    return _pickle.loads(data, buffers=buffers or ())
