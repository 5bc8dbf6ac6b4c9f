"""The serializer: one pickle stream for the whole moved state.

Standard ``pickle`` (protocol 5) with a ``reducer_override`` that adds what pickle lacks:
code objects, closure cells, modules, and functions and classes that must travel by
value (see :mod:`teleporter.policy`). One stream means one memo, so an object reachable
from several frames, globals or containers is rebuilt once: ``a is b`` survives, and so
do cycles.
"""

from __future__ import annotations

import _pickle  # the C pickler itself: pickle.py would also import re and enum
import _weakref
import gc
import importlib
import io
import marshal
import os
import sys
import types

from . import _deadlines, _reducers, policy
from . import _teleporter_impl as _impl

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


def _namespace(cls: type) -> Any:
    """The dict a class keeps its attributes in (``cls.__dict__`` is a proxy of it)."""
    return gc.get_referents(cls.__dict__)[0]


def _class_of_namespace(d: Any) -> type | None:
    """The class whose own attribute dict `d` is, or None. From 3.14 on a class's annotate
    functions reach its namespace through a ``__classdict__`` cell holding that dict."""
    if type(d) is not dict or "__module__" not in d:
        return None
    # Found by the qualified name of a function defined in its body, else (a class inside
    # a function) among the dict's referrers.
    for value in d.values():
        qualname = value.__qualname__ if type(value) is types.FunctionType else None
        if qualname and "." in qualname and "<locals>" not in qualname:
            owner: Any = sys.modules.get(d["__module__"])
            for part in qualname.split(".")[:-1]:
                owner = getattr(owner, part, None)
            if isinstance(owner, type) and _namespace(owner) is d:
                return owner
    for ref in gc.get_referrers(d):
        if isinstance(ref, type) and _namespace(ref) is d:
            return ref
    return None


def _namespace_cell_setstate(cell: types.CellType, cls: type) -> None:
    cell.cell_contents = _namespace(cls)


def _make_function(
    code: types.CodeType, globals_: dict[str, Any], name: str, closure: tuple[Any, ...] | None
) -> types.FunctionType:
    return types.FunctionType(code, globals_, name, None, closure)


def _function_setstate(func: types.FunctionType, state: dict[str, Any]) -> None:
    for key, value in state.items():
        setattr(func, key, value)


def _make_class(meta: type, name: str, bases: tuple[type, ...], ns: dict[str, Any]) -> type:
    return types.new_class(name, bases, {"metaclass": meta}, lambda body: body.update(ns))


_ABC_REGISTERED = "teleporter: registered virtual subclasses"


def _class_setstate(cls: type, state: dict[str, Any]) -> None:
    for key, value in state.items():
        if key == _ABC_REGISTERED:
            for sub in value:
                cls.register(sub)  # type: ignore[attr-defined]
        else:
            setattr(cls, key, value)


def _make_enum(
    meta: type, name: str, bases: tuple[type, ...], ns: dict[str, Any], members: dict[str, Any]
) -> type:
    body = meta.__prepare__(name, bases)
    for key, value in ns.items():  # methods and settings first, as in a class body
        body[key] = value
    for key, value in members.items():
        body[key] = value  # defines the members, in their order, through EnumDict
    cls: type = meta(name, bases, body)
    return cls


def _singleton(module: str, name: str) -> Any:
    obj: Any = _import(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def _module_alias(cls: type) -> tuple[str, str] | None:
    """Another name by which a by-reference module exposes the class, if any."""
    module = getattr(cls, "__module__", None)
    if not isinstance(module, str) or policy.module_by_value(module):
        return None
    d = getattr(sys.modules.get(module), "__dict__", None)
    if not isinstance(d, dict):
        return None
    for name, value in d.items():
        if value is cls:
            return module, name
    return None


def _make_weakref(target: Any, callback: Any) -> Any:
    return _weakref.ref(target, callback)


def _make_dead_weakref() -> Any:
    class Gone:
        pass

    return _weakref.ref(Gone())  # its only referent dies with the call


def _make_memoryview(
    base: Any, offset: int, nbytes: int, fmt: str, shape: tuple[int, ...], readonly: bool
) -> memoryview:
    view: memoryview = memoryview(base).cast("B")[offset : offset + nbytes].cast(fmt, shape)  # type: ignore[call-overload]
    return view.toreadonly() if readonly else view


def _make_generator(func: Any, code: types.CodeType, globals_: dict[str, Any]) -> Any:
    return _impl.new_generator(func, code, globals_)


def _generator_setstate(gen: Any, state: tuple[Any, ...]) -> None:
    _impl.restore_generator(gen, state)


def _generator_reduce(gen: Any) -> Any:
    try:
        code, func, g, *state = _impl.capture_generator(gen)
    except _impl.CaptureError as e:
        kind = type(gen).__name__.replace("_", " ")
        raise TypeError(f"cannot move the {kind} `{gen.__qualname__}`: {e}") from None
    if g is None:  # finished: any function running the code will do
        g = {"__builtins__": __builtins__}
    elif state[3] and code.co_name in _deadlines.NAMES:  # as_completed(timeout=), suspended
        state[3] = _deadlines.carried(code, state[3], _deadlines.slots())
    return (
        _make_generator,
        (func, code, globals_ref(g)),
        tuple(state),
        None,
        None,
        _generator_setstate,
    )


# ---- files: reopened at the same path, mode and position ------------------------------------

_FILE_TYPES = (io.TextIOWrapper, io.BufferedReader, io.BufferedWriter, io.BufferedRandom, io.FileIO)


def _reopen_mode(mode: str) -> str:
    """The mode that continues a file: never truncate or refuse what the origin created."""
    if "w" in mode or "x" in mode:
        return mode.replace("w", "r").replace("x", "r").replace("+", "") + "+"
    return mode


def _make_file(
    path: str, mode: str, position: int, buffering: int, text: dict[str, Any] | None
) -> Any:
    try:
        if text is None:
            f = open(path, _reopen_mode(mode), buffering=buffering)
        else:
            f = open(path, _reopen_mode(mode), buffering=buffering, **text)
    except OSError as e:
        raise OSError(
            e.errno, f"cannot reopen the program's file {path!r} ({e.strerror})"
        ) from None
    if "a" not in mode:
        f.seek(position)
    return f


def _make_closed_file(mode: str, text: bool) -> Any:
    """A closed file of the same kind (it cannot be used, only looked at)."""
    f = open(os.devnull, ("r" if "r" in mode and "+" not in mode else "w") + ("" if text else "b"))
    f.close()
    return f


def _make_text_wrapper(
    buffer: Any, encoding: str, errors: str, line_buffering: bool, write_through: bool
) -> Any:
    return io.TextIOWrapper(
        buffer, encoding, errors, line_buffering=line_buffering, write_through=write_through
    )


def _process_stream_buffers() -> list[Any]:
    streams = (sys.__stdin__, sys.__stdout__, sys.__stderr__)
    return [getattr(s, "buffer", None) for s in streams if s is not None]


def _file_reduce(f: Any) -> Any:
    text = isinstance(f, io.TextIOWrapper)
    path = getattr(f, "name", None)
    mode = getattr(f, "mode", "rb")
    if f.closed:
        return _make_closed_file, (mode, text)
    if text and any(f.buffer is b for b in _process_stream_buffers()):
        # The program's own text layer on the process's stdout (or stdin, stderr): a
        # wrapper of the destination's stream, encoding and buffering as the program's.
        if f.writable():
            f.flush()
        return _make_text_wrapper, (
            f.buffer,
            f.encoding,
            f.errors,
            f.line_buffering,
            f.write_through,
        )
    if not isinstance(path, str):
        raise TypeError(f"a file opened from file descriptor {path!r} cannot be reopened elsewhere")
    f.flush()  # what the program wrote before the move is on disk, not lost
    position = f.tell() if f.seekable() else 0
    buffering = 0 if isinstance(f, io.FileIO) else -1
    options = None
    if text:
        options = {"encoding": f.encoding, "errors": f.errors}
        if f.line_buffering:
            buffering = 1
    return _make_file, (os.path.abspath(path), mode, position, buffering, options)


# ---- logging: loggers by name with their configuration, handlers rebuilt ------------------


def _get_logger(name: str | None) -> Any:
    import logging

    return logging.getLogger(name)


def _logger_setstate(logger: Any, state: dict[str, Any]) -> None:
    logger.setLevel(state["level"])
    logger.propagate = state["propagate"]
    logger.disabled = state["disabled"]
    logger.handlers[:] = state["handlers"]
    logger.filters[:] = state["filters"]


def _logger_reduce(logger: Any) -> Any:
    root = logger is logger.root
    state = {
        "level": logger.level,
        "propagate": logger.propagate,
        "disabled": logger.disabled,
        "handlers": list(logger.handlers),
        "filters": list(logger.filters),
    }
    return _get_logger, (None if root else logger.name,), state, None, None, _logger_setstate


def _make_handler(cls: Any) -> Any:
    import logging

    handler = cls.__new__(cls)
    handler.createLock()
    logging._addHandlerRef(handler)  # type: ignore[attr-defined]  # flushed at shutdown
    return handler


def _handler_setstate(handler: Any, state: dict[str, Any]) -> None:
    handler.__dict__.update(state)


def _handler_reduce(handler: Any) -> Any:
    state = {k: v for k, v in handler.__dict__.items() if k != "lock"}
    return _make_handler, (type(handler),), state, None, None, _handler_setstate


def logging_state() -> list[Any] | None:
    """Every configured logger of the program (root first), or None without logging."""
    logging = sys.modules.get("logging")
    if logging is None:
        return None
    loggers = [logging.getLogger()]
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger):
            loggers.append(logger)
    return loggers


def _make_mappingproxy(d: dict[str, Any]) -> types.MappingProxyType[str, Any]:
    return types.MappingProxyType(d)


# ---- reducing (runs at the origin) -----------------------------------------------------------


class _GlobalsRef:
    """Stands for a module's ``__dict__``: rebuilt as the destination module's own dict."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[str]]:
        return _module_dict, (self.name,)


def _namespace_of(module: types.ModuleType) -> dict[str, Any]:
    return module.__dict__


def globals_ref(g: dict[str, Any]) -> Any:
    """What stands for the namespace ``g`` in the stream: the destination's own module
    namespace for a module that travels by reference; for a module that travels by value,
    the namespace of that very module object (rebuilt before anything that uses it); else
    ``g`` itself."""
    name = g.get("__name__")
    if isinstance(name, str):
        mod = sys.modules.get(name)
        if mod is not None and getattr(mod, "__dict__", None) is g:
            if name != "__main__" and policy.module_by_value(name):
                return _ModuleNamespace(mod)
            return _GlobalsRef(name)
    return g


class _ModuleNamespace:
    """Stands for the namespace of a module that travels by value."""

    __slots__ = ("module",)

    def __init__(self, module: types.ModuleType) -> None:
        self.module = module

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[types.ModuleType]]:
        return _namespace_of, (self.module,)


def _make_module(name: str, doc: Any) -> types.ModuleType:
    """A module travelling by value: registered under its name before its contents are
    rebuilt, so that `import name` finds it again (and its own functions' globals are it)."""
    mod = types.ModuleType(name, doc)
    sys.modules[name] = mod
    parent, _, child = name.rpartition(".")
    if parent and parent in sys.modules:
        setattr(sys.modules[parent], child, mod)
    return mod


def _module_setstate(mod: types.ModuleType, state: dict[str, Any]) -> None:
    mod.__dict__.update(state)
    mod.__dict__.setdefault("__builtins__", __builtins__)


def _module_reduce(mod: types.ModuleType) -> Any:
    state = {k: v for k, v in mod.__dict__.items() if k not in ("__builtins__", "__name__")}
    return _make_module, (mod.__name__, mod.__doc__), state, None, None, _module_setstate


_HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class made at run time, not a static C type
_CLASS_SKIP = frozenset({"__dict__", "__weakref__"})
# Objects that are singletons of their module: they travel by reference, so that
# `field.default is dataclasses.MISSING` or `sys.stdout` mean the same after the move.
_SINGLETONS = {
    "sys": tuple(
        f"{stream}{part}"
        for stream in ("stdin", "stdout", "stderr", "__stdin__", "__stdout__", "__stderr__")
        for part in ("", ".buffer", ".buffer.raw")  # a program writing bytes to stdout
    ),
    "dataclasses": (
        "MISSING",
        "KW_ONLY",
        "_FIELD",
        "_FIELD_CLASSVAR",
        "_FIELD_INITVAR",
        "_HAS_DEFAULT_FACTORY",
        "_EMPTY_METADATA",
    ),
    "inspect": ("_empty", "Parameter.empty", "Signature.empty"),
    "enum": ("_auto_null",),
    "typing": ("Any", "NoReturn", "ClassVar", "Optional", "Union"),
    # Built-in types named only by `_collections_abc` (pickle looks them up in builtins and
    # fails: a frame of an isinstance check against an ABC holds the type it checks).
    "_collections_abc": (
        "bytes_iterator",
        "bytearray_iterator",
        "dict_keyiterator",
        "dict_valueiterator",
        "dict_itemiterator",
        "list_iterator",
        "list_reverseiterator",
        "range_iterator",
        "longrange_iterator",
        "set_iterator",
        "str_iterator",
        "tuple_iterator",
        "zip_iterator",
        "dict_keys",
        "dict_values",
        "dict_items",
    ),
    # Types named only by `types` (pickle looks them up in builtins by their own names and
    # fails: an annotation `tb: TracebackType` of a function that travels, gen.send as a
    # method descriptor is getattr(generator, "send")).
    "types": (
        "GeneratorType",
        "CoroutineType",
        "AsyncGeneratorType",
        "FunctionType",
        "CodeType",
        "CellType",
        "MethodType",
        "BuiltinFunctionType",
        "WrapperDescriptorType",
        "MethodWrapperType",
        "MethodDescriptorType",
        "ClassMethodDescriptorType",
        "GetSetDescriptorType",
        "MemberDescriptorType",
        "MappingProxyType",
        "ModuleType",
        "TracebackType",
        "FrameType",
    ),
}


def _singleton_table() -> dict[int, tuple[str, str]]:
    table: dict[int, tuple[str, str]] = {}
    for module, names in _SINGLETONS.items():
        mod = sys.modules.get(module)
        if mod is None:
            continue
        for name in names:
            stream = name.partition(".")[0]
            if module == "sys" and not stream.startswith("__"):
                if getattr(sys, stream, None) is not getattr(sys, f"__{stream}__", None):
                    continue  # the program's own object there: it travels as itself
            try:
                table[id(_singleton(module, name))] = (module, name)
            except AttributeError:
                pass
    return table


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


# Attributes an enum needs while its members are created; the rest is set afterwards, so
# that references from the class's own namespace back to it (bound methods of it,
# functions using super()) meet the class already in the pickle memo.
_ENUM_AT_CREATION = frozenset(
    {
        "__init__",
        "_generate_next_value_",
        "_missing_",
        "_ignore_",
        "_order_",
        "__module__",
        "__qualname__",
    }
)


def _enum_reduce(cls: type) -> Any:
    members = {k: m._value_ for k, m in cls.__members__.items()}  # type: ignore[attr-defined]
    # What the metaclass generates by itself (it differs between versions): the attributes
    # of an empty enum made the same way.
    meta: Any = type(cls)
    probe = meta(cls.__name__, cls.__bases__, meta.__prepare__(cls.__name__, cls.__bases__))
    generated = set(probe.__dict__) - {"__module__", "__qualname__"}
    own = {
        k: v
        for k, v in cls.__dict__.items()
        if k not in _CLASS_SKIP and k not in generated and k not in members
    }
    ns = {k: v for k, v in own.items() if k in _ENUM_AT_CREATION}
    later = {k: v for k, v in own.items() if k not in _ENUM_AT_CREATION}
    return (
        _make_enum,
        (meta, cls.__name__, cls.__bases__, ns, members),
        later,
        None,
        None,
        _class_setstate,
    )


def _abc_registry(cls: type) -> list[type]:
    """The virtual subclasses registered with an ABC (``Base.register(Other)``)."""
    abc_impl: Any = importlib.import_module("_abc")  # ABCMeta's C side (no stubs)
    refs = abc_impl._get_dump(cls)[0]
    return [t for t in (r() for r in refs) if t is not None]


def _with_class_data(module: str, qualname: str, data: dict[str, Any]) -> Any:
    """The class `module`.`qualname` as the destination imports it, given the data
    attributes it lacks there (see _lazy_class_reduce)."""
    cls = _singleton(module, qualname)
    for key, value in data.items():
        if key not in cls.__dict__:
            setattr(cls, key, value)
    return cls


def _lazy_class_reduce(cls: type) -> Any:
    """A class that travels by name, but whose metaclass sets attributes on it when it is
    first called (pygments' lexers compile their token tables that way): an instance
    rebuilt by the serializer never calls it, so the data attributes that the fresh class
    lacks at the destination travel with it. NotImplemented (by name alone) for others."""
    meta = type(cls)
    call = getattr(meta, "__call__", None)
    if meta is type or not isinstance(call, types.FunctionType):
        return NotImplemented
    enum = sys.modules.get("enum")
    if enum is not None and isinstance(cls, enum.EnumType):
        return NotImplemented  # an enum's members are made by its class body
    module, qualname = getattr(cls, "__module__", None), getattr(cls, "__qualname__", "")
    if not isinstance(module, str) or "<locals>" in qualname:
        return NotImplemented
    data = {
        k: v
        for k, v in cls.__dict__.items()
        if not (k.startswith("__") and k.endswith("__")) and not _is_code_like(v)
    }
    if not data:
        return NotImplemented
    return _with_class_data, (module, qualname, data)


def _is_code_like(v: Any) -> bool:
    """Functions and other descriptors, classes, modules: made again by the class's own
    module."""
    return isinstance(v, (type, types.ModuleType)) or hasattr(type(v), "__get__")


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
    if "_abc_impl" in state:  # made by ABCMeta itself; its registry travels by value
        del state["_abc_impl"]
        registered = _abc_registry(cls)
        if registered:
            state[_ABC_REGISTERED] = registered
    return (
        _make_class,
        (type(cls), cls.__name__, cls.__bases__, ns),
        state,
        None,
        None,
        _class_setstate,
    )


class _Reducing:
    """What teleporter adds to a pickler: mixed into the C pickler (``Pickler``) and, for
    data nested deeper than the C pickler's recursion allows, into pickle's own Python
    one."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._singletons = _singleton_table()
        logging = sys.modules.get("logging")
        self._logger_type: type | None = logging.Logger if logging is not None else None
        self._handler_type: type | None = logging.Handler if logging is not None else None
        enum = sys.modules.get("enum")  # no enum class can exist unless enum was imported
        self._enum_type: type | None = enum.EnumType if enum is not None else None
        self._sqlalchemy = "sqlalchemy.orm" in sys.modules
        # Types whose instances all take pickle's own way (everything below depends on the
        # type only): one set lookup for each of the many plain objects of a program.
        self._plain: set[type] = set()
        self._by_type = _reducers.table()  # library types that need their own way
        self._by_base = _reducers.table(_reducers.BASES)  # ... and their subclasses
        self._plain_build: set[type] = set()  # classes with __getattr__ (see _reducers)
        self._lazy_classes: set[int] = set()  # sent with their data (_lazy_class_reduce)

    def reducer_override(self, obj: Any) -> Any:
        ref = self._singletons.get(id(obj))
        if ref is not None:
            return _singleton, ref
        t = type(obj)
        if t in self._plain:
            return NotImplemented
        if t in self._plain_build:
            return _reducers.plain_build_reduce(obj)
        special = self._by_type.get(t)
        if special is not None:
            return special(obj)
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
            else:
                owner = _class_of_namespace(state[0])
                if owner is not None:  # the namespace travels as its class
                    return _make_cell, (), owner, None, None, _namespace_cell_setstate
            return _make_cell, (), state, None, None, _cell_setstate
        if t is classmethod or t is staticmethod:
            return t, (obj.__func__,), obj.__dict__ or None
        if t is property:
            return property, (obj.fget, obj.fset, obj.fdel, obj.__doc__)
        if t is types.ModuleType:
            if obj.__name__ != "__main__" and policy.module_by_value(obj.__name__):
                return _module_reduce(obj)
            return _import, (obj.__name__,)
        if t in _FILE_TYPES:
            return _file_reduce(obj)
        if t is types.GeneratorType or t is types.CoroutineType or t is types.AsyncGeneratorType:
            return _generator_reduce(obj)
        if self._logger_type is not None and isinstance(obj, self._logger_type):
            return _logger_reduce(obj)
        if self._handler_type is not None and isinstance(obj, self._handler_type):
            return _handler_reduce(obj)
        if t is types.TracebackType:
            return _reducers.traceback_reduce(obj)
        if t is types.MappingProxyType:
            return _make_mappingproxy, (dict(obj),)
        if t is _weakref.ReferenceType:
            target = obj()
            if target is None:
                return _make_dead_weakref, ()
            return _make_weakref, (target, obj.__callback__)
        if t is memoryview:
            offset = _impl.view_offset(obj)
            if offset < 0:
                return memoryview, (obj.tobytes(),)  # a non-contiguous view: its data only
            return _make_memoryview, (
                obj.obj,
                offset,
                obj.nbytes,
                obj.format,
                obj.shape,
                obj.readonly,
            )
        if isinstance(obj, type):
            if not obj.__flags__ & _HEAPTYPE:
                return NotImplemented  # a static type (NoneType...): pickle names it
            if policy.defined_by_value(obj):
                alias = _module_alias(obj)
                if alias is not None:  # _thread.lock is _thread.LockType before 3.13
                    return _singleton, alias
                if self._enum_type is not None and isinstance(obj, self._enum_type):
                    return _enum_reduce(obj)
                reduced = _class_reduce(obj)
                if self._sqlalchemy:  # a declarative class is mapped again
                    return _reducers.declarative_reduce(obj, reduced) or reduced
                return reduced
            if id(obj) in self._lazy_classes:
                return NotImplemented  # met again inside its own data: by name
            reduced = _lazy_class_reduce(obj)
            if reduced is not NotImplemented:
                self._lazy_classes.add(id(obj))
            return reduced
        for base, reducer in self._by_base.items():
            if issubclass(t, base):
                self._by_type[t] = reducer
                return reducer(obj)
        if _reducers.needs_plain_build(t):
            self._plain_build.add(t)
            return _reducers.plain_build_reduce(obj)
        self._plain.add(t)
        return NotImplemented


class Pickler(_Reducing, _pickle.Pickler):
    pass


_python_pickler: type | None = None


def _deep_pickler() -> type:
    """The Python pickler with teleporter's reductions: its recursion is Python calls only,
    which the recursion limit bounds (the C pickler's is capped by the C stack)."""
    global _python_pickler
    if _python_pickler is None:
        import pickle

        _python_pickler = type("DeepPickler", (_Reducing, pickle._Pickler), {})
    return _python_pickler


# Recursion allowed while deeply nested data is pickled by the Python pickler (about
# three Python frames per level of nesting; they cost no C stack).
DEEP_RECURSION_LIMIT = 200_000


def deep_dump(pickler: Any, obj: Any) -> None:
    """``pickler.dump(obj)`` for a Python pickler, under DEEP_RECURSION_LIMIT."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, DEEP_RECURSION_LIMIT))
    try:
        pickler.dump(obj)
    finally:
        sys.setrecursionlimit(limit)


# bytes and bytearray objects at least this large leave the stream (persistent ids) and
# travel as raw sections, like protocol-5 buffers.
LIFT_THRESHOLD = 1 << 20


def dumps(obj: Any) -> tuple[memoryview, list[Any]]:
    """The pickle stream of obj, and the objects that travel beside it: its out-of-band
    buffers (views, not copies) then the large bytes/bytearray objects it refers to.

    The cyclic garbage collector is off meanwhile (as in loads()): the memo and the objects
    being made would have it run many times over a heap that does not shrink, a third of
    the time of a 10,000-task loop's capture. The program's own setting comes back after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        try:
            return _dumps(Pickler, obj, deep=False)
        except RecursionError:
            pass  # nested deeper than the C pickler goes
        return _dumps(_deep_pickler(), obj, deep=True)
    finally:
        if enabled:
            gc.enable()


def _dumps(cls: type, obj: Any, deep: bool) -> tuple[memoryview, list[Any]]:
    buf = io.BytesIO()
    buffers: list[Any] = []
    pickler = cls(buf, PROTOCOL, buffer_callback=buffers.append)
    sieve = _impl.BytesSieve(LIFT_THRESHOLD)
    pickler.persistent_id = sieve
    try:
        if deep:
            deep_dump(pickler, obj)
        else:
            pickler.dump(obj)
    except BaseException as e:
        # A refusal leaves the program as it was: nothing it owns stays referenced from
        # the failed pickler's memo through this exception's frames.
        pickler.clear_memo()
        del pickler, buffers, sieve, buf
        raise e.with_traceback(None) from None
    # A view of the stream's bytes, not of the BytesIO: a view exporting a BytesIO that
    # ends up in a reference cycle crashes CPython's collector, which may clear the
    # BytesIO first. getvalue() hands over the BytesIO's own bytes (no copy here).
    return memoryview(buf.getvalue()), buffers + sieve.found


class _Unpickler(_pickle.Unpickler):
    def __init__(self, data: Any, buffers: list[Any], lifted: list[Any]) -> None:
        super().__init__(io.BytesIO(data), buffers=buffers)
        self._lifted = lifted

    def persistent_load(self, pid: Any) -> Any:
        if type(pid) is not int or not 0 <= pid < len(self._lifted):
            raise _pickle.UnpicklingError(f"unknown persistent id {pid!r}")
        return self._lifted[pid]


def loads(
    data: bytes | bytearray | memoryview,
    buffers: list[Any] | None = None,
    lifted: list[Any] | None = None,
) -> Any:
    """Rebuilds what dumps() wrote; `lifted` holds the large bytes/bytearray objects."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _Unpickler(data, buffers or [], lifted or []).load()
    finally:
        if enabled:
            gc.enable()
