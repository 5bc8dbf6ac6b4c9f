"""How objects of the standard library and of common libraries travel, where pickle's own
way loses something a program relies on.

Each entry of ``TYPES`` names a type by module and qualified name with the function that
reduces its instances; the pickler looks the types up only for modules the program has
imported, so that none of these modules is imported by a move.
"""

from __future__ import annotations

import sys

from . import _teleporter_impl as _impl

TYPE_CHECKING = False  # typing itself costs start-up time
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


# ---- functools.lru_cache / functools.cache: the function, its cache and its statistics ------


class _KwdMark:
    """Stands for the marker that separates keyword arguments in lru_cache keys (one object
    per process: the destination's own replaces it)."""

    __slots__ = ()

    def __reduce__(self) -> str:
        return "KWD_MARK"


KWD_MARK = _KwdMark()


def _swap_mark(key: Any, old: object, new: object) -> Any:
    if type(key) is tuple and any(k is old for k in key):
        return tuple(new if k is old else k for k in key)
    return key


def _make_lru_cache(func: Any, maxsize: int | None, typed: bool) -> Any:
    import functools

    return functools.lru_cache(maxsize=maxsize, typed=typed)(func)


def _lru_cache_setstate(wrapper: Any, state: tuple[Any, ...]) -> None:
    attrs, entries, hits, misses = state
    wrapper.__dict__.update(attrs)
    mark = _impl.lru_cache_state(wrapper)[3]
    entries = [(_swap_mark(k, KWD_MARK, mark), v) for k, v in entries]
    _impl.lru_cache_fill(wrapper, entries, hits, misses)


def _lru_cache_reduce(wrapper: Any) -> Any:
    from . import policy

    func = wrapper.__wrapped__
    if not policy.defined_by_value(wrapper):
        return NotImplemented  # importable by name: the destination's own, by reference
    entries, hits, misses, mark = _impl.lru_cache_state(wrapper)
    entries = [(_swap_mark(k, mark, KWD_MARK), v) for k, v in entries]
    params = wrapper.cache_parameters()
    attrs = {k: v for k, v in wrapper.__dict__.items() if k != "__wrapped__"}
    return (
        _make_lru_cache,
        (func, params["maxsize"], params["typed"]),
        (attrs, entries, hits, misses),
        None,
        None,
        _lru_cache_setstate,
    )


# ---- struct.Struct: by its format --------------------------------------------------------


def _struct_reduce(s: Any) -> Any:
    return type(s), (s.format,)


# ---- numpy: views keep sharing memory with their base; memmaps reopen their file ----------


def _numpy() -> Any:
    import importlib

    return importlib.import_module("numpy")


def _make_view(
    base: Any,
    offset: int,
    shape: tuple[int, ...],
    strides: tuple[int, ...],
    dtype: Any,
    ro: bool,
    cls: type | None = None,
    attrs: dict[str, Any] | None = None,
) -> Any:
    numpy = _numpy()
    view = numpy.ndarray(shape, dtype, buffer=base, offset=offset, strides=strides)
    if cls is not None:  # a view of a subclass (a slice of a memmap is a memmap)
        view = view.view(cls)
        view.__dict__.update(attrs or {})
        if "_mmap" in getattr(base, "__dict__", {}):
            view._mmap = base._mmap
    if ro:
        view.flags.writeable = False
    return view


def _make_array(buf: Any, dtype: Any, shape: tuple[int, ...], order: str, ro: bool) -> Any:
    numpy = _numpy()
    arr = numpy.ndarray(shape, dtype, buffer=buf, order=order)
    if ro:
        arr.flags.writeable = False
    return arr


def pickle_buffer(arr: Any) -> Any:
    import pickle

    return pickle.PickleBuffer(arr)


def _make_memmap(
    path: str, dtype: Any, mode: str, offset: int, shape: tuple[int, ...], order: str
) -> Any:
    numpy = _numpy()
    # A file created at the origin ("w+") is continued, never truncated.
    reopen = "r+" if mode == "w+" else mode
    try:
        arr = numpy.memmap(path, dtype, reopen, offset, shape, order)
    except OSError as e:
        raise OSError(e.errno, f"cannot reopen the program's memmap {path!r} ({e.strerror})")
    arr.mode = mode
    return arr


def _memmap_set(arr: Any, data: Any) -> None:
    arr[...] = data  # a copy-on-write memmap: what the program changed in memory


def _array_reduce(arr: Any) -> Any:
    import mmap

    numpy = _numpy()
    root = arr
    while isinstance(root.base, numpy.ndarray):
        root = root.base
    if isinstance(root, numpy.memmap) and isinstance(root.base, mmap.mmap):
        if root is arr:
            if root.mode != "r":
                root.flush()
            args = (
                root.filename,
                root.dtype,
                root.mode,
                root.offset,
                root.shape,
                "F" if root.flags.f_contiguous and not root.flags.c_contiguous else "C",
            )
            if root.mode == "c":  # its changes live in memory only: they travel
                return _make_memmap, args, numpy.asarray(root).copy(), None, None, _memmap_set
            return _make_memmap, args
    elif root is arr:
        if arr.base is not None or arr.dtype.hasobject:
            return NotImplemented  # wraps another object's memory, or holds objects
        # Its memory travels out of band and the array is rebuilt straight on it, so that
        # views of it keep it as their `.base` (numpy's own way adds a reshaped view).
        order = "C" if arr.flags.c_contiguous else "F"
        return _make_array, (
            pickle_buffer(arr),
            arr.dtype,
            arr.shape,
            order,
            not arr.flags.writeable,
        )
    if arr.dtype.hasobject:
        return NotImplemented
    start = arr.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    subclass = type(arr) is not numpy.ndarray
    return _make_view, (
        root,
        start,
        arr.shape,
        arr.strides,
        arr.dtype,
        not arr.flags.writeable,
        type(arr) if subclass else None,
        {k: v for k, v in arr.__dict__.items() if k != "_mmap"} if subclass else None,
    )


def _make_flatiter(base: Any, index: int) -> Any:
    from collections import deque
    from itertools import islice

    it = base.flat
    deque(islice(it, index), maxlen=0)  # advanced as the program's was
    return it


def _flatiter_reduce(it: Any) -> Any:
    return _make_flatiter, (it.base, it.index)


# ---- weakref.KeyedRef (the entries of every WeakValueDictionary) -------------------------------


def _make_keyed_ref(target: Any, callback: Any, key: Any) -> Any:
    import weakref

    if target is None:
        class Gone:
            pass

        return weakref.KeyedRef(Gone(), None, key)  # type: ignore[arg-type]  # dead at once
    return weakref.KeyedRef(target, callback, key)


def _keyed_ref_reduce(r: Any) -> Any:
    return _make_keyed_ref, (r(), r.__callback__, r.key)


# ---- the table -------------------------------------------------------------------------------

# (module, qualified name of the type, reducer): looked up only for imported modules.
TYPES: list[tuple[str, str, Callable[[Any], Any]]] = [
    ("functools", "_lru_cache_wrapper", _lru_cache_reduce),
    ("_struct", "Struct", _struct_reduce),
    ("weakref", "KeyedRef", _keyed_ref_reduce),
    ("numpy", "ndarray", _array_reduce),
    ("numpy", "memmap", _array_reduce),
    ("numpy", "flatiter", _flatiter_reduce),
]


def table() -> dict[type, Callable[[Any], Any]]:
    """The reducers of the types whose modules are imported now."""
    found: dict[type, Callable[[Any], Any]] = {}
    for module, qualname, reducer in TYPES:
        obj: Any = sys.modules.get(module)
        for part in qualname.split("."):
            obj = getattr(obj, part, None)
        if isinstance(obj, type):
            found[obj] = reducer
    return found


# ---- objects whose class has __getattr__ ------------------------------------------------------


def _set_state(obj: Any, state: Any) -> None:
    """pickle's default BUILD without looking ``__setstate__`` up on the instance: a class
    with ``__getattr__`` (a proxy, tqdm's stream wrapper) would answer that lookup from its
    own not-yet-restored state, and recurse."""
    slots = None
    if isinstance(state, tuple) and len(state) == 2:
        state, slots = state
    if state:
        object.__getattribute__(obj, "__dict__").update(state)
    if slots:
        for name, value in slots.items():
            object.__setattr__(obj, name, value)


def needs_plain_build(t: type) -> bool:
    """True for a class whose instances must be rebuilt by ``_set_state``."""
    return hasattr(t, "__getattr__") and not hasattr(t, "__setstate__")


def plain_build_reduce(obj: Any) -> Any:
    rv = obj.__reduce_ex__(5)
    if not isinstance(rv, tuple) or len(rv) < 3 or rv[2] is None:
        return rv
    if len(rv) >= 6 and rv[5] is not None:
        return rv
    rv = rv + (None,) * (5 - len(rv))
    return (*rv[:5], _set_state)
