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


# numpy 2 keeps seterr/errstate/setbufsize in a context variable holding a capsule: it
# travels (in a thread's context, a Context, an errstate's token) as what it says.
_EXTOBJ = '<capsule object "numpy.ufunc.extobj" '


def _extobj_var() -> Any:
    return sys.modules["numpy._core._multiarray_umath"]._extobj_contextvar


def _extobj_reduce(capsule: Any) -> Any:
    if not repr(capsule).startswith(_EXTOBJ):
        return NotImplemented  # another library's capsule: refused as pickle refuses it
    import contextvars

    np = _numpy()

    def read() -> tuple[Any, ...]:
        _extobj_var().set(capsule)
        return np.geterr(), np.geterrcall(), np.getbufsize()

    return _make_extobj, contextvars.Context().run(read)


def _make_extobj(err: dict[str, str], call: Any, bufsize: int) -> Any:
    import contextvars

    np = _numpy()

    def make() -> Any:
        np.seterr(**err)
        np.seterrcall(call)
        np.setbufsize(bufsize)
        return _extobj_var().get()

    return contextvars.Context().run(make)


def _numpy_capsule_type(umath: Any) -> dict[str, type]:
    var = getattr(umath, "_extobj_contextvar", None)
    return {} if var is None else {"capsule": type(var.get())}


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
        try:
            buf = pickle_buffer(arr)
        except (ValueError, TypeError):  # no buffer format for its dtype (datetime64...)
            buf = pickle_buffer(arr.ravel(order="K").view(numpy.uint8))
        return _make_array, (
            buf,
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


# ---- threading primitives: locks travel with their state ------------------------------------
# A lock held at the origin is held at the destination by the same thread (moved with it).


def _make_lock(locked: bool) -> Any:
    import _thread

    lock = _thread.allocate_lock()
    if locked:
        lock.acquire()
    return lock


def _lock_reduce(lock: Any) -> Any:
    return _make_lock, (lock.locked(),)


def _make_rlock(count: int) -> Any:
    import _thread

    lock = _thread.RLock()
    for _ in range(count):
        lock.acquire()
    return lock


def _rlock_reduce(lock: Any) -> Any:
    from . import _threads

    # Held by the thread whose stack the destination's main thread continues (the one
    # that called the move, when it is the main thread): taken there as it is rebuilt.
    if lock._is_owned() and not _threads.caller_moves():
        count, owner = lock._release_save()  # how many times this thread holds it
        lock._acquire_restore((count, owner))
        return _make_rlock, (count,)
    held = repr(lock)  # "<locked _thread.RLock object owner=<ident> count=<n> at ...>"
    if not held.startswith("<locked"):
        return _make_rlock, (0,)
    fields = dict(f.split("=", 1) for f in held.split() if "=" in f)
    owner, count = int(fields["owner"]), int(fields["count"])
    if not _threads.ident_moves(owner):
        raise TypeError("an RLock held by a thread that does not move cannot move")
    return _threads.make_rlock, (count, owner)


def _make_blank(cls: Any) -> Any:
    """An instance made without its __init__, filled by its reducer's state setter."""
    return cls.__new__(cls)


def _local_setstate(obj: Any, state: Any) -> None:
    from . import _threads

    own, others = state
    obj.__dict__.update(own)
    _threads.set_local_values(obj, others)


def _make_local(cls: Any, args: tuple[Any, ...], kw: dict[str, Any] | None) -> Any:
    return cls.__new__(cls, *args, **(kw or {}))


def _local_arguments(obj: Any) -> tuple[tuple[Any, ...], dict[str, Any] | None]:
    """The arguments a threading.local subclass's instance was made with: its __init__
    runs with them in every thread that first uses it (rich's console locals are a
    dataclass). Only the object holds them; gc's referents list them after its type: the
    tuple, then the keywords when there were some (a dict of names), in 3.11-3.15."""
    if type(obj).__init__ is object.__init__:
        return (), None
    import gc

    refs = gc.get_referents(obj)
    if len(refs) < 2 or refs[0] is not type(obj) or type(refs[1]) is not tuple:
        raise TypeError("cannot read the arguments this threading.local was made with")
    kw = refs[2] if len(refs) > 2 and type(refs[2]) is dict else None
    if kw is not None and not all(type(k) is str for k in kw):
        kw = None  # its threads' table: there were no keywords
    return refs[1], kw


def _local_reduce(obj: Any) -> Any:
    """threading.local: the values of every thread that moves, each set again by that
    thread at the destination (the values of threads that stay behind stay with them),
    and the arguments its __init__ takes in each thread that first uses it."""
    from . import _threads

    own, others = _threads.local_values(obj)
    args, kw = _local_arguments(obj)
    return _make_local, (type(obj), args, kw), (dict(own), others), None, None, _local_setstate


def _make_simple_queue(items: list[Any]) -> Any:
    import queue

    q: Any = queue.SimpleQueue()
    for item in items:
        q.put(item)
    return q


def _simple_queue_reduce(q: Any) -> Any:
    items = []
    while True:  # its items can only be read by taking them: taken, then put back
        try:
            items.append(q.get_nowait())
        except Exception:
            break
    for item in items:
        q.put(item)
    return _make_simple_queue, (items,)


def _make_thread_handle(done: bool) -> Any:
    """3.13+: the handle of a thread that never started, or of one that has ended (a
    trivial thread is run to its end for it)."""
    import _thread

    thread: Any = _thread  # these names are 3.13's
    if not done:
        return thread._ThreadHandle()
    handle = thread.start_joinable_thread(lambda: None)
    handle.join()
    return handle


def _thread_handle_reduce(handle: Any) -> Any:
    from . import _threads

    if _threads.handle_moves(handle):  # started afresh at the destination
        return _make_thread_handle, (False,)
    if handle.ident and not handle.is_done():
        raise TypeError("the handle of a running thread that does not move cannot move")
    return _make_thread_handle, (bool(handle.ident),)


# ---- csv writers: their file travels ---------------------------------------------------------

# The parameters of a csv dialect (also what _process_state carries of registered ones).
CSV_DIALECT_FIELDS = (
    "delimiter",
    "quotechar",
    "escapechar",
    "doublequote",
    "skipinitialspace",
    "lineterminator",
    "quoting",
    "strict",
)


def _make_csv_writer(write: Any, params: dict[str, Any]) -> Any:
    import csv

    class _Sink:  # csv.writer wants an object with a write method: the program's own
        __slots__ = ("write",)

    sink: Any = _Sink()
    sink.write = write
    return csv.writer(sink, **params)


def _csv_writer_reduce(w: Any) -> Any:
    import gc

    writes = [r for r in gc.get_referents(w) if callable(r) and getattr(r, "__self__", None)]
    writes = [r for r in writes if getattr(r, "__name__", None) == "write"]
    if len(writes) != 1:
        raise TypeError("cannot find the file this csv writer writes to")
    params = {k: getattr(w.dialect, k) for k in CSV_DIALECT_FIELDS}
    return _make_csv_writer, (writes[0], params)


# ---- sqlite3: connections reopen their database --------------------------------------------


def _make_sqlite(path: str, content: bytes | None, attrs: dict[str, Any]) -> Any:
    import sqlite3

    conn = sqlite3.connect(path if content is None else ":memory:")
    if content:
        conn.deserialize(content)
    for name, value in attrs.items():
        setattr(conn, name, value)
    return conn


def _sqlite_reduce(conn: Any) -> Any:
    if conn.in_transaction:
        raise TypeError(
            "an sqlite3 connection inside an open transaction cannot move (commit or roll "
            "back before the move)"
        )
    rows = conn.execute("PRAGMA database_list").fetchall()
    main = [r for r in rows if r[1] == "main"]
    attached = [r[1] for r in rows if r[1] not in ("main", "temp")]
    if attached or not main:
        raise TypeError(
            f"an sqlite3 connection with attached databases ({', '.join(attached)}) cannot move"
        )
    path = main[0][2]
    content = None
    if not path:  # in memory: its content travels (an empty database has no pages)
        empty = conn.execute("PRAGMA page_count").fetchone()[0] == 0
        content = b"" if empty else conn.serialize()
    attrs = {
        "isolation_level": conn.isolation_level,
        "row_factory": conn.row_factory,
        "text_factory": conn.text_factory,
    }
    return _make_sqlite, (path, content, attrs)


# ---- itertools objects that pickle no longer handles (3.12+) ---------------------------------


def _make_pairwise(rest: Any, pending: tuple[Any, ...]) -> Any:
    import itertools

    return itertools.pairwise(itertools.chain(pending, rest) if pending else rest)


def _pairwise_reduce(p: Any) -> Any:
    """pairwise holds its source iterator and the last item it read: what it sees first
    after the move is that item, then the rest of the source."""
    import gc

    # Visited in this order: the source (gone once exhausted), the item read last (none
    # before the first step), and from 3.13 on the result tuple it reuses (always there).
    held = [r for r in gc.get_referents(p) if r is not type(p)]
    if not held or not hasattr(type(held[0]), "__next__"):  # exhausted
        return _make_pairwise, (iter(()), ())
    if sys.version_info >= (3, 13):
        held = held[:-1]
    return _make_pairwise, (held[0], tuple(held[1:2]))


def _count_reduce(c: Any) -> Any:
    """count (3.14 dropped its pickling): its next value and its step. Counting by 1 from
    an int that fits a C integer, it keeps the value in C, shown only by its repr."""
    import gc
    import itertools

    # [value, step] when the value is an object, else [step] (and the type, a heap type)
    held = [r for r in gc.get_referents(c) if r is not type(c)]
    if len(held) >= 2:
        return itertools.count, (held[0], held[1])
    text = repr(c)  # "count(N)"
    return itertools.count, (int(text[text.index("(") + 1 : text.rindex(")")]),)


def _make_tee(data: Any, index: int) -> Any:
    import itertools

    tee: Any = itertools.tee((), 1)[0]
    _impl.tee_set(tee, data, index)
    return tee


def _tee_reduce(tee: Any) -> Any:
    """A tee (3.14 dropped its pickling): the buffer link it reads, shared with its copies
    (so that they stay one buffer), and where it stands in it."""
    return _make_tee, _impl.tee_state(tee)


def _tee_data_reduce(data: Any) -> Any:
    return type(data), _impl.tee_data_state(data)  # (source, values read, next link)


def _make_iter(kind: type, args: tuple[Any, ...], state: tuple[Any, ...]) -> Any:
    return _impl.iter_make(kind, args, state)


def _iter_reduce(it: Any) -> Any:
    """One of itertools' other iterators (3.14 dropped their pickling): the arguments that
    make a fresh one of its type, and what that leaves to set (where it stands, what it
    holds), read from its C fields."""
    return _make_iter, (type(it), *_impl.iter_state(it))


# The iterators _iter_reduce reads from 3.14 on (csrc/stdlib/itertools_iters.cpp); accumulate
# and batched on every version (below).
_ITERTOOLS = (
    "chain combinations combinations_with_replacement compress cycle "
    "dropwhile filterfalse groupby _grouper islice permutations product repeat starmap "
    "takewhile zip_longest"
).split()


# ---- Pillow: images travel with their pixels; an ImageDraw keeps drawing into its image -------

MAPPED_IMAGE = (
    "a Pillow image mapped onto another object's memory (Image.frombuffer) cannot be moved"
)


def _pillow(module: str) -> Any:
    import importlib

    return importlib.import_module(f"PIL.{module}")


def _pillow_types(imaging: Any) -> dict[str, type]:
    """Pillow's C types, which its module does not name: the types of objects it makes."""
    core = imaging.new("L", (1, 1))
    return {
        "ImagingCore": type(core),
        "ImagingDraw": type(imaging.draw(core, 0)),
        "PixelAccess": type(core.pixel_access(False)),
    }


# Modules whose types are found from objects they make, not by name (see table()).
UNNAMED: dict[str, Callable[[Any], dict[str, type]]] = {
    "PIL._imaging": _pillow_types,
    "numpy._core._multiarray_umath": _numpy_capsule_type,
}


_SAME_BYTE = list(range(256))  # a lookup table that changes no byte


def _make_core(
    mode: str, size: tuple[int, int], data: bytes, palette: tuple[str, bytes] | None
) -> Any:
    Image = _pillow("Image")

    if mode == "1":  # one byte per pixel, as it is held (see _core_parts)
        return Image.frombytes("L", size, data).im.point(_SAME_BYTE, "1")
    core = Image.frombytes(mode, size, data).im  # one copy, into a core of its own
    if palette is not None:
        core.putpalette(palette[0], palette[0], palette[1])
    return core


def _core_parts(core: Any) -> tuple[str, tuple[int, int], bytes, tuple[str, bytes] | None]:
    """What a core is made again from: its mode, size, raw pixels and palette (a "P" or
    "PA" image's colours live in the core)."""
    Image = _pillow("Image")

    try:
        pmode = core.getpalettemode()
    except ValueError:  # no palette
        palette = None
    else:
        palette = (pmode, core.getpalette(pmode, pmode))
    mode = core.mode
    if mode == "1":
        # Packed to bits, a pixel set to 1 (ImageDraw's fill=1) would come back as 255:
        # its bytes travel as they are, through an "L" core.
        core = core.point(_SAME_BYTE, "L")
    return mode, core.size, Image.Image()._new(core).tobytes(), palette


def _core_reduce(core: Any) -> Any:
    """An image core (``img.im``, also held by an ImageDraw) travels as an object of its
    own, so that everything holding it holds one core after the move. A core on memory it
    does not own is refused: a copy would stop seeing what is written there."""
    if core.readonly:
        raise TypeError(MAPPED_IMAGE)
    return _make_core, _core_parts(core)


def _image_setstate(img: Any, state: tuple[Any, ...]) -> None:
    info, mode, size, extra, pixels, palette, exif = state
    # Pillow's own __setstate__ (subclasses' included) on an empty image, then its pixels:
    # the core that travelled (shared with whatever else holds it), or a fresh one.
    img.__setstate__([info, mode, (0, 0), None, b"", *extra])
    img._size = size
    img.im = _make_core(*pixels) if type(pixels) is tuple else pixels
    img.palette = palette
    if exif is not None:
        img._exif = exif


def _image_reduce(img: Any) -> Any:
    """PIL.Image.Image and its subclasses, as Pillow pickles them (its info, mode, size,
    a file image's name; its file is left behind) but with the pixels in its core, which
    travels as an object of its own (an ImageDraw holds it too). Its palette object (an
    ImageDraw of a "P" image holds it too) and the Exif the program read from it and may
    have changed (``getexif()``) keep their identity."""
    Image = _pillow("Image")
    DeferredError = _pillow("_util").DeferredError

    if isinstance(img._im, DeferredError) or (img._im is None and getattr(img, "fp", None) is None):
        # Closed (``img.close()``), or a file image closed before it read its pixels
        # (``with Image.open(p) as img: print(img.size)``): what is left of it (mode,
        # size, info, the error its pixel operations raise) travels as it is.
        return _make_blank, (type(img),), dict(img.__dict__), None, None, _set_state
    img.load()  # a file image reads its pixels now, as Pillow's pickling does
    reading = getattr(img, "_fp", None) or getattr(img, "fp", None)  # the file it reads
    if (
        reading is not None
        and not isinstance(reading, DeferredError)
        and getattr(img, "is_animated", False)
    ):
        # Its frame position and the file it reads the next frames from would be left
        # behind (Pillow's pickling drops them): seek()/tell() would fail after the move.
        raise TypeError(
            "a multi-frame Pillow image still reading its file (a GIF, TIFF, ... at frame "
            f"{img.tell()}) cannot be moved: copy the frames it needs (img.copy()) first"
        )
    core = img.im
    mapped = getattr(img, "map", None) is not None and core.readonly
    if img.readonly and not mapped:
        raise TypeError(MAPPED_IMAGE)
    extra: list[Any] = []
    if type(img).__getstate__ is not Image.Image.__getstate__:  # a file image's own state
        extra = img.__getstate__()[5:]
    # A core Pillow mapped read-only onto the image's file never changes: its pixels travel.
    pixels = _core_parts(core) if mapped else core
    return (
        _make_blank,
        (type(img),),
        (img.info, img.mode, img.size, extra, pixels, img.palette, img._exif),
        None,
        None,
        _image_setstate,
    )


def _image_draw_setstate(draw: Any, state: tuple[dict[str, Any], int | None]) -> None:
    Image = _pillow("Image")

    attrs, blend = state
    draw.__dict__.update(attrs)
    if blend is not None:
        draw.draw = Image.core.draw(draw.im, blend)


def _image_draw_reduce(draw: Any) -> Any:
    """ImageDraw.Draw(): its C drawing object is made again on its image's core (which
    travels once, with the image), blending when it draws RGBA on an RGB image as
    ImageDraw set it up; the rest of it is plain attributes."""
    attrs = dict(draw.__dict__)
    blend = None
    if "draw" in attrs and "im" in attrs:
        del attrs["draw"]
        blend = int(draw.mode != draw.im.mode)
    return _make_blank, (type(draw),), (attrs, blend), None, None, _image_draw_setstate


def _make_font(cls: Any, data: bytes, state: list[Any]) -> Any:
    import io

    path = state[0]
    font = cls.__new__(cls)
    font.__setstate__([io.BytesIO(data), *state[1:]])
    font.path = path
    return font


def _font_reduce(font: Any) -> Any:
    """A FreeType font read from a file object (``ImageFont.load_default()``, which
    ``ImageDraw.text`` sets on the draw): Pillow pickles it by that object, already read to
    its end, and cannot load it again from there; its font data travels instead."""
    state = font.__getstate__()
    path = state[0]
    if isinstance(path, (str, bytes)) or hasattr(path, "__fspath__"):
        return NotImplemented  # loaded again from its file, as Pillow does
    return _make_font, (type(font), font.font_bytes, state)


def _pixel_access_reduce(px: Any) -> Any:
    raise TypeError(
        "a Pillow PixelAccess (img.load()) cannot be moved: nothing in it says which image "
        "it reads (let it go before the move and call load() again after)"
    )


# ---- SQLAlchemy declarative classes: mapped again at the destination ----------------------
# A declarative class is mapped when it is made, from its class body, and mapping fills
# its __dict__ with what the mapper made (instrumented attributes, __mapper__, a wrapped
# __init__). It travels as an unmapped class (made `__abstract__`, which declarative skips)
# with the program's own attributes, its Table (the one its MetaData holds) as __table__
# and its mapper's properties declared again; then the registry maps it as at the origin.

_SA_MADE = frozenset({"__dict__", "__weakref__", "_sa_registry", "_sa_class_manager"})


def _declarative_refusal(cls: type, why: str) -> TypeError:
    name = cls.__qualname__
    return TypeError(f"the SQLAlchemy declarative class {name!r} cannot be moved: {why}")


def _library_made(fn: Any) -> bool:
    """True for a listener SQLAlchemy itself set up (mapping sets up many), with what its
    wrapper calls."""
    cells = [c.cell_contents for c in getattr(fn, "__closure__", None) or ()]
    modules = [str(getattr(f, "__module__", "")) for f in (fn, *cells) if callable(f)]
    return all(m.startswith("sqlalchemy.") for m in modules)


def _check_listeners(cls: type, targets: list[Any]) -> None:
    """Event listeners the program set on the class, its mapper or attributes are not made
    again at the destination: such a class is refused rather than moved without them."""
    registry: Any = sys.modules.get("sqlalchemy.event.registry")
    ids = {id(t) for t in targets}
    for (target, event, _), listeners in list(registry._key_to_collection.items()):
        if target in ids and not all(_library_made(ref()) for ref in listeners.values()):
            raise _declarative_refusal(cls, f"the program listens to its {event!r} events")


def _make_registry(metadata: Any, type_annotation_map: Any, constructor: Any) -> Any:
    import importlib

    return importlib.import_module("sqlalchemy.orm").registry(
        metadata=metadata, type_annotation_map=type_annotation_map, constructor=constructor
    )


def _registry_reduce(reg: Any) -> Any:
    """A registry is made afresh around the program's MetaData: the classes it knows
    register again as the destination maps them."""
    return _make_registry, (reg.metadata, dict(reg.type_annotation_map), reg.constructor)


def _attribute_of(owner: Any, name: str) -> Any:
    return getattr(owner, name)


def _mapper_reduce(mapper: Any) -> Any:
    """A mapper (``inspect(Item)``, held by statements) is its class's, mapped again."""
    return _attribute_of, (mapper.class_, "__mapper__")


def _class_manager_reduce(manager: Any) -> Any:
    return _attribute_of, (manager.class_, "_sa_class_manager")


def _relationship_args(prop: Any) -> tuple[Any, dict[str, Any]]:
    """What ``relationship()`` was given, as the property keeps it (`argument` from the
    ``Mapped[...]`` annotation included); what configuration derived is left out."""
    given = {a.name: a.argument for a in prop._init_args}
    if prop.backref is not None:
        given["back_populates"] = None  # set from the backref when it was configured
    names = (
        "uselist collection_class backref post_update viewonly lazy passive_deletes "
        "passive_updates active_history enable_typechecks join_depth comparator_factory "
        "single_parent innerjoin distinct_target_key load_on_pending query_class omit_join "
        "sync_backref doc _legacy_inactive_history_style"
    ).split()
    kw = {name: getattr(prop, name) for name in names}
    kw.update(given)
    kw["cascade"] = list(prop.cascade)
    kw["overlaps"] = ",".join(sorted(prop._overlaps)) or None
    kw["info"] = dict(prop.info) or None
    kw["attribute_options"] = prop._attribute_options
    return prop.argument, kw


def _backref_made(prop: Any) -> bool:
    """True for the relationship that another one's ``backref=`` made: it is made again."""
    other = prop.mapper._props.get(prop.back_populates) if prop.back_populates else None
    backref = getattr(other, "backref", None)
    return backref is not None and (backref if isinstance(backref, str) else backref[0]) == (
        prop.key
    )


def _declared_properties(cls: type, orm: Any) -> dict[str, Any]:
    """What the class body must declare besides its Table for the mapper to be made the
    same: relationships, and columns mapped under another name or with options."""
    sa: Any = sys.modules["sqlalchemy"]
    mapper: Any = cls.__dict__["__mapper__"]
    table = mapper.local_table
    if mapper.inherits is not None:
        raise _declarative_refusal(cls, "it inherits from another mapped class")
    if not isinstance(table, sa.Table) or cls.__dict__.get("__table__") is not table:
        raise _declarative_refusal(cls, "it is not mapped to a Table of its own")
    declared: dict[str, Any] = {}
    for key, prop in mapper._props.items():
        if isinstance(prop, orm.RelationshipProperty):
            if not _backref_made(prop):
                args, kw = _relationship_args(prop)
                declared[key] = (type(prop), (args,), kw)
            continue
        columns: Any = getattr(prop, "columns", ())
        if type(prop) is not orm.ColumnProperty or not all(
            isinstance(c, sa.Column) and c.table is table for c in columns
        ):
            raise _declarative_refusal(cls, f"its attribute {key!r} is a {type(prop).__name__}")
        options = {
            "group": prop.group,
            "deferred": prop.deferred,
            "raiseload": prop.raiseload,
            "comparator_factory": prop.comparator_factory,
            "active_history": prop.active_history,
            "expire_on_flush": prop.expire_on_flush,
            "info": dict(prop.info) or None,
            "doc": prop.doc,
        }
        plain = {**_PLAIN_COLUMN, "comparator_factory": type(prop).Comparator}
        plain["doc"] = columns[0].doc
        if len(columns) == 1 and key == columns[0].key and options == plain:
            continue  # the mapper maps it so by itself
        declared[key] = (type(prop), tuple(columns), options)
    return declared


# A column property's options when the mapper makes it from a column of the table.
_PLAIN_COLUMN = {
    "group": None,
    "deferred": False,
    "raiseload": False,
    "active_history": False,
    "expire_on_flush": True,
    "info": None,
}


def _declarative_setstate(cls: Any, state: tuple[dict[str, Any], Any, dict[str, Any]]) -> None:
    from . import _pickling

    attrs, table, declared = state
    later = {k: attrs.pop(k) for k in ("__annotations__",) if k in attrs}
    abstract = attrs.pop("__abstract__", None)
    _pickling._class_setstate(cls, attrs)
    if table is None:  # not mapped: an abstract base, a mixin of the declarative base
        type.__setattr__(cls, "__abstract__", abstract)
    else:
        type.__setattr__(cls, "__table__", table)
        for key, (kind, args, kw) in declared.items():
            type.__setattr__(cls, key, kind(*args, **kw))
        type.__delattr__(cls, "__abstract__")
        cls._sa_registry.map_declaratively(cls)
    for key, value in later.items():
        type.__setattr__(cls, key, value)


def declarative_reduce(cls: type, reduced: Any) -> Any:
    """`reduced` (pickling's way for a class) adapted to a class of a declarative base, or
    None for any other class."""
    orm: Any = sys.modules.get("sqlalchemy.orm")
    if orm is None:
        return None
    d = cls.__dict__
    reg = getattr(cls, "_sa_registry", None)
    if not isinstance(reg, orm.registry):
        if "_sa_class_manager" in d:
            raise _declarative_refusal(cls, "it is not mapped by a declarative base")
        return None
    make, (meta, name, bases, ns), attrs, _, _, _ = reduced
    for key in _SA_MADE:
        attrs.pop(key, None)
    targets: list[Any] = [cls]
    if "__mapper__" in d:
        manager: Any = d["_sa_class_manager"]
        targets += [d["__mapper__"], manager, *manager.values()]
        targets += [a.impl for a in manager.values()]
    _check_listeners(cls, targets)
    if "registry" in d and "__mapper__" not in d:  # the declarative base itself
        ns["registry"] = attrs.pop("registry")
        if "metadata" in attrs:
            ns["metadata"] = attrs.pop("metadata")
        if "__abstract__" in attrs:  # declarative_base()'s, read as it is made
            ns["__abstract__"] = attrs.pop("__abstract__")
        return make, (meta, name, bases, ns), attrs, None, None, _pickling_setstate()
    if "__dataclass_fields__" in d:
        raise _declarative_refusal(cls, "it is mapped as a dataclass")
    ns["__abstract__"] = True
    if "__mapper__" not in d:
        if not d.get("__abstract__"):
            raise _declarative_refusal(cls, "it is not mapped")
        return make, (meta, name, bases, ns), (attrs, None, {}), None, None, _declarative_setstate
    declared = _declared_properties(cls, orm)
    made = set(manager.local_attrs) | {"__mapper__", "__table__"}
    absent = sys.modules[orm.__name__ + ".instrumentation"].DEL_ATTR  # it had none
    for key, original in manager.originals.items():  # what instrumentation replaced
        if key in attrs and original is not absent:
            attrs[key] = original
        else:
            made.add(key)
    attrs = {k: v for k, v in attrs.items() if k not in made}
    state = (attrs, d["__table__"], declared)
    return make, (meta, name, bases, ns), state, None, None, _declarative_setstate


def _sa_symbol(name: str) -> Any:
    import importlib

    return importlib.import_module("sqlalchemy.util.langhelpers").symbol(name)


def _symbol_reduce(sym: Any) -> Any:
    """SQLAlchemy's constant symbols (in compiled statements an engine caches) are the
    destination's own, by name: their pickled form carries their int value, the hash of
    their name, which differs between processes and makes unpickling fail."""
    return _sa_symbol, (sym.name,)


def _pickling_setstate() -> Any:
    from . import _pickling

    return _pickling._class_setstate


# ---- what cannot move, named by what the program made -------------------------------------


def _popen_reduce(p: Any) -> Any:
    if p.returncode is None and p.poll() is None:
        args = p.args if isinstance(p.args, str) else " ".join(map(str, p.args))
        args = " ".join(args.split())  # one line, however its command was written
        if len(args) > 80:
            args = args[:77] + "..."
        raise TypeError(f"a running child process (pid {p.pid}: {args}) cannot move")
    return NotImplemented  # it has ended: what is left of it is plain data


class EndedChild:
    """What is left of a multiprocessing child that ended before the move (its ``_popen``
    at the destination): its pid and exit code. Its pipe's descriptors stay behind."""

    def __init__(self, pid: int, returncode: int) -> None:
        self.pid, self.returncode = pid, returncode

    def poll(self, flag: int = 0) -> int:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        return self.returncode

    def terminate(self) -> None:
        pass

    kill = terminate

    def close(self) -> None:
        pass


def _make_mp_process(cls: Any, state: dict[str, Any]) -> Any:
    import os

    p = cls.__new__(cls)
    p.__dict__.update(state)
    p._parent_pid = os.getpid()  # this process made it, as far as the program can tell
    return p


def _mp_process_reduce(p: Any) -> Any:
    """A multiprocessing ``Process`` not started yet, or ended: its attributes, its parent
    this process. A running one is refused by _process_state.refuse_child_processes."""
    state = dict(p.__dict__)
    popen = state.get("_popen")
    if popen is not None:
        code = popen.poll()
        if code is None:
            raise TypeError(f"a running child process (pid {p.pid}: {p.name}) cannot move")
        state["_popen"] = EndedChild(p.pid, code)
        state.pop("_sentinel", None)  # a descriptor of this process's
    return _make_mp_process, (type(p), state)


def _authkey_reduce(key: Any) -> Any:
    return type(key), (bytes(key),)


def _main_thread(name: str) -> Any:
    import threading

    t = threading.main_thread()
    t.name = name
    return t


def _thread_reduce(t: Any) -> Any:
    import threading

    from . import _threads

    if t is threading.main_thread():  # the destination's own, under the program's name
        return _main_thread, (t.name,)
    chain = _threads.chain_of(t)
    if chain is not None:  # it moves: with its stack, started again at the destination
        return _threads.reduce_thread(t, chain)
    if t.is_alive():
        raise TypeError(f"the running thread {t.name!r} cannot move")
    return NotImplemented  # not started, or ended: its attributes are plain data


def _found_match(pattern: Any, string: Any, pos: int, endpos: int, regs: Any) -> Any:
    """The match of `pattern` in string[pos:endpos] whose groups span `regs`: the first
    one (a search, a match) or a later one (finditer's, sub's scans), found again by
    scanning from `pos`, so that every attribute (pos and endpos included) is the
    original's. None when no scan finds it (a match made with another pos)."""
    for m in pattern.finditer(string, pos, endpos):
        if m.regs == regs:
            return m
        if m.start() > regs[0][0]:
            break
    return None


def _make_match(pattern: Any, string: Any, pos: int, endpos: int, regs: Any) -> Any:
    m = _found_match(pattern, string, pos, endpos, regs)
    if m is None:
        raise ValueError("the regular expression match cannot be found again")
    return m


def _match_reduce(m: Any) -> Any:
    """re.Match: found again at the destination from its pattern, its string and where
    the scan that made it started (checked here: a match that cannot be is refused)."""
    args = (m.re, m.string, m.pos, m.endpos, m.regs)
    if _found_match(*args) is None:
        raise TypeError("a regular expression match that cannot be found again cannot move")
    return _make_match, args


def _codec_stream_reduce(obj: Any) -> Any:
    """codecs.getwriter()/getreader() wrappers (Pygments writes through one): their stream,
    errors mode and codec state are plain attributes (the codecs module refuses to pickle
    them only because their __getattr__ forwards to the stream)."""
    return _make_blank, (type(obj),), dict(obj.__dict__), None, None, _set_state


# ---- exceptions --------------------------------------------------------------------------------

# What pickle's reduce of an exception leaves out (BaseException.__reduce__ keeps its type,
# args and __dict__): set at the destination after the rest of its state.
_UNCHAINED = (None, None, False, None)


def _traceback_parts(tb: Any) -> list[tuple[Any, Any, int, int]] | None:
    """A traceback as (code, module or globals, lasti, lineno) per level, outermost first.
    A frame's globals travel as their module when they are one (by name, as modules do)."""
    if tb is None:
        return None
    parts = []
    while tb is not None:
        frame = tb.tb_frame
        g = frame.f_globals
        mod = sys.modules.get(g.get("__name__", ""))
        where: Any = mod if mod is not None and getattr(mod, "__dict__", None) is g else None
        if where is None:
            where = {"__name__": g.get("__name__"), "__file__": g.get("__file__")}
        parts.append((frame.f_code, where, tb.tb_lasti, tb.tb_lineno))
        tb = tb.tb_next
    return parts


def _make_traceback(parts: list[tuple[Any, Any, int, int]] | None) -> Any:
    """The traceback of those levels. Its frames stand in for the origin's: the same code,
    globals and line, never run here (a frame of the past has no state to rebuild)."""
    import types

    tb = None
    for code, where, lasti, lineno in reversed(parts or ()):
        g = where if isinstance(where, dict) else where.__dict__
        tb = types.TracebackType(tb, _impl.stand_in_frame(code, g), lasti, lineno)
    return tb


def _exception_setstate(exc: Any, packed: tuple[Any, Any, tuple[Any, ...]]) -> None:
    state, setter, (cause, context, suppress, tb) = packed
    if setter is not None:
        setter(exc, state)
    elif state is not None:
        exc.__setstate__(state)
    exc.__cause__ = cause
    exc.__context__ = context
    exc.__suppress_context__ = suppress
    exc.__traceback__ = tb


def _exception_reduce(exc: BaseException) -> Any:
    """An exception with what pickle leaves out: its cause, context and traceback."""
    rv = exc.__reduce_ex__(5)
    chained = (exc.__cause__, exc.__context__, exc.__suppress_context__, exc.__traceback__)
    if isinstance(rv, str) or all(a is b for a, b in zip(chained, _UNCHAINED)):
        return rv
    func, args, state, listitems, dictitems, setter = (tuple(rv) + (None,) * 6)[:6]
    return func, args, (state, setter, chained), listitems, dictitems, _exception_setstate


def traceback_reduce(tb: Any) -> Any:
    """A traceback (an exception's, or one held on its own: an __exit__'s argument)."""
    return _make_traceback, (_traceback_parts(tb),)


# ---- the table -------------------------------------------------------------------------------

# (module, qualified name of the type, reducer): looked up only for imported modules.
TYPES: list[tuple[str, str, Callable[[Any], Any]]] = [
    ("functools", "_lru_cache_wrapper", _lru_cache_reduce),
    ("_struct", "Struct", _struct_reduce),
    ("weakref", "KeyedRef", _keyed_ref_reduce),
    ("_thread", "LockType", _lock_reduce),
    ("_thread", "RLock", _rlock_reduce),
    ("_queue", "SimpleQueue", _simple_queue_reduce),
    ("_thread", "_ThreadHandle", _thread_handle_reduce),
    ("_csv", "writer", _csv_writer_reduce),
    ("_csv", "Writer", _csv_writer_reduce),
    ("sqlite3", "Connection", _sqlite_reduce),
    ("subprocess", "Popen", _popen_reduce),
    ("multiprocessing.process", "AuthenticationString", _authkey_reduce),
    ("itertools", "pairwise", _pairwise_reduce),
    ("re", "Match", _match_reduce),
    ("numpy", "ndarray", _array_reduce),
    ("numpy", "memmap", _array_reduce),
    ("numpy", "flatiter", _flatiter_reduce),
    ("numpy._core._multiarray_umath", "capsule", _extobj_reduce),
    ("PIL._imaging", "ImagingCore", _core_reduce),
    ("PIL._imaging", "PixelAccess", _pixel_access_reduce),
    ("sqlalchemy.orm.decl_api", "registry", _registry_reduce),
    ("sqlalchemy.orm.instrumentation", "ClassManager", _class_manager_reduce),
    ("sqlalchemy.util.langhelpers", "symbol", _symbol_reduce),
]
# CPython's own reduce of an accumulate whose running total is None makes an islice.
TYPES.append(("itertools", "accumulate", _iter_reduce))
if sys.version_info >= (3, 12):  # pickle never handled batched
    TYPES.append(("itertools", "batched", _iter_reduce))
if sys.version_info >= (3, 14):  # pickle still handles them before
    TYPES.append(("itertools", "count", _count_reduce))
    TYPES.append(("itertools", "_tee", _tee_reduce))
    TYPES.append(("itertools", "_tee_dataobject", _tee_data_reduce))
    TYPES.extend(("itertools", name, _iter_reduce) for name in _ITERTOOLS)


# Types whose subclasses are reduced the same way.
BASES: list[tuple[str, str, Callable[[Any], Any]]] = [
    ("builtins", "BaseException", _exception_reduce),
    ("_thread", "_local", _local_reduce),
    ("threading", "Thread", _thread_reduce),
    ("multiprocessing.process", "BaseProcess", _mp_process_reduce),
    ("codecs", "StreamWriter", _codec_stream_reduce),
    ("codecs", "StreamReader", _codec_stream_reduce),
    ("codecs", "StreamReaderWriter", _codec_stream_reduce),
    ("PIL.Image", "Image", _image_reduce),
    ("PIL.ImageDraw", "ImageDraw", _image_draw_reduce),
    ("PIL.ImageFont", "FreeTypeFont", _font_reduce),
    ("sqlalchemy.orm.mapper", "Mapper", _mapper_reduce),
]


def _context_var_reduce(var: Any) -> Any:
    from ._process_state import reduce_context_var

    return reduce_context_var(var)


def _make_context(items: list[tuple[Any, Any]]) -> Any:
    import contextvars

    def fill() -> None:
        for var, value in items:
            var.set(value)

    ctx = contextvars.Context()
    ctx.run(fill)
    return ctx


def _context_reduce(ctx: Any) -> Any:
    """A contextvars.Context (``copy_context()``): its variables and their values."""
    return _make_context, (list(ctx.items()),)


def _make_token(var: Any, had_value: bool, old_value: Any, used: bool, home: Any = None) -> Any:
    """A token of `var` in the program's context at the destination, standing for the
    origin's (the value it resets to, whether it was used). The variable's own value is
    set afterwards, with the rest of the context (_process_state)."""
    token = var.set(None)
    var.reset(token)  # the variable as it was: its value comes with the rest of the context
    _impl.token_restore(token, had_value, old_value, used)
    import contextvars

    if isinstance(home, contextvars.Context):
        _impl.token_context(token, home)
    elif home is not None:  # a moving thread's (_process_state.ThreadHome), settled there
        home.tokens.append(token)
    return token  # else taken in the main thread's context, as this one is


def _token_reduce(token: Any) -> Any:
    from ._process_state import token_home

    had_value = token.old_value is not token.MISSING
    return _make_token, (
        token.var,
        had_value,
        token.old_value if had_value else None,
        _impl.token_used(token),
        token_home(_impl.token_context(token)),
    )


TYPES.append(("_contextvars", "ContextVar", _context_var_reduce))
TYPES.append(("_contextvars", "Token", _token_reduce))
TYPES.append(("_contextvars", "Context", _context_reduce))


_unnamed_found: dict[str, dict[str, type]] = {}


def _unnamed(module: str, mod: Any) -> dict[str, type]:
    if mod is None:
        return {}
    if module not in _unnamed_found:
        _unnamed_found[module] = UNNAMED[module](mod)
    return _unnamed_found[module]


def table(entries: list[tuple[str, str, Callable[[Any], Any]]] = TYPES) -> dict[type, Any]:
    """The reducers of the types whose modules are imported now."""
    found: dict[type, Callable[[Any], Any]] = {}
    for module, qualname, reducer in entries:
        obj: Any = sys.modules.get(module)
        if module in UNNAMED:
            obj = _unnamed(module, obj).get(qualname)
        else:
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


# ---- bound methods of a private name ----------------------------------------------------------


def _method_reduce(method: Any) -> Any:
    """A bound method named ``__name`` (asyncio's pure-Python task's ``__step`` and
    ``__wakeup``): by its mangled name, which pickle's own way does not use."""
    name = method.__name__
    if not (isinstance(name, str) and name.startswith("__") and not name.endswith("__")):
        return NotImplemented
    owner = getattr(method.__func__, "__qualname__", "").rpartition(".")[0].rpartition(".")[2]
    if not owner or owner == "<locals>":
        return NotImplemented
    return getattr, (method.__self__, f"_{owner.lstrip('_')}{name}")


TYPES.append(("types", "MethodType", _method_reduce))


# ---- asyncio: the running loop, its tasks, futures and handles (see _event_loop) -----------

from . import _event_loop  # noqa: E402  (its reducers, registered here)

TYPES.extend(_event_loop.TYPES)
BASES.extend(_event_loop.BASES)
UNNAMED["_asyncio"] = _event_loop.unnamed_types
UNNAMED["sys"] = _event_loop.sys_types
