"""What a move carries: the captured stack, the __main__ namespace and interpreter state.

``snapshot()`` runs at the origin and returns the payload; ``rebuild()`` and ``run()``
continue the program at the destination. Both are called with no teleporter frame between
them and the user's code other than the documented API frames.
"""

from __future__ import annotations

import os
import sys
import time
import types

from . import _deadlines, _frames, _payload, _pickling, _process_state, _threads
from . import _teleporter_impl as _impl
from ._api import SAFE_POINT_TIMEOUT
from .errors import PayloadError, TeleportError

TYPE_CHECKING = False  # typing itself costs start-up time
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any


# The code of the __main__ frame being resumed: tracebacks start there.
resumed_module_code: Any = None


class _Environment:
    """sys.argv, sys.path, the working directory, environment changes and how stdout and
    stderr are buffered; restored as soon as the stream is read that far (it comes
    first), so that modules travelling by reference are imported from where the program
    imported them.

    A move to another machine (``remote``) keeps the target's own sys.path entries after
    the program's, applies only the environment variables the program changed, and stays
    in the launcher's directory when the program's does not exist there and no ``cwd``
    was asked for (``cwd_required``). A destination that is another installation of
    Python (another patch release, Debian's beside pyenv's) puts its own standard library
    where the origin's was in sys.path: the origin's lacks the extension modules the
    destination's own build keeps apart (Debian builds ``select`` into its binary)."""

    __slots__ = ("args",)

    def __init__(self, *args: Any) -> None:  # _apply_environment's arguments
        self.args = args

    def __reduce__(self) -> tuple[Any, ...]:
        return _apply_environment, self.args


class _MainGlobal:
    __slots__ = ("name", "value")

    def __init__(self, name: str, value: Any) -> None:
        self.name, self.value = name, value

    def __reduce__(self) -> tuple[Any, ...]:
        return _set_main_global, (self.name, self.value)


def _set_main_global(name: str, value: Any) -> None:
    sys.modules["__main__"].__dict__[name] = value


def _order_main(names: list[str]) -> None:
    """Puts __main__'s globals back in the program's order (definitions were rebuilt
    first); names the rebuild added stay after them."""
    d = sys.modules["__main__"].__dict__
    items = [(k, d[k]) for k in names if k in d]
    rest = [(k, v) for k, v in d.items() if k not in set(names)]
    d.clear()
    d.update(items)
    d.update(rest)


# Globals rebuilt before the others: what code run during the rebuild (a __setstate__,
# a reducer of the program's own) may look up, and which needs nothing else to exist.
_DEFINITIONS = (
    types.FunctionType,
    types.ModuleType,
    type,
    int,
    float,
    complex,
    str,
    bytes,
    bool,
    type(None),
)


def _main_globals(d: dict[str, Any]) -> list[Any]:
    first = [_MainGlobal(k, v) for k, v in d.items() if isinstance(v, _DEFINITIONS)]
    rest = [_MainGlobal(k, v) for k, v in d.items() if not isinstance(v, _DEFINITIONS)]
    return first + rest


class _Patch:
    """An attribute of a module that travels by reference, which the program set to one
    of its own functions or classes (``re.compile = my_wrapper``) or objects."""

    __slots__ = ("module", "name", "value")

    def __init__(self, module: str, name: str, value: Any) -> None:
        self.module, self.name, self.value = module, name, value

    def __reduce__(self) -> tuple[Any, ...]:
        return _apply_patch, (self.module, self.name, self.value)


def _apply_patch(module: str, name: str, value: Any) -> None:
    import importlib

    setattr(importlib.import_module(module), name, value)


def _patches() -> list[_Patch]:
    """Attributes of by-reference modules bound to the program's own functions, classes
    and objects of its classes (defined in __main__ or in a module that travels by
    value), and their threading.local objects holding values of a thread that moves
    (click keeps its context stack in one): a fresh import would have an empty one."""
    import _thread

    from . import policy

    found = []
    own: dict[str, bool] = {}  # module name -> travels by value
    own_type: dict[type, bool] = {}  # type -> defined in a module that travels by value

    def by_value(origin: Any) -> bool:
        if not isinstance(origin, str):
            return False
        known = own.get(origin)
        if known is None:
            known = own[origin] = origin == "__main__" or (
                origin in sys.modules and policy.module_by_value(origin)
            )
        return known

    functools = sys.modules.get("functools")
    patchable: tuple[type, ...] = (types.FunctionType, type)
    if functools is not None:
        patchable += (functools._lru_cache_wrapper,)
    for modname, mod in list(sys.modules.items()):
        d = getattr(mod, "__dict__", None)
        if not isinstance(d, dict) or modname == "__main__":
            continue
        for name, value in list(d.items()):
            if isinstance(value, _thread._local):
                if not policy.module_by_value(modname) and any(_threads.local_values(value)):
                    found.append(_Patch(modname, name, value))
                continue
            # The program's own function or class, or an object of one of its classes
            # (``logging.lastResort = MyHandler()``; asked once per type).
            if isinstance(value, patchable):
                origin = getattr(value, "__module__", None)
                if origin == modname or not by_value(origin):
                    continue
            else:
                cls = type(value)
                ours = own_type.get(cls)
                if ours is None:
                    ours = own_type[cls] = by_value(getattr(cls, "__module__", None))
                if not ours or cls.__module__ == modname:
                    continue
            if not policy.module_by_value(modname):
                found.append(_Patch(modname, name, value))
    return found


def _standard_library(path: list[str]) -> list[str]:
    """The entries of `path` that are this interpreter's own standard library: its
    directory, the zip beside it and its lib-dynload."""
    lib = os.path.dirname(os.__file__ or "")
    zipped = os.path.join(os.path.dirname(lib), "python%d%d.zip" % sys.version_info[:2])
    own = {lib, zipped, os.path.join(lib, "lib-dynload")}
    return [p for p in path if p in own]


def _apply_environment(
    argv: list[str],
    path: list[str],
    cwd: str,
    cwd_required: bool,
    remote: bool,
    environ: dict[str, str | None],
    stdio: list[tuple[bool, bool, bool, str, str] | None],
    stdlib: list[str] | None = None,  # the origin's _standard_library (older checkpoints: none)
) -> None:
    sys.argv[:] = argv
    mine = _standard_library(sys.path)
    if stdlib and mine and stdlib != mine:  # another installation: its own in their place
        at = path.index(stdlib[0]) if stdlib[0] in path else len(path)
        path = (
            [p for p in path[:at] if p not in stdlib]
            + mine
            + [p for p in path[at:] if p not in stdlib]
        )
    if remote:  # the target's own entries (its site-packages...) after the program's
        seen = set(path)
        path = path + [p for p in sys.path if p and p not in seen]
    sys.path[:] = path
    for name, value in environ.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    try:
        os.chdir(cwd)
    except OSError as e:
        if cwd_required:
            raise PayloadError(
                f"cannot enter the program's working directory {cwd!r}: {e.strerror}"
            ) from None
    for name, mode in zip(("stdout", "stderr"), stdio):
        if mode is not None:
            _set_stream_mode(name, *mode)


def _set_stream_mode(
    name: str,
    line_buffering: bool,
    write_through: bool,
    unbuffered: bool,
    encoding: str,
    errors: str,
) -> None:
    """Makes sys.stdout or sys.stderr flush (and encode) as the program's did."""
    import io

    stream = getattr(sys, name)
    try:
        if unbuffered and isinstance(stream.buffer, io.BufferedWriter):  # python -u
            stream.flush()
            raw = io.FileIO(stream.fileno(), "w", closefd=False)
            new = io.TextIOWrapper(raw, encoding, errors, None, line_buffering, write_through)
            setattr(sys, name, new)
            setattr(sys, f"__{name}__", new)
        else:
            stream.reconfigure(
                encoding=encoding,
                errors=errors,
                line_buffering=line_buffering,
                write_through=write_through,
            )
    except (AttributeError, OSError, ValueError, LookupError):
        pass


def _stdio_modes() -> list[tuple[bool, bool, bool, str, str] | None]:
    """How the program's stdout and stderr flush and encode: a destination whose streams
    are pipes (through a launcher) does the same, e.g. line by line at a terminal."""
    import io

    modes: list[tuple[bool, bool, bool, str, str] | None] = []
    streams: tuple[Any, ...] = (sys.__stdout__, sys.__stderr__)
    for stream in streams:
        try:
            modes.append(
                (
                    bool(stream.line_buffering),
                    bool(stream.write_through),
                    not isinstance(stream.buffer, io.BufferedWriter),
                    str(stream.encoding),
                    str(stream.errors),
                )
            )
        except AttributeError:
            modes.append(None)
    return modes


def environment_changes() -> dict[str, str | None]:
    """The environment variables the program set, changed (name: value) or removed
    (name: None) since it started, as told by /proc/self/environ."""
    try:
        with open("/proc/self/environ", "rb") as f:
            initial = dict(
                entry.partition(b"=")[::2] for entry in f.read().split(b"\0") if b"=" in entry
            )
    except OSError:
        return {}
    now = os.environb
    changes: dict[str, str | None] = {
        os.fsdecode(k): os.fsdecode(v) for k, v in now.items() if initial.get(k) != v
    }
    changes.update((os.fsdecode(k), None) for k in initial if k not in now)
    return changes


def _users_call_site(frame: Any) -> str:
    """Where the program's own code called into a library that leads to the caller of the
    move (`run` calling scipy's quad, which calls back the program's `f`): the first frame
    of the program's own code outside the library frames around the caller. Empty when
    there is no library frame in between."""
    from . import policy

    def own(f: Any) -> bool:
        name = f.f_globals.get("__name__")
        return isinstance(name, str) and (name == "__main__" or policy.module_by_value(name))

    seen_library = False
    f = frame.f_back
    while f is not None:
        if not own(f):
            seen_library = True
        elif seen_library:
            code = f.f_code
            return f", in `{code.co_qualname}` ({code.co_filename}:{f.f_lineno})"
        if f.f_code.co_name == "<module>" and f.f_globals.get("__name__") == "__main__":
            break  # the program's bottom: below it, a resumed program's start-up frames
        f = f.f_back
    return ""


def snapshot(
    depth: int,
    result: Any,
    cwd: str | None = None,
    kind: str = "teleport",
    remote: bool = False,
    env: Mapping[str, str] | None = None,
    safe_point: float = SAFE_POINT_TIMEOUT,
    extra: dict[str, Any] | None = None,
) -> tuple[bytes, memoryview, list[Any]]:
    """Captures the caller's stack (``depth`` teleporter frames above it, this one included)
    and serializes everything the destination needs. ``remote``: the destination may be
    another machine (see _Environment); ``env`` is set there on top of the program's
    own changes. Other threads are parked and stay so (``_threads.release()`` lets them
    go when the program goes on here); ``safe_point``: the seconds they may take to
    reach a point where they can be captured; ``extra``: a checkpoint's meta fields."""
    return _read(depth + 1, None, result, cwd, kind, remote, env, extra, safe_point=safe_point)


def snapshot_whole(
    kind: str = "checkpoint",
    timeout: float | None = None,
    extra: dict[str, Any] | None = None,
    said: float | None = None,
) -> Any:
    """Captures the whole program from a thread of teleporter's own (a checkpoint that a
    signal or a timer asked for): every thread of the program, the main thread included,
    is parked at a safe point and read; the main thread continues at the destination
    from where it was parked. Returns as snapshot() does; the threads stay parked."""
    limit = SAFE_POINT_TIMEOUT if timeout is None else timeout
    return _read(0, limit, None, None, kind, False, None, extra, said=said)


def _read(
    depth: int,
    whole: float | None,
    result: Any,
    cwd: str | None,
    kind: str,
    remote: bool,
    env: Mapping[str, str] | None,
    extra: dict[str, Any] | None = None,
    safe_point: float = SAFE_POINT_TIMEOUT,
    said: float | None = None,
) -> tuple[bytes, memoryview, list[Any]]:
    """Parks the other threads and serialises the program, again until the capture holds
    (_consistent). `whole`: None for the caller's own stack (the captures may take
    `safe_point` seconds together), else the seconds the whole program's captures may
    take together (its main thread parked too)."""
    main = sys.modules["__main__"]
    _process_state.refuse_child_processes("checkpoint" if kind == "checkpoint" else "teleport")
    _frames.signal_context()
    limit = safe_point if whole is None else whole
    deadline = time.monotonic() + limit
    # Called from another thread than the main one: the main thread is parked with the
    # others, and the call returns in the calling thread at the destination.
    caller = whole is None and _threads.off_main()
    while True:
        left = max(0.0, deadline - time.monotonic())
        if whole is None:
            threads = _threads.capture(main.__dict__, left, verb=kind, caller=caller, said=limit)
        else:
            threads = _threads.capture(
                main.__dict__, left, whole=True, verb=kind, said=said or whole
            )
        try:
            out = _snapshot(
                depth + 1 if whole is None else 0,
                main,
                threads,
                result,
                cwd,
                kind,
                remote,
                env,
                extra,
            )
        except TeleportError as e:
            _threads.release()
            worded = _threads.in_words_of(str(e), kind)
            if worded == str(e):
                raise
            raise TeleportError(worded) from None
        except BaseException:
            _threads.release()
            raise
        finally:
            _threads.serialised()
        if _consistent(threads, deadline, kind):
            return out


def _consistent(threads: _threads.Moved | None, deadline: float, kind: str) -> bool:
    """Whether the capture just serialised holds: every thread found blocked stayed in
    its call while the program was read. One whose call ended meanwhile (a lock released
    just before it was parked, which it then took) would wait for that lock forever at the
    destination: the capture is taken again, the threads let go a moment first."""
    if threads is None or _impl.blocked_unchanged():
        return True
    _threads.release()
    if time.monotonic() >= deadline:
        raise TeleportError(
            f"cannot {kind}: a thread's blocking call kept ending while the program was read"
        )
    time.sleep(0.002)
    return False


def _snapshot(
    depth: int,
    main: types.ModuleType,
    threads: _threads.Moved | None,
    result: Any,
    cwd: str | None,
    kind: str,
    remote: bool,
    env: Mapping[str, str] | None,
    extra: dict[str, Any] | None = None,
) -> tuple[bytes, memoryview, list[Any]]:
    view = None
    why: str | None = None
    if _threads.main_chain:  # captured by a thread of teleporter's own: the main thread's
        frames, handled, native_id = _threads.main_chain
        view = _main_thread_view(native_id)
        if threads is not None and _threads.caller_moves():
            # ... or by another thread of the program: its own stack too
            try:
                _threads.capture_caller(depth + 1, main.__dict__, threads)
            except _impl.CaptureError as e:
                why = _threads.in_words_of(str(e), kind)
    else:
        handled = _impl.handled_exception()  # a running generator's own travels with it
        try:
            frames = _impl.capture(depth + 1, main.__dict__)
            _deadlines.carry_records(frames)  # a parked main thread's: in _threads already
            _frames.detach_frames(frames, sys._getframe(depth + 1))
        except _impl.CaptureError as e:
            why = _threads.in_words_of(str(e), kind)
    if why is not None:
        instead = _in_a_coroutine(kind, sys._getframe(depth).f_back)
        if instead is not None:
            raise TeleportError(instead)
        site = _users_call_site(sys._getframe(depth))
        where = site.partition("` (")[2]  # "file:line)": said already when the message names it
        raise TeleportError(why + (site if where not in why else ""))
    refs: dict[int, Any] = {}  # one reference per namespace: pickled once, then memoised
    records = []
    for code, func, g, localsplus, stack, at, entry in frames:
        ref = refs.get(id(g))
        if ref is None:
            ref = refs[id(g)] = _pickling.globals_ref(g)
        records.append((code, func, ref, localsplus, stack, at, entry))
    cwd_required = cwd is not None or not remote
    cwd = cwd if cwd is not None else os.getcwd()
    # A local destination starts with the program's whole environment already; another
    # machine, or a checkpoint resumed later (in whatever environment resumes it), gets
    # the variables the program changed.
    carried = remote or kind == "checkpoint"
    environ = {**environment_changes(), **(env or {})} if carried else {}
    path = list(sys.path)
    environment = _Environment(
        list(sys.argv),
        path,
        cwd,
        cwd_required,
        remote,
        environ,
        _stdio_modes(),
        _standard_library(path),
    )
    state = {
        # First in the stream: applied while it is read, before anything is imported.
        "environment": environment,
        # Each global is set in __main__ as soon as it is rebuilt, definitions (functions,
        # classes, modules, numbers and strings) first: code run while later objects are
        # rebuilt (reducers, __setstate__) finds them. Then the frames, whose objects may
        # need any of them.
        "main": _main_globals(main.__dict__),
        "main_order": list(main.__dict__),
        "patches": _patches(),
        "frames": records,
        "threads": threads,  # the other threads (their stacks travel with their Thread)
        "logging": _pickling.logging_state(),  # loggers, their levels and handlers
        "handled": handled,
        "result": result,
        # The main thread was parked (its innermost frame starts again where it stopped)
        # rather than calling the move (which returns `result` there).
        "main_parked": view is not None,
        "recursionlimit": sys.getrecursionlimit(),
        # Interpreter and library settings (_process_state), restored after the objects.
        "process": _process_state.capture(view),
    }
    try:
        body, buffers = _pickling.dumps(state)
    except Exception as e:
        from ._diagnose import culprit, task_culprit

        # What a task of the running event loop holds; a setting (a signal handler, a
        # hook) that cannot move; the first local or global that cannot.
        refusal: str | None = task_culprit() or _process_state.unmovable_setting()
        if refusal is None:
            refusal = culprit(frames, main.__dict__, state["handled"], e)
    else:
        refusal = None
    finally:
        _process_state.forget_settings()
        loop_module = sys.modules.get(f"{__package__}._event_loop")
        if loop_module is not None:
            loop_module.forget_capture()
    if refusal is not None:
        # Raised outside the handler, with nothing of the attempt referenced from it: a
        # refusal leaves every object of the program as it was (no memo, no frames of ours).
        del state, frames, records, refs
        raise TeleportError(refusal)
    if kind == "checkpoint":
        from . import _inspect_meta

        meta = _payload.make_meta(
            kind,
            python=sys.version.split()[0],
            argv=sys.argv,
            cwd=cwd,
            frames=_inspect_meta.describe_frames(frames),
            globals=_inspect_meta.describe_globals(main.__dict__),
            **(extra or {}),
        )
    else:
        meta = _payload.make_meta(kind)
    return meta, body, buffers


def _in_a_coroutine(kind: str, caller: Any) -> str | None:
    """Called from a coroutine that the running asyncio loop drives (`caller`, its frame):
    the refusal that names the call to make instead. None otherwise."""
    asyncio = sys.modules.get("asyncio")
    if asyncio is None or asyncio.events._get_running_loop() is None or caller is None:
        return None
    f = caller
    while f is not None and not f.f_code.co_flags & 0x380:  # coroutine, async generator
        f = f.f_back
    if f is None:
        return None
    verb = "checkpoint" if kind == "checkpoint" else "teleport"
    code = caller.f_code
    return (
        f"cannot {verb} from inside a coroutine that the running asyncio event loop drives "
        f"(`{code.co_qualname}`, {code.co_filename}:{caller.f_lineno}): use "
        f"`await teleporter.a{verb}()` (or `afork()`), which moves the loop with all its tasks"
    )


def _main_thread_view(native_id: int) -> _process_state.ThreadView:
    """The parked main thread's own state (see _process_state.ThreadView)."""
    ident = _threads._main_ident(sys.modules.get("threading"))
    context, trace, profile, _, _ = _impl.parked_thread_state(ident)
    return _process_state.ThreadView(
        context, trace, profile, sys._current_frames().get(ident), _blocked_signals(native_id)
    )


def _blocked_signals(native_id: int) -> list[int]:
    """The signals a thread blocks, read from /proc (SigBlk: a hexadecimal mask)."""
    try:
        with open(f"/proc/self/task/{native_id}/status") as f:
            for line in f:
                if line.startswith("SigBlk:"):
                    mask = int(line.split()[1], 16)
                    return [n + 1 for n in range(mask.bit_length()) if mask >> n & 1]
    except (OSError, ValueError):
        pass
    raise TeleportError("cannot checkpoint: cannot read the main thread's blocked signals")


# Native stack the replay spends per rebuilt frame (measured about 1 KiB on 3.11-3.13),
# with a wide margin, plus what the program needs beside it.
_STACK_PER_FRAME = 4096
_STACK_BASE = 8 << 20


def _reserve_stack(nframes: int) -> None:
    """Deep stacks are rebuilt as nested native calls: make room for them. Linux checks the
    main thread's stack growth against the current soft limit, so raising it now works."""
    need = _STACK_BASE + nframes * _STACK_PER_FRAME
    if nframes < 1000:
        return
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_STACK)
    if soft == resource.RLIM_INFINITY or soft >= need:
        return
    if hard != resource.RLIM_INFINITY:
        need = min(need, hard)
    try:
        resource.setrlimit(resource.RLIMIT_STACK, (need, hard))
    except (ValueError, OSError):
        pass


# What rebuild() reads from the state record (see snapshot()), and the type each
# rebuilds to ("main" and "patches" are applied while they are read: lists of None).
_STATE_KEYS = ("frames", "main_order", "handled", "result", "recursionlimit", "process")
_STATE_TYPES = {
    "frames": list,
    "main": list,
    "main_order": list,
    "patches": list,
    "recursionlimit": int,
    "process": dict,
}


def _clear_module(module: types.ModuleType) -> None:
    """Clears the program's __main__ at exit as the interpreter clears its own __main__
    while every module is still alive (names starting with an underscore first, then the
    rest). Left to the interpreter's final garbage collection, a replacement __main__ is
    cleared after the modules it uses: CPython 3.12 then crashes in some of their objects'
    deallocators (itertools.tee's)."""
    d = module.__dict__
    for key in list(d):
        if key.startswith("_") and key != "__builtins__":
            d[key] = None
    for key in list(d):
        if key != "__builtins__":
            d[key] = None


class Restored:
    """A rebuilt program, ready to run: its frames, the value the move's call returns in
    it, and the exception it was handling."""

    __slots__ = (
        "records",
        "result",
        "handled",
        "threads",
        "parked",
        "later",
        "awaited",
        "loop_moved",
    )

    def __init__(
        self,
        records: list[Any],
        result: Any,
        handled: Any,
        threads: Any,
        parked: bool = False,
        later: list[Callable[[], list[tuple[Any, ...]]]] | None = None,
    ) -> None:
        self.records, self.handled = records, handled
        self.threads, self.parked = threads, parked
        # Moved by ateleport()/acheckpoint()/afork(): the future that the calling task
        # awaits gets `result`; the frames' own call (the loop's callback) returns None.
        self.awaited, self.loop_moved = None, False
        loop_module = sys.modules.get(f"{__package__}._event_loop")
        if loop_module is not None and type(result) is loop_module.Delivery:
            self.awaited, result = result.future, result.value
            self.loop_moved = True
        self.result = result
        # Run just before the innermost frame: what switches tracing on (_process_state).
        self.later = later or []


def rebuild(body: bytes | bytearray, buffers: list[Any], lifted: list[Any]) -> Restored:
    """Rebuilds the program's state in this process (its __main__, modules, interpreter
    state); runs none of its frames yet. Raises PayloadError when it cannot."""
    import atexit

    _process_state.hold_signals()
    main = types.ModuleType("__main__")
    sys.modules["__main__"] = main
    # Registered before anything of the program: runs after all of its exit handlers.
    atexit.register(_clear_module, main)
    _threads.rebuilding()
    try:
        state = _pickling.loads(body, buffers, lifted)
    except PayloadError:
        raise
    except Exception as e:
        raise PayloadError(f"cannot rebuild the program's state: {type(e).__name__}: {e}") from None
    if not isinstance(state, dict) or "frames" not in state:
        raise PayloadError("malformed payload: no frames")
    missing = [k for k in _STATE_KEYS if k not in state]
    if missing:
        raise PayloadError(f"malformed payload: no {missing[0]!r} in its state")
    for key, kind in _STATE_TYPES.items():
        if not isinstance(state.get(key), kind):
            raise PayloadError(f"malformed payload: its {key!r} is not of type {kind.__name__}")
    _order_main(state["main_order"])
    sys.setrecursionlimit(state["recursionlimit"])
    later = _process_state.restore(state["process"])
    records = state["frames"]
    global resumed_module_code
    resumed_module_code = records[0][0] if records and isinstance(records[0], tuple) else None
    _reserve_stack(len(records))
    threads = state.get("threads")
    if threads is not None and not isinstance(threads, _threads.Moved):
        raise PayloadError("malformed payload: its 'threads' is not a thread record")
    parked = state.get("main_parked", False)
    if not isinstance(parked, bool):
        raise PayloadError("malformed payload: its 'main_parked' is not a bool")
    return Restored(records, state["result"], state["handled"], threads, parked, later)


def run(restored: Restored) -> Any:
    """Runs the rebuilt frames; returns when the program finishes."""
    records, restored.records = restored.records, []
    # The other threads rebuild first and wait; this one lets them go just before its
    # own innermost frame runs.
    threads = restored.threads
    go = _threads.start(threads, restored.result) if threads is not None else None
    later, restored.later = restored.later, []
    release = _process_state.release_signals()  # the last call: see _impl.resume
    fixes = _frames.frame_fixes(records)
    count = len(records)

    def ready() -> list[tuple[Any, ...]]:
        if fixes:
            _frames.attach_frames(sys._getframe(1), count, fixes)
        if go is not None:
            go()
        calls = [call for step in later for call in step()]
        return calls if release is None else [*calls, release]

    result = restored.result
    if restored.loop_moved:  # the event loop's tasks as they were, then the result
        from . import _event_loop

        _event_loop.settle(restored.awaited, result)
        result = None
    try:
        return _impl.resume(
            records,
            result,
            restored.handled,
            False,
            restored.parked,
            ready if go is not None or later or release or fixes else None,
        )
    except _impl.ResumeError as e:
        raise PayloadError(str(e)) from None
