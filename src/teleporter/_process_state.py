"""Interpreter and library state that a program sets at run time and that changes what it
computes (see the README's "What moves" list): captured at the origin with the rest of
the program, restored at the destination once the program's objects are rebuilt.

Each carrier is a pair of functions: ``capture() -> state or None`` (None: nothing to
carry, e.g. the module was never imported) and ``restore(state)``. A state that cannot
travel is refused by name (TeleportError), never dropped. A carrier looks its module up
in ``sys.modules`` and costs nothing when the program never imported it; a restore
imports only modules its capture found imported. The states travel in the program's own
pickle stream: the functions and objects of the program they refer to (a signal handler,
a warning category, a context variable's value) keep their identity.

What is carried, and what was judged and left, with why:

=================================  =====================================================
State                              How
=================================  =====================================================
random                             ``random.getstate()``
numpy                              legacy global RandomState (``np.random.get_state``,
                                   only once numpy.random is imported); ``seterr``,
                                   ``seterrcall``, ``setbufsize``; print options
decimal                            the current context (the object itself: a program's
                                   reference to it stays the current context); the
                                   DefaultContext/BasicContext/ExtendedContext templates
warnings                           ``warnings.filters`` (the list object: an active
                                   ``catch_warnings`` restores the program's own list),
                                   ``defaultaction``, a replaced ``showwarning``/
                                   ``formatwarning``/``_showwarnmsg_impl`` (record=True),
                                   logging.captureWarnings's saved hook. The once/default
                                   registries are not carried (a warning may repeat).
signals                            every Python-level disposition that differs from a
                                   fresh interpreter's (handlers, SIG_IGN, SIG_DFL of
                                   SIGINT/SIGPIPE/SIGXFSZ); the main thread's blocked
                                   set; ITIMER_REAL/VIRTUAL/PROF (and so ``alarm``), with
                                   the time left when captured (the move takes none).
                                   Not readable, so not carried: ``siginterrupt`` flags,
                                   C-level handlers (``faulthandler.register``), pending
                                   signals, ``set_wakeup_fd`` (not program-visible).
atexit                             every Python-level callback with its arguments, in
                                   order (read by the core from the interpreter); but a
                                   running daemon thread's own method (tqdm's monitor
                                   stopping itself), which stays behind with its thread
tracing                            ``sys.settrace``/``setprofile``, each moved frame's
                                   ``f_trace``/``f_trace_lines``/``f_trace_opcodes``,
                                   ``threading.settrace/setprofile``, ``sys.monitoring``
                                   tools with their callbacks, global events and the
                                   local events of the moved frames' code. Switched on
                                   just before the innermost frame runs, when the stack
                                   is rebuilt: hooks never see teleporter's frames at
                                   the destination (they saw them at the origin).
                                   Other threads' own trace functions: not carried.
hooks                              sys.excepthook/unraisablehook/displayhook/
                                   breakpointhook, threading.excepthook, asyncgen hooks,
                                   coroutine origin tracking depth
streams                            sys.stdin/stdout/stderr the program replaced (a
                                   StringIO capturing output, rich's redirecting proxy,
                                   a file): the program's object; the process's own
                                   streams (sys.__stdout__...) are the destination's
gc                                 enabled, thresholds, debug flags (``freeze``: no)
interpreter                        umask, switch interval, int max str digits,
                                   dont_write_bytecode, dlopen flags, thread stack size
faulthandler                       enabled, re-enabled on stderr (what ``-X faulthandler``
                                   and ``enable()`` use): its file and all_threads are
                                   not readable from Python
locale                             per category: one that follows the environment
                                   (``setlocale(cat, "")``, LC_CTYPE at start-up) follows
                                   the destination's; a locale the program chose is set,
                                   refused (PayloadError) where it does not exist
contextvars                        the variables set in the thread's context outside any
                                   running ``Context.run`` (a context such a call entered
                                   travels with the call, which enters it again at the
                                   destination): a library's
                                   by reference (found in its module), the program's own
                                   with the program (``reduce_context_var``, in the
                                   serializer's table); copied ``Context`` objects and
                                   ``Token`` objects (used flag and old value set by the
                                   core) travel through the serializer (_reducers).
socket                             ``setdefaulttimeout``
ssl                                ``ssl._create_default_https_context`` replaced
copyreg                            ``dispatch_table`` entries for the program's types or
                                   with the program's reducers
import system                      the program's own finders in ``sys.meta_path`` and
                                   hooks in ``sys.path_hooks``, at their positions
builtins                           names the program added to or replaced in builtins
                                   (``gettext.install``'s ``_``, ``builtins.x = ...``)
gettext                            ``textdomain``, ``bindtextdomain``
csv                                ``field_size_limit``, registered dialects
calendar                           ``setfirstweekday``
reprlib                            ``reprlib.aRepr``'s limits
mimetypes                          the database, with types the program added
xml.etree                          ``register_namespace``
sqlite3                            adapters and converters
multiprocessing                    the start method
asyncio                            the event loop policy's class
logging                            ``logging.disable``'s level, ``raiseExceptions``,
                                   ``logThreads``/``logProcesses``/``logMultiprocessing``/
                                   ``logAsyncioTasks``, ``_srcfile = None`` (loggers and
                                   handlers travel with the program's objects)
http.client                        ``HTTPConnection.debuglevel``
pandas                             every registered option set away from its default
matplotlib                         rcParams that differ from what it read at import
                                   (``rcParamsOrig``), the backend (``matplotlib.use``)
scikit-learn                       ``set_config`` (its thread-local configuration, as
                                   every library's ``threading.local`` of a moving thread)
matplotlib.pyplot                  its figures in order, the current one last (figures
                                   the program never held in a variable included)
weakref.finalize                   live finalizers (objects, callbacks, atexit flag)
resource                           soft and hard limits (when resource is imported);
                                   under a lower hard limit that cannot be raised, the
                                   soft limit if it fits, else refused (PayloadError)
=================================  =====================================================

Judged and not carried: ``sys.flags``, ``sys.float_repr_style`` (fixed at start-up); the
``re``, ``fnmatch``, ``struct``, ``linecache`` and import caches (caches only);
``importlib.invalidate_caches``; other values a program stores into a library's module
or classes (``urllib.request.install_opener``'s opener, a constant overwritten): nothing
tells them from what a fresh import computes (the program's own functions, classes and
objects stored there travel, _state._patches); ``time.tzset`` (follows TZ, which the environment
carries); ``os.nice``, CPU affinity, priority (scheduling only, and inherited by a local
destination); ``shutil``, ``pprint``, ``string``, ``math``, ``array``, ``textwrap``, ``json``
(no process-wide settings); ``tempfile.tempdir`` (mostly a cache of the origin's
directory, which may not exist at another host); ``gc.freeze``. Not readable from Python
(a C hook could): ``codecs.register`` search functions and ``register_error`` handlers,
``os.register_at_fork`` callbacks, ``sys.addaudithook`` hooks, faulthandler's file,
``signal.siginterrupt``. Library-owned registries keyed by the program's types:
``functools.singledispatch`` registrations into a library's function, and virtual
subclasses registered into a library's ABC (``Sequence.register(MyList)``: finding them
means reading ~50 ABCs' registries, ~150 us a move, for a rare pattern).
"""

from __future__ import annotations

import functools
import sys

from . import _teleporter_impl as _impl
from . import _threads
from ._reducers import CSV_DIALECT_FIELDS
from .errors import PayloadError, TeleportError

TYPE_CHECKING = False  # typing itself costs start-up time
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from types import CodeType, FrameType
    from typing import Any


def _handler_name(sig: int) -> str:
    return f"the handler of {_signal_name(sig)}"


def _movable(what: str | Callable[[], str], obj: Any) -> Any:
    """Notes a setting's value (a handler, a hook) to be named if the program's state cannot
    be serialized because of it (see unmovable_setting): found that way, the refusal says
    which setting holds it. Returns obj."""
    if not _plainly_movable(obj, 2):
        _noted.append((what, obj))
    return obj


# The settings' values noted by the capture under way: serialized with the rest of the
# state, and alone only when that fails (a loop's handler reaches all of its tasks).
_noted: list[tuple[str | Callable[[], str], Any]] = []


def unmovable_setting() -> str | None:
    """The refusal naming the first noted setting whose value cannot be serialized, else
    None; forgets the noted settings."""
    from . import _pickling

    noted, _noted[:] = list(_noted), []
    for what, obj in noted:
        try:
            _pickling.dumps(obj)
        except Exception as e:
            why = f"{type(e).__name__}: {e}"
        else:
            continue
        name = what if isinstance(what, str) else what()
        kind = f"{type(obj).__module__}.{type(obj).__qualname__}"
        return f"cannot teleport: {name} (a {kind}) cannot be moved ({why})"
    return None


def forget_settings() -> None:
    """Forgets the settings noted by a capture whose state was serialized."""
    _noted.clear()


_ATOMS = (type(None), bool, int, float, str, bytes)


def _plainly_movable(obj: Any, depth: int) -> bool:
    """True for what surely serializes without trying (trying builds a pickler, which
    costs tens of microseconds): numbers, strings, functions and classes importable by
    name, and shallow containers of them."""
    t = type(obj)
    if t in _ATOMS:
        return True
    if t is tuple or t is list:
        return depth > 0 and len(obj) <= 8 and all(_plainly_movable(x, depth - 1) for x in obj)
    if t is dict:
        return (
            depth > 0
            and len(obj) <= 8
            and all(type(k) is str and _plainly_movable(v, depth - 1) for k, v in obj.items())
        )
    if t is type(len):  # a builtin function, or a method of a module
        return isinstance(getattr(obj, "__self__", None), (type(sys), type(None)))
    if t is type(_plainly_movable) or isinstance(obj, type):
        from . import policy

        return not policy.defined_by_value(obj)
    return False


def _short_repr(obj: Any) -> str:
    """What names an object in a message: never its address."""
    return f"a {type(obj).__module__}.{type(obj).__qualname__}"


def _import(name: str) -> Any:
    import importlib

    return importlib.import_module(name)


# ---- random ------------------------------------------------------------------------------


def _random_capture() -> Any:
    random = sys.modules.get("random")
    return random.getstate() if random is not None else None


def _random_restore(state: Any) -> None:
    import random

    random.setstate(state)


# ---- numpy ---------------------------------------------------------------------------------

_NUMPY_ERR = {"divide": "warn", "over": "warn", "under": "ignore", "invalid": "warn"}
_NUMPY_BUFSIZE = 8192


def _numpy_printoptions_changed(np: Any) -> bool:
    opts = sys.modules.get("numpy._core.printoptions")  # numpy 2: a context variable
    if opts is None:
        return True  # numpy 1: no record of the defaults, carried as they are
    current = opts.format_options.get()
    return current is not opts.default_format_options_dict and bool(
        current != opts.default_format_options_dict
    )


def _numpy_capture() -> Any:
    np = sys.modules.get("numpy")
    if np is None or not hasattr(np, "geterr"):
        return None
    state: dict[str, Any] = {}
    rnd = sys.modules.get("numpy.random")
    if rnd is not None and hasattr(rnd, "get_state"):
        state["random"] = rnd.get_state(legacy=False)
    state.update(_numpy_settings(np))
    return state or None


def _numpy_settings(np: Any, who: str = "") -> dict[str, Any]:
    """The calling context's floating-point error handling, buffer size and print
    options, where they differ from numpy's defaults."""
    state: dict[str, Any] = {}
    err = np.geterr()
    if err != _NUMPY_ERR:
        state["err"] = err
    call = np.geterrcall()
    if call is not None:
        what = "numpy.seterrcall's function" + (f" of {who}" if who else "")
        state["errcall"] = _movable(what, call)
    if np.getbufsize() != _NUMPY_BUFSIZE:
        state["bufsize"] = np.getbufsize()
    if _numpy_printoptions_changed(np):
        state["printoptions"] = np.get_printoptions()
    return state


def _numpy_of_thread(ctx: Any, who: str) -> dict[str, Any] | None:
    """numpy's settings in another thread's context (numpy 2 keeps ``seterr``,
    ``errstate``, ``setbufsize`` and print options in context variables; numpy 1 in
    per-thread storage this thread cannot read: carried for the main thread only)."""
    np = sys.modules.get("numpy")
    umath = sys.modules.get("numpy._core._multiarray_umath")
    if np is None or not hasattr(umath, "_extobj_contextvar"):
        return None
    return ctx.copy().run(_numpy_settings, np, who) or None


def _numpy_restore(state: dict[str, Any]) -> None:
    np = _import("numpy")
    if "random" in state:
        _import("numpy.random").set_state(state["random"])
    if "err" in state:
        np.seterr(**state["err"])
    if "errcall" in state:
        np.seterrcall(state["errcall"])
    if "bufsize" in state:
        np.setbufsize(state["bufsize"])
    if "printoptions" in state:
        np.set_printoptions(**state["printoptions"])


# ---- decimal -------------------------------------------------------------------------------

_TEMPLATES = ("DefaultContext", "BasicContext", "ExtendedContext")


def _context_fields(ctx: Any) -> tuple[Any, ...]:
    return (
        ctx.prec,
        ctx.rounding,
        ctx.Emin,
        ctx.Emax,
        ctx.capitals,
        ctx.clamp,
        {k.__name__: v for k, v in ctx.flags.items()},
        {k.__name__: v for k, v in ctx.traps.items()},
    )


def _decimal_capture() -> Any:
    decimal = sys.modules.get("decimal")
    if decimal is None:
        return None
    # The context object itself: a program that holds `ctx = getcontext()` keeps changing
    # the current context through it after the move.
    templates = {name: _context_fields(getattr(decimal, name)) for name in _TEMPLATES}
    return decimal.getcontext(), templates


def _decimal_restore(state: tuple[Any, dict[str, tuple[Any, ...]]]) -> None:
    decimal = _import("decimal")
    current, templates = state
    for name, fields in templates.items():
        ctx = getattr(decimal, name)
        if _context_fields(ctx) == fields:
            continue
        prec, rounding, emin, emax, capitals, clamp, flags, traps = fields
        ctx.prec, ctx.rounding, ctx.Emin, ctx.Emax = prec, rounding, emin, emax
        ctx.capitals, ctx.clamp = capitals, clamp
        for key in list(ctx.flags):
            ctx.flags[key] = flags.get(key.__name__, False)
        for key in list(ctx.traps):
            ctx.traps[key] = traps.get(key.__name__, False)
    decimal.setcontext(current)


# ---- warnings ------------------------------------------------------------------------------


def _warnings_capture() -> Any:
    w = sys.modules.get("warnings")
    if w is None:  # never imported: nothing but the start-up filters (-W: imported then)
        return None
    state: dict[str, Any] = {"filters": w.filters}
    if w.defaultaction != "default":
        state["defaultaction"] = w.defaultaction
    for name, original in (
        ("showwarning", getattr(w, "_showwarning_orig", None)),
        ("formatwarning", getattr(w, "_formatwarning_orig", None)),
    ):
        value = getattr(w, name, None)
        if value is not original:
            state[name] = _movable(f"warnings.{name}", value)
    impl = getattr(w, "_showwarnmsg_impl", None)
    if getattr(impl, "__module__", "warnings") != "warnings":  # catch_warnings(record=True)
        state["_showwarnmsg_impl"] = _movable("the warnings being recorded", impl)
    logging = sys.modules.get("logging")
    saved = getattr(logging, "_warnings_showwarning", None)
    if saved is not None:  # logging.captureWarnings(True)
        state["logging"] = saved
    return state


def _warnings_restore(state: dict[str, Any]) -> None:
    w = _import("warnings")
    w.filters = state["filters"]
    for name in ("defaultaction", "showwarning", "formatwarning", "_showwarnmsg_impl"):
        if name in state:
            setattr(w, name, state[name])
    if "logging" in state:
        _import("logging")._warnings_showwarning = state["logging"]
    w._filters_mutated()


# ---- signals: dispositions, blocked set, interval timers -------------------------------------


# Held from the rebuild until the rebuilt program's first instruction: the terminating
# signals a move's guard holds (_guard.HELD), which an origin forwards.
_program_mask: set[int] | None = None  # the program's blocked signals, while they are held


def hold_signals() -> None:
    """Blocks the terminating signals until ``release_signals`` lets them in, just before
    the rebuilt program's first instruction: one that comes meanwhile (forwarded by the
    origin right after the hand-off, sent by a scheduler) is the program's, handled where
    the program stands, never inside teleporter's own code. Threads started meanwhile
    keep them blocked (CPython handles signals in the main thread)."""
    global _program_mask
    from ._guard import HELD

    signal: Any = sys.modules["_signal"]
    before = {int(s) for s in signal.pthread_sigmask(signal.SIG_BLOCK, HELD)}
    if _program_mask is None:
        _program_mask = before - set(HELD)


def release_signals() -> tuple[Any, ...] | None:
    """The call that ends ``hold_signals``, made by the replay just before the program's
    first instruction (an exception it raises is raised there); None when not held."""
    global _program_mask
    if _program_mask is None:
        return None
    signal: Any = sys.modules["_signal"]
    mask, _program_mask = sorted(_program_mask), None
    return signal.pthread_sigmask, signal.SIG_SETMASK, mask


def _fresh_dispositions(signal: Any) -> dict[int, Any]:
    """What a fresh interpreter installs (when its parent left the signal at SIG_DFL),
    where it is not SIG_DFL."""
    fresh = {signal.SIGINT: signal.default_int_handler, signal.SIGPIPE: signal.SIG_IGN}
    if hasattr(signal, "SIGXFSZ"):
        fresh[signal.SIGXFSZ] = signal.SIG_IGN
    return fresh


def _signal_name(sig: int) -> str:
    import signal

    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def _signals_capture() -> Any:
    signal: Any = sys.modules["_signal"]  # always imported at start-up
    fresh = _fresh_dispositions(signal)
    getsignal = signal.getsignal  # a move's guard holds signals below Python's table
    dfl = signal.SIG_DFL
    handlers: dict[int, Any] = {}
    from . import _teleporter_impl as _impl

    for sig in signal.valid_signals():
        handler = getsignal(sig)
        if handler is None or handler == fresh.get(sig, dfl):
            continue  # not installed from Python (a C library's), or what Python installs
        if handler is _impl.signal_wake:
            continue  # a checkpoint's signal: the resumed program is armed again
        if callable(handler):
            _movable(functools.partial(_handler_name, sig), handler)
        elif isinstance(handler, int):
            handler = int(handler)  # signal.Handlers: carried as the number
        handlers[sig] = handler
    if _view is not None:
        mask = set(_view.sigmask)
    else:
        mask = {int(s) for s in signal.pthread_sigmask(signal.SIG_BLOCK, ())}
    timers = {}
    for which in (signal.ITIMER_REAL, signal.ITIMER_VIRTUAL, signal.ITIMER_PROF):
        delay, interval = signal.getitimer(which)
        if delay or interval:
            timers[which] = (delay, interval)
    if not handlers and not mask and not timers:
        return None
    return handlers, sorted(mask), timers


def _signals_restore(state: tuple[dict[int, Any], list[int], dict[int, Any]]) -> None:
    signal: Any = sys.modules["_signal"]
    handlers, mask, timers = state
    fresh = _fresh_dispositions(signal)
    for sig in signal.valid_signals():
        want = handlers.get(sig, fresh.get(sig, signal.SIG_DFL))
        have = signal.getsignal(sig)
        if have is None or have == want:
            continue
        signal.signal(sig, want)
    global _program_mask
    want = set(mask)
    if _program_mask is not None:  # held until the program runs (hold_signals)
        from ._guard import HELD

        _program_mask = set(mask)
        want |= set(HELD)
    current = {int(s) for s in signal.pthread_sigmask(signal.SIG_BLOCK, ())}
    if current != want:
        signal.pthread_sigmask(signal.SIG_SETMASK, want)
    for which, (delay, interval) in timers.items():
        signal.setitimer(which, delay, interval)


# ---- atexit --------------------------------------------------------------------------------


def _teleporters(func: Any) -> bool:
    """A callback of teleporter itself (a destination's clean-up of its __main__): every
    destination registers its own."""
    module = getattr(getattr(func, "__func__", func), "__module__", None)
    return isinstance(module, str) and (module == "teleporter" or module.startswith("teleporter."))


def _callback_name(func: Any) -> str:
    name = getattr(func, "__qualname__", None) or _short_repr(func)
    module = getattr(func, "__module__", None)
    return f"{module}.{name}" if isinstance(module, str) and module != "__main__" else name


def _thread_ident() -> int:
    import _thread

    return _thread.get_ident()  # not threading.current_thread(): a helper gets no Thread


def _atexit_capture() -> Any:
    """The Python-level callbacks in registration order, with their arguments (the atexit
    module cannot list them: the core reads them from the interpreter)."""
    if sys.modules.get("atexit") is None:
        # Nothing registered from Python (atexit.register imports it): the destination
        # keeps none either, not even what its own start-up registered (a .pth file's).
        return []
    from . import _teleporter_impl as _impl

    threading = sys.modules.get("threading")
    carried = []
    for func, args, kwargs in _impl.atexit_callbacks():
        if _teleporters(func):
            continue
        owner = getattr(func, "__self__", None)
        if threading is not None and isinstance(owner, threading.Thread):
            if owner.daemon and owner.is_alive() and owner.ident != _thread_ident():
                continue  # a daemon thread's own (tqdm's monitor): left behind with it
        what = f"the atexit callback `{_callback_name(func)}`"
        carried.append(_movable(what, (func, args, kwargs)))
    return carried


def _atexit_restore(state: list[tuple[Any, tuple[Any, ...], dict[str, Any] | None]]) -> None:
    """Leaves exactly the program's callbacks, in its order, after teleporter's own (so
    they run before it): the modules imported here by the rebuild registered theirs
    again, maybe one the program had unregistered."""
    import atexit

    from . import _teleporter_impl as _impl

    own = [cb for cb in _impl.atexit_callbacks() if _teleporters(cb[0])]
    atexit._clear()
    for func, args, kwargs in own + state:
        atexit.register(func, *args, **(kwargs or {}))
    weakref = sys.modules.get("weakref")
    if weakref is not None and any(_same(f, weakref.finalize._exitfunc) for f, _a, _k in state):
        weakref.finalize._registered_with_atexit = True


def _same(a: Any, b: Any) -> bool:
    """a is b, or both are the same bound method (each attribute lookup makes a new one)."""
    if a is b:
        return True
    func, owner = getattr(a, "__func__", None), getattr(a, "__self__", None)
    return (
        func is not None
        and func is getattr(b, "__func__", None)
        and owner is getattr(b, "__self__", None)
    )


# ---- tracing: sys.settrace/setprofile, threading's hooks, sys.monitoring --------------------


def _program_frames(start: FrameType | None = None) -> Iterator[FrameType]:
    """The frames of the program that a move captures: from the caller of teleporter's
    API (or `start`, another thread's innermost frame) out to the __main__ module frame
    (or the thread's first frame), teleporter's own frames left out."""
    main = sys.modules.get("__main__")
    g = getattr(main, "__dict__", None)
    f: FrameType | None = start
    if f is None:
        f = _view.frame if _view is not None else sys._getframe(1)
    while f is not None:
        name = f.f_globals.get("__name__")
        if not (isinstance(name, str) and (name == "teleporter" or name.startswith("teleporter."))):
            yield f
            if f.f_globals is g and f.f_code.co_name == "<module>":
                return
        f = f.f_back


def _where(f: FrameType) -> str:
    return f"`{f.f_code.co_qualname}` ({f.f_code.co_filename}:{f.f_lineno})"


def _tracing_capture() -> Any:
    state: dict[str, Any] = {}
    if _view is not None:
        trace, profile = _view.trace, _view.profile
    else:
        trace, profile = sys.gettrace(), sys.getprofile()
    if trace is not None:
        state["trace"] = _movable("the trace function (sys.settrace)", trace)
    if profile is not None:
        state["profile"] = _movable("the profile function (sys.setprofile)", profile)
    threading = sys.modules.get("threading")
    if threading is not None:
        for key in ("_trace_hook", "_profile_hook"):
            hook = getattr(threading, key, None)
            if hook is not None:
                state[key] = _movable(f"threading.set{key[1:-5]}'s function", hook)
    monitoring = getattr(sys, "monitoring", None)
    tools = _monitoring_capture(monitoring) if monitoring is not None else None
    if tools:
        state["monitoring"] = tools
    if trace is not None:  # a frame's own trace function runs only under sys.settrace
        frames = _frame_traces(None)
        if frames is not None:
            state["frames"] = frames
    return state or None


def _frame_traces(start: FrameType | None) -> list[tuple[Any, ...]] | None:
    """Each moved frame's own trace settings, innermost first, or None when no frame has
    any: (code, f_trace, f_trace_lines, f_trace_opcodes)."""
    frames = []
    for f in _program_frames(start):
        trace = f.f_trace
        if trace is not None:
            trace = _movable(f"the trace function of the frame of {_where(f)}", trace)
        frames.append((f.f_code, trace, f.f_trace_lines, f.f_trace_opcodes))
    if any(t is not None or not lines or ops for _, t, lines, ops in frames):
        return frames
    return None


def thread_tracing(innermost: FrameType | None, trace: Any, profile: Any, who: str) -> Any:
    """Another moving thread's trace and profile functions and its frames' own trace
    settings (None when it has none), read while it is parked."""
    if trace is None and profile is None:
        return None
    return (
        _movable(f"the trace function of {who}", trace) if trace is not None else None,
        _movable(f"the profile function of {who}", profile) if profile is not None else None,
        _frame_traces(innermost) if trace is not None and innermost is not None else None,
    )


def thread_tracing_resumed(tracing: Any) -> list[tuple[Any, ...]]:
    """At the destination, what thread_tracing read, from the thread's replay (its
    innermost frame is the caller's caller): see _tracing_resumed."""
    trace, profile, frames = tracing
    return _switch_on(trace, profile, frames)


def _switch_on(trace: Any, profile: Any, frames: list[tuple[Any, ...]] | None) -> list[Any]:
    """Gives each rebuilt frame its trace settings; returns the calls that set a thread's
    profile and trace functions, then the opcode flags (after sys.settrace: see below)."""
    opcodes_on = _set_frame_traces(frames)
    calls: list[tuple[Any, ...]] = []
    if profile is not None:
        calls.append((sys.setprofile, profile))
    if trace is not None:
        calls.append((sys.settrace, trace))
    return calls + opcodes_on


def _set_frame_traces(frames: list[tuple[Any, ...]] | None) -> list[tuple[Any, ...]]:
    """Gives each rebuilt frame (the innermost is the caller of the replay's ``ready``)
    its captured trace settings; returns the calls that set the opcode flags, to be made
    after sys.settrace (see below)."""
    opcodes_on: list[tuple[Any, ...]] = []
    if frames is None:
        return opcodes_on
    live = list(_program_frames())
    if len(live) != len(frames) or any(f.f_code != c for f, (c, *_) in zip(live, frames)):
        raise RuntimeError("teleporter: the rebuilt frames are not the captured ones")
    for f, (_code, trace, lines, opcodes) in zip(live, frames):
        f.f_trace_lines = lines
        if trace is not None:
            f.f_trace = trace
        if opcodes:
            # Last, as a program sets it in a traced frame's body: once sys.settrace is
            # on (3.12 switches opcode events on for every frame when settrace finds a
            # frame has asked for them), after f_trace (3.13 switches them on for this
            # frame from the setter only when f_trace is set). Set inside the 'call'
            # event instead, the flag alone has no effect on 3.12/3.13, but it has after
            # the move.
            opcodes_on.append((setattr, f, "f_trace_opcodes", True))
    return opcodes_on


def _monitoring_capture(monitoring: Any) -> list[Any]:
    tools = []
    events = [v for v in vars(monitoring.events).values() if v and not v & (v - 1)]
    codes: list[CodeType] | None = None
    for tool in range(6):
        name = monitoring.get_tool(tool)
        if name is None:
            continue
        callbacks = {}
        for event in events:
            cb = monitoring.register_callback(tool, event, None)  # read by swapping
            if cb is not None:
                monitoring.register_callback(tool, event, cb)
                callbacks[event] = _movable(f"the sys.monitoring callback of {name!r}", cb)
        if codes is None:
            codes = [f.f_code for f in _program_frames()]
        local = [(c, monitoring.get_local_events(tool, c)) for c in codes]
        local = [(c, ev) for c, ev in local if ev]
        tools.append((tool, name, callbacks, monitoring.get_events(tool), local))
    return tools


def _tracing_restore(state: dict[str, Any]) -> Callable[[], list[tuple[Any, ...]]] | None:
    """Sets what does not trace by itself; returns what switches tracing on, for the
    replay to call just before the program's innermost frame runs (``_impl.resume``'s
    ``ready``): teleporter's own frames at the destination are never seen, and the
    program's rebuilt frames are, from their next line on."""
    if "_trace_hook" in state or "_profile_hook" in state:
        threading = _import("threading")
        for key in ("_trace_hook", "_profile_hook"):
            if key in state:
                setattr(threading, key, state[key])
    monitoring: Any = getattr(sys, "monitoring", None)
    for tool, name, callbacks, _events, _local in state.get("monitoring", ()):
        if monitoring.get_tool(tool) != name:
            monitoring.use_tool_id(tool, name)
        for event, cb in callbacks.items():
            monitoring.register_callback(tool, event, cb)
    if not ("monitoring" in state or "profile" in state or "trace" in state):
        return None
    return lambda: _tracing_resumed(state)


def _tracing_resumed(state: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Run by the replay with the program's innermost frame as its caller: gives each
    rebuilt frame its own trace settings and returns the calls that switch tracing on
    (made by the replay once no frame of teleporter's is left)."""
    calls: list[tuple[Any, ...]] = []
    monitoring: Any = getattr(sys, "monitoring", None)
    for tool, _name, _callbacks, events, local in state.get("monitoring", ()):
        calls += [(monitoring.set_local_events, tool, code, ev) for code, ev in local]
        calls.append((monitoring.set_events, tool, events))
    return calls + _switch_on(state.get("trace"), state.get("profile"), state.get("frames"))


# ---- hooks ---------------------------------------------------------------------------------

_SYS_HOOKS = ("excepthook", "unraisablehook", "displayhook", "breakpointhook")


def _hooks_capture() -> Any:
    state: dict[str, Any] = {}
    for name in _SYS_HOOKS:
        hook = getattr(sys, name, None)
        if hook is not getattr(sys, f"__{name}__", None):
            state[name] = _movable(f"sys.{name}", hook)
    threading = sys.modules.get("threading")
    if threading is not None:
        hook = getattr(threading, "excepthook", None)
        if hook is not getattr(threading, "__excepthook__", None):
            state["threading.excepthook"] = _movable("threading.excepthook", hook)
    firstiter, finalizer = sys.get_asyncgen_hooks()
    if firstiter is not None or finalizer is not None:
        state["asyncgen"] = _movable("sys.set_asyncgen_hooks's hooks", (firstiter, finalizer))
    depth = sys.get_coroutine_origin_tracking_depth()
    if depth:
        state["coroutine_origin_tracking_depth"] = depth
    return state or None


_STREAMS = ("stdin", "stdout", "stderr")


def _streams_capture() -> Any:
    state = {}
    for name in _STREAMS:
        stream = getattr(sys, name, None)
        if stream is not getattr(sys, f"__{name}__", None):
            state[name] = _movable(f"sys.{name}", stream)
    return state or None


def _streams_restore(state: dict[str, Any]) -> None:
    for name, stream in state.items():
        setattr(sys, name, stream)


def _hooks_restore(state: dict[str, Any]) -> None:
    for name in _SYS_HOOKS:
        if name in state:
            setattr(sys, name, state[name])
    if "threading.excepthook" in state:
        _import("threading").excepthook = state["threading.excepthook"]
    if "asyncgen" in state:
        firstiter, finalizer = state["asyncgen"]
        sys.set_asyncgen_hooks(firstiter, finalizer)
    if "coroutine_origin_tracking_depth" in state:
        sys.set_coroutine_origin_tracking_depth(state["coroutine_origin_tracking_depth"])


# ---- gc ------------------------------------------------------------------------------------


def _gc_capture() -> Any:
    gc = sys.modules.get("gc")  # a program changes the collector through the gc module
    if gc is None:
        return None
    return gc.isenabled(), gc.get_threshold(), gc.get_debug()


def _gc_restore(state: tuple[bool, tuple[int, ...], int]) -> None:
    import gc

    enabled, threshold, debug = state
    if gc.get_threshold() != threshold:
        gc.set_threshold(*threshold)
    if gc.get_debug() != debug:
        gc.set_debug(debug)
    if enabled and not gc.isenabled():
        gc.enable()
    elif not enabled and gc.isenabled():
        gc.disable()


# ---- interpreter settings ------------------------------------------------------------------


def _umask() -> int:
    """The umask, read without changing it while other threads may create files."""
    import os

    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        try:
            fd = os.open("/proc/self/status", os.O_RDONLY | os.O_CLOEXEC)
            try:
                data = os.read(fd, 1 << 16)
            finally:
                os.close(fd)
            at = data.index(b"Umask:")
            return int(data[at + 6 : data.index(b"\n", at)], 8)
        except (OSError, ValueError):
            pass
    umask = os.umask(0o077)  # read by setting it (alone: no thread creates a file meanwhile)
    os.umask(umask)
    return umask


def _interpreter_capture() -> Any:
    state: dict[str, Any] = {
        "umask": _umask(),
        # The program's, not the one a capture of threads sets meanwhile.
        "switchinterval": _threads.program_switch_interval(),
        "dont_write_bytecode": sys.dont_write_bytecode,
        "dlopenflags": sys.getdlopenflags(),
        "stack_size": sys.modules["_thread"].stack_size(),
    }
    if hasattr(sys, "get_int_max_str_digits"):
        state["int_max_str_digits"] = sys.get_int_max_str_digits()
    return state


def _interpreter_restore(state: dict[str, Any]) -> None:
    import _thread
    import os

    os.umask(state["umask"])
    if sys.getswitchinterval() != state["switchinterval"]:
        sys.setswitchinterval(state["switchinterval"])
    sys.dont_write_bytecode = state["dont_write_bytecode"]
    if sys.getdlopenflags() != state["dlopenflags"]:
        sys.setdlopenflags(state["dlopenflags"])
    if _thread.stack_size() != state["stack_size"]:
        _thread.stack_size(state["stack_size"])
    if "int_max_str_digits" in state and hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(state["int_max_str_digits"])


# ---- faulthandler --------------------------------------------------------------------------


def _faulthandler_capture() -> Any:
    faulthandler = sys.modules.get("faulthandler")
    if faulthandler is None or not faulthandler.is_enabled():
        return None
    return True


def _faulthandler_restore(state: bool) -> None:
    import faulthandler

    if not faulthandler.is_enabled():
        faulthandler.enable()


# ---- locale --------------------------------------------------------------------------------

_LOCALE_CATEGORIES = (
    "LC_CTYPE",
    "LC_COLLATE",
    "LC_TIME",
    "LC_MONETARY",
    "LC_NUMERIC",
    "LC_MESSAGES",
)


def _env_locale(name: str) -> str:
    """The locale that ``setlocale(category, "")`` picks from the environment."""
    import os

    for var in ("LC_ALL", name, "LANG"):
        value = os.environ.get(var)
        if value:
            return value
    return "C"


def _locale_capture() -> Any:
    """Per category: None where it follows the environment (what Python sets LC_CTYPE to
    at start-up, ``setlocale(LC_ALL, "")``): the destination follows its own, as its
    interpreter does; else the locale the program chose, which must exist there."""
    _locale = sys.modules.get("_locale")  # locale's C half: every setlocale goes there
    if _locale is None:
        return None
    state: dict[str, str | None] = {}
    for name in _LOCALE_CATEGORIES:
        cat = getattr(_locale, name, None)
        if cat is not None:
            value = _locale.setlocale(cat, None)
            state[name] = None if value == _env_locale(name) else value
    return state


def _locale_restore(state: dict[str, str | None]) -> None:
    _locale = _import("_locale")
    for name, value in state.items():
        cat = getattr(_locale, name)
        current = _locale.setlocale(cat, None)
        if value is None:
            if current != _env_locale(name):
                try:
                    _locale.setlocale(cat, "")
                except _locale.Error:
                    pass  # the environment here names no locale this host has: as its Python
            continue
        if current == value:
            continue
        try:
            _locale.setlocale(cat, value)
        except _locale.Error:
            raise PayloadError(
                f"cannot set the program's locale here: {name}={value!r} is not supported"
            ) from None


# ---- contextvars ---------------------------------------------------------------------------


def _context_var_ref(var: Any) -> tuple[str, str] | None:
    """(module, name) of a module that travels by reference and holds `var` as a global."""
    from . import policy

    for modname, mod in list(sys.modules.items()):
        d = getattr(mod, "__dict__", None)
        if not isinstance(d, dict) or modname == "__main__":
            continue
        for name, value in d.items():
            if value is var:
                if policy.module_by_value(modname):
                    return None
                return modname, name
    return None


def _carried_elsewhere() -> set[int]:
    """Context variables whose values other carriers take (decimal's, numpy's)."""
    ids = set()
    for module, name in (
        ("numpy._core._multiarray_umath", "_extobj_contextvar"),
        ("numpy._core.printoptions", "format_options"),
    ):
        var = getattr(sys.modules.get(module), name, None)
        if var is not None:
            ids.add(id(var))
    return ids


def _lookup(module: str, name: str) -> Any:
    return getattr(_import(module), name)


class _GlobalRef:
    """A library's context variable, by its module and name."""

    __slots__ = ("module", "name")

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name

    def __reduce__(self) -> tuple[Any, ...]:
        return _lookup, (self.module, self.name)


def _make_context_var(name: str, default: Any) -> Any:
    import contextvars

    if default is _NO_DEFAULT:
        return contextvars.ContextVar(name)
    return contextvars.ContextVar(name, default=default)


class _NoDefault:
    __slots__ = ()

    def __reduce__(self) -> str:
        return "_NO_DEFAULT"


_NO_DEFAULT = _NoDefault()


def _decimal_var() -> Any:
    """The C decimal's own context variable (no module holds it), found in a context of
    its own where ``getcontext()`` has just set it."""
    import contextvars

    decimal = _import("decimal")

    def find() -> Any:
        decimal.getcontext()
        return next(
            (
                v
                for v, value in contextvars.copy_context().items()
                if v.name == "decimal_context" and isinstance(value, decimal.Context)
            ),
            None,
        )

    return contextvars.Context().run(find)


def reduce_context_var(var: Any) -> Any:
    """How a ContextVar travels, for the serializer's table of reducers (``_contextvars``,
    ``ContextVar``): a library's by reference, found in its module; one of the program's
    as a new variable of the same name and default (one per stream: identity holds)."""
    ref = _context_var_ref(var)
    if ref is not None:
        return _lookup, ref
    decimal = sys.modules.get("decimal")
    if decimal is not None and var.name == "decimal_context" and var is _decimal_var():
        return _decimal_var, ()
    import contextvars

    try:
        default = contextvars.Context().run(var.get)  # in an empty context: the default
    except LookupError:
        default = _NO_DEFAULT
    return _make_context_var, (var.name, default)


def _contextvars_capture() -> Any:
    cv = sys.modules.get("_contextvars")  # a program's ContextVar needs it imported
    if cv is None:
        return None
    decimal = sys.modules.get("decimal")
    return _carried_vars(
        # the C decimal's own variable is the decimal carrier's
        (var, value)
        for var, value in cv.copy_context().items()
        if not (
            decimal is not None
            and var.name == "decimal_context"
            and isinstance(value, decimal.Context)
        )
    )


def _carried_vars(items: Iterable[tuple[Any, Any]], who: str = "") -> list[tuple[Any, Any]] | None:
    """Context variables and their values as they travel: a library's variable by its
    module and name, the program's with the program; numpy's are its carrier's."""
    skip = _carried_elsewhere()
    carried = []
    for var, value in items:
        if id(var) in skip:
            continue
        ref = _context_var_ref(var)
        what = f"the context variable {var.name!r}" + (f" of {who}" if who else "")
        carried.append((_GlobalRef(*ref) if ref else _movable(what, var), _movable(what, value)))
    return carried or None


def set_context_vars(state: list[tuple[Any, Any]]) -> None:
    """The variables as they were, in the calling thread's context (a rebuilt thread's
    before its frames run)."""
    for var, value in state:
        if var == _NUMPY_OF_THREAD:
            _numpy_restore(value)
        elif var == _TOKENS_OF_THREAD:
            value.settle()
        else:
            var.set(value)


def thread_context(ctx: Any, who: str) -> list[tuple[Any, Any]] | None:
    """The context variables another thread set (`ctx`: its current context, read by the
    core), outside every Context.run running in its stack (those contexts travel with
    their calls), decimal's current context among them (``getcontext().prec = 5`` in a
    worker), and numpy's settings (``np.seterr``, ``errstate``, print options)."""
    if ctx is None:
        return None
    outer = _impl.outer_context(ctx)
    ctx = outer if outer is not None else ctx
    carried = _carried_vars(ctx.items(), who) or []
    numpy = _numpy_of_thread(ctx, who)
    if numpy is not None:
        carried.append((_NUMPY_OF_THREAD, numpy))
    home = ThreadHome()
    _token_homes[id(ctx)] = (ctx, home)
    carried.append((_TOKENS_OF_THREAD, home))  # last: the thread's context exists by then
    return carried


# In a thread's carried context, beside its variables (strings: never a ContextVar).
_NUMPY_OF_THREAD = "numpy"  # numpy's settings there
_TOKENS_OF_THREAD = "tokens"  # the tokens taken there (ThreadHome)


class ThreadHome:
    """Stands for a moving thread's own context in the tokens taken in it (``token =
    var.set(...)``, numpy's ``errstate``): ``var.reset(token)`` accepts a token only in
    the context it was taken in, here the rebuilt thread's."""

    def __init__(self) -> None:
        self.tokens: list[Any] = []

    def settle(self) -> None:
        """In the rebuilt thread: its tokens belong to its context."""
        import contextvars

        contextvars.copy_context()  # makes the thread's context if it has none yet
        here = _impl.current_context()
        for token in self.tokens:
            _impl.token_context(token, here)


# id(context) -> (context, its stand-in) for the capture under way: a thread's own context
# (ThreadHome), the main thread's (None: tokens are taken again in it at the destination).
_token_homes: dict[int, tuple[Any, ThreadHome | None]] = {}


def token_home(ctx: Any) -> Any:
    """What a token taken in `ctx` belongs to at the destination: None for the main
    thread's context, a moving thread's ThreadHome, else the Context object itself (one
    entered by ``Context.run``, or a copy the program holds), which travels."""
    if ctx is None:
        return None
    found = _token_homes.get(id(ctx))
    return ctx if found is None else found[1]


def forget_token_homes() -> None:
    _token_homes.clear()


# ---- socket, ssl ---------------------------------------------------------------------------


def _socket_capture() -> Any:
    socket = sys.modules.get("_socket")
    timeout = socket.getdefaulttimeout() if socket is not None else None
    return timeout


def _socket_restore(state: float) -> None:
    import _socket

    _socket.setdefaulttimeout(state)


def _ssl_capture() -> Any:
    ssl = sys.modules.get("ssl")
    if ssl is None:
        return None
    factory = ssl._create_default_https_context
    if factory is ssl.create_default_context:
        return None
    return _movable("ssl._create_default_https_context", factory)


def _ssl_restore(state: Any) -> None:
    _import("ssl")._create_default_https_context = state


# ---- copyreg, the import system, builtins: the program's own entries ----------------------


def _programs(obj: Any) -> bool:
    """True for a function or class of the program (defined in __main__ or in a module
    that travels by value), a method of one, or an instance of one of its classes."""
    from . import policy

    obj = getattr(obj, "__func__", obj)  # a bound method: its function
    owner = obj if isinstance(obj, type) or hasattr(obj, "__code__") else type(obj)
    module = getattr(owner, "__module__", None)
    if not isinstance(module, str):
        return False
    return module == "__main__" or (module in sys.modules and policy.module_by_value(module))


# What a capture found holding nothing of the program's (the next one compares first).
_clean: dict[str, Any] = {}


def _unchanged(key: str, now: Any) -> bool:
    try:
        return bool(_clean.get(key) == now)
    except Exception:  # an entry of the program's with an __eq__ that fails
        return False


def _copyreg_capture() -> Any:
    copyreg = sys.modules.get("copyreg")
    if copyreg is None or _unchanged("copyreg", copyreg.dispatch_table):
        return None
    table = dict(copyreg.dispatch_table)
    entries = [(c, r) for c, r in table.items() if _programs(c) or _programs(r)]
    if not entries:
        _clean["copyreg"] = table
        return None
    return _movable("a copyreg.pickle registration", entries)


def _copyreg_restore(state: list[tuple[Any, Any]]) -> None:
    import copyreg

    for cls, reducer in state:
        copyreg.dispatch_table[cls] = reducer


def _import_system_capture() -> Any:
    now: tuple[list[Any], list[Any]] = (list(sys.meta_path), list(sys.path_hooks))
    if _unchanged("import_system", now):
        return None
    found = {}
    for name, entries in zip(("meta_path", "path_hooks"), now):
        own = [(i, e) for i, e in enumerate(entries) if _programs(e)]
        if own:
            found[name] = _movable(f"an entry of sys.{name}", own)
    if not found:
        _clean["import_system"] = now
    return found or None


def _import_system_restore(state: dict[str, list[tuple[int, Any]]]) -> None:
    for name, entries in state.items():
        target = getattr(sys, name)
        for i, entry in entries:
            if entry not in target:
                target.insert(i, entry)
    if "path_hooks" in state:
        sys.path_importer_cache.clear()


# Names of builtins whose value was found to be builtins' own, with the id of that value
# (a value the program put in its place has another id): a capture looks each name once.
_native_builtins: dict[str, int] = {}


def _builtins_capture() -> Any:
    import builtins

    d = builtins.__dict__
    if _unchanged("builtins", d):
        return None
    io_open = getattr(sys.modules.get("io"), "open", None)
    native = _native_builtins
    found = {}
    for name, value in list(d.items()):
        if native.get(name) == id(value):
            continue
        if (
            (name.startswith("__") and name.endswith("__"))
            or name in _CONSTANTS
            or (isinstance(value, type) or callable(value))
            and getattr(value, "__module__", None) == "builtins"  # functions, types
            or value is io_open
            or type(value).__module__ == "_sitebuiltins"  # exit, help... (from site)
        ):
            native[name] = id(value)
            continue
        found[name] = _movable(f"builtins.{name}", value)
    if not found:
        _clean["builtins"] = dict(d)
    return found or None


_CONSTANTS = frozenset({"None", "Ellipsis", "NotImplemented", "False", "True"})


def _builtins_restore(state: dict[str, Any]) -> None:
    import builtins

    for name, value in state.items():
        setattr(builtins, name, value)


# ---- small library settings ----------------------------------------------------------------


def _gettext_capture() -> Any:
    gettext = sys.modules.get("gettext")
    if gettext is None or (gettext._current_domain == "messages" and not gettext._localedirs):
        return None
    return gettext._current_domain, dict(gettext._localedirs)


def _gettext_restore(state: tuple[str, dict[str, str]]) -> None:
    gettext: Any = _import("gettext")
    gettext._current_domain, dirs = state
    gettext._localedirs.update(dirs)


_CSV_DIALECTS = ("excel", "excel-tab", "unix")  # registered by csv itself


def _csv_capture() -> Any:
    csv = sys.modules.get("_csv")
    if csv is None:
        return None
    dialects = {
        name: {f: getattr(csv.get_dialect(name), f) for f in CSV_DIALECT_FIELDS}
        for name in csv.list_dialects()
        if name not in _CSV_DIALECTS
    }
    limit = csv.field_size_limit()
    return (limit, dialects) if dialects or limit != 128 * 1024 else None


def _csv_restore(state: tuple[int, dict[str, dict[str, Any]]]) -> None:
    csv: Any = _import("_csv")
    limit, dialects = state
    csv.field_size_limit(limit)
    for name, fields in dialects.items():
        csv.register_dialect(name, **fields)


def _calendar_capture() -> Any:
    calendar = sys.modules.get("calendar")
    day = calendar.firstweekday() if calendar is not None else 0
    return day or None


def _calendar_restore(state: int) -> None:
    _import("calendar").setfirstweekday(state)


def _reprlib_capture() -> Any:
    reprlib = sys.modules.get("reprlib")
    if reprlib is None:
        return None
    limits = vars(reprlib.aRepr)
    return dict(limits) if limits != vars(reprlib.Repr()) else None


def _reprlib_restore(state: dict[str, Any]) -> None:
    vars(_import("reprlib").aRepr).update(state)


def _mimetypes_capture() -> Any:
    mimetypes = sys.modules.get("mimetypes")
    return getattr(mimetypes, "_db", None)  # initialised: the database, with add_type's


def _mimetypes_restore(db: Any) -> None:
    mimetypes: Any = _import("mimetypes")
    mimetypes._db = db
    mimetypes.inited = True
    mimetypes.encodings_map = db.encodings_map
    mimetypes.suffix_map = db.suffix_map
    mimetypes.types_map = db.types_map[True]
    mimetypes.common_types = db.types_map[False]


def _etree_capture() -> Any:
    etree = sys.modules.get("xml.etree.ElementTree")
    return dict(etree._namespace_map) if etree is not None else None


def _etree_restore(state: dict[str, str]) -> None:
    etree: Any = _import("xml.etree.ElementTree")
    etree._namespace_map.clear()
    etree._namespace_map.update(state)


def _sqlite3_capture() -> Any:
    sqlite3 = sys.modules.get("sqlite3")
    if sqlite3 is None or not (sqlite3.adapters or sqlite3.converters):
        return None
    state = dict(sqlite3.adapters), dict(sqlite3.converters)
    return _movable("a sqlite3 adapter or converter", state)


def _sqlite3_restore(state: tuple[dict[Any, Any], dict[str, Any]]) -> None:
    sqlite3: Any = _import("sqlite3")
    adapters, converters = state
    sqlite3.adapters.update(adapters)
    sqlite3.converters.update(converters)


def _multiprocessing_capture() -> Any:
    context = sys.modules.get("multiprocessing.context")
    if context is None:
        return None
    chosen = context._default_context._actual_context
    return chosen.get_start_method() if chosen is not None else None


def _multiprocessing_restore(method: str) -> None:
    _import("multiprocessing").set_start_method(method, force=True)


def refuse_child_processes(verb: str) -> None:
    """Raises TeleportError naming the program's running multiprocessing children (its
    ``Process`` objects, a ``Pool``'s or a ``ProcessPoolExecutor``'s workers, referenced or
    not): they are other processes, which do not move; left behind, they would run on
    beside the moved program, which would know nothing of them."""
    process = sys.modules.get("multiprocessing.process")
    if process is None:
        return
    live = []
    for p in list(getattr(process, "_children", ())):
        popen = getattr(p, "_popen", None)
        try:
            running = popen is not None and popen.poll() is None
        except Exception:  # a child the program replaced by something of its own
            running = False
        if running:
            live.append(p)
    if not live:
        return
    pools: dict[int, str] = {}  # pid -> the executor it works for
    futures = sys.modules.get("concurrent.futures.process")
    for manager in list(getattr(futures, "_threads_wakeups", {}) or ()):
        executor = getattr(manager, "executor_reference", lambda: None)()
        what = f"a {type(executor).__qualname__ if executor is not None else 'process pool'}"
        for pid in list(getattr(manager, "processes", None) or ()):
            pools[pid] = what
    named = []
    for p in sorted(live, key=lambda p: p.pid or 0):
        if p.pid in pools:
            named.append(f"pid {p.pid}, a worker of {pools[p.pid]}")
            continue
        named.append(f"{p.name!r}, pid {p.pid}")  # start() let go of its target
    count = "a child process" if len(live) == 1 else f"{len(live)} child processes"
    raise TeleportError(
        f"cannot {verb}: the program has {count} of multiprocessing running "
        f"({'; '.join(named)}): another process does not move with the program; end it "
        "(join it, or shut its pool down) before the move"
    )


def _asyncio_capture() -> Any:
    events = sys.modules.get("asyncio.events")
    policy = getattr(events, "_event_loop_policy", None)
    if policy is None:
        return None
    cls = type(policy)
    if cls.__module__.startswith("asyncio.") and cls.__name__ == "_UnixDefaultEventLoopPolicy":
        return None
    return _movable("the class of the asyncio event loop policy", cls)


def _asyncio_restore(cls: Any) -> None:
    _import("asyncio").set_event_loop_policy(cls())


# ---- weakref.finalize ----------------------------------------------------------------------


# Finalizers that only tidy up after code a library generated in this process: the
# destination generates its own (SQLAlchemy's for the functions it compiles, such as
# the __init__ of each mapped class, which is mapped again there).
_LOCAL_FINALIZERS = {("sqlalchemy.util.langhelpers", "_remove_linecache_entry")}


def _finalize_capture() -> Any:
    weakref = sys.modules.get("weakref")
    if weakref is None:
        return None
    finalize = weakref.finalize
    entries = []
    for f, info in list(finalize._registry.items()):
        obj = info.weakref()
        if obj is None:
            continue
        func = info.func
        if (getattr(func, "__module__", None), getattr(func, "__name__", None)) in (
            _LOCAL_FINALIZERS
        ):
            continue
        entries.append((info.index, f, obj, info.func, info.args, info.kwargs, info.atexit))
    if not entries:
        return None
    entries.sort(key=lambda e: e[0])
    return _movable("a weakref.finalize callback", [e[1:] for e in entries])


def _finalize_restore(state: list[tuple[Any, ...]]) -> None:
    import weakref

    finalize: Any = weakref.finalize
    for f, obj, func, args, kwargs, atexit in state:
        info = finalize._Info()
        info.weakref = weakref.ref(obj, f)
        info.func = func
        info.args = args
        info.kwargs = kwargs or None
        info.atexit = atexit
        info.index = next(finalize._index_iter)
        finalize._registry[f] = info
        if atexit and not finalize._registered_with_atexit:
            import atexit as _atexit

            _atexit.register(finalize._exitfunc)
            finalize._registered_with_atexit = True


# ---- resource limits -----------------------------------------------------------------------


def _resource_capture() -> Any:
    resource = sys.modules.get("resource")
    if resource is None:
        return None
    limits = {}
    for name in dir(resource):
        if name.startswith("RLIMIT_"):
            try:
                limits[name] = resource.getrlimit(getattr(resource, name))
            except (ValueError, OSError):
                pass
    return limits


def _resource_restore(state: dict[str, tuple[int, int]]) -> None:
    """Sets each limit as the program had it; where this host's hard limit is lower and
    cannot be raised (no privilege), the soft limit still is, if it fits under it."""
    import resource

    for name, (soft, hard) in state.items():
        which = getattr(resource, name, None)
        if which is None:
            continue
        have = resource.getrlimit(which)
        if have == (soft, hard):
            continue
        try:
            resource.setrlimit(which, (soft, hard))
            continue
        except (ValueError, OSError):
            pass
        inf = resource.RLIM_INFINITY
        if have[1] == inf or (soft != inf and soft <= have[1]):
            resource.setrlimit(which, (soft, have[1]))
            continue
        raise PayloadError(
            f"cannot set the program's resource limit {name} here: its soft limit {soft} is "
            f"above this host's hard limit {have[1]}"
        )


# name -> (capture, restore), in the order they are restored: settings of the process and
# of libraries first, then hooks, signals and timers, and tracing last (what the restore
# itself runs is not traced).
# ---- logging's module-wide switches, http.client's debug level -----------------------------

# logging's flags as a fresh import sets them (logging.disable(): the manager's level).
_LOGGING_FLAGS = {
    "raiseExceptions": True,
    "logThreads": True,
    "logProcesses": True,
    "logMultiprocessing": True,
    "logAsyncioTasks": True,  # 3.12+
}


def _logging_capture() -> Any:
    """``logging.disable()``'s level, the module's ``log*``/``raiseExceptions`` flags and a
    ``_srcfile`` set to None (the logging HOWTO's speed-up): what differs from a fresh
    import's. Loggers, their levels and handlers travel with the program (_pickling)."""
    logging: Any = sys.modules.get("logging")
    if logging is None:
        return None
    state = {
        name: getattr(logging, name)
        for name, fresh in _LOGGING_FLAGS.items()
        if hasattr(logging, name) and getattr(logging, name) != fresh
    }
    if logging.root.manager.disable:
        state["disable"] = logging.root.manager.disable
    if logging._srcfile is None:
        state["_srcfile"] = None
    return state or None


def _logging_restore(state: dict[str, Any]) -> None:
    logging: Any = _import("logging")
    for name, value in state.items():
        if name == "disable":
            logging.disable(value)
        else:
            setattr(logging, name, value)


def _http_client_capture() -> Any:
    """``http.client.HTTPConnection.debuglevel`` (the switch that prints a request's
    headers, also for requests and urllib3), when the program set it."""
    client: Any = sys.modules.get("http.client")
    level = getattr(getattr(client, "HTTPConnection", None), "debuglevel", 0)
    return level or None


def _http_client_restore(level: int) -> None:
    _import("http.client").HTTPConnection.debuglevel = level


# ---- pandas options, matplotlib's rcParams -------------------------------------------------


def _pandas_capture() -> Any:
    """Every registered option whose value differs from its default (``pd.set_option``,
    ``pd.options.display.max_columns = ...``), read from the options' own table: a
    deprecated option read through ``get_option`` would warn."""
    config: Any = sys.modules.get("pandas._config.config")
    if config is None:
        return None
    changed = {}
    for key, option in config._registered_options.items():
        if key in config._deprecated_options:
            continue
        node: Any = config._global_config
        try:
            *path, last = key.split(".")
            for part in path:
                node = node[part]
            value = node[last]
            same = value is option.defval or bool(value == option.defval)
        except Exception:  # a value that does not compare plainly: carried
            same = False
        if not same:
            changed[key] = value
    return changed or None


def _pandas_restore(changed: dict[str, Any]) -> None:
    pandas: Any = _import("pandas")
    for key, value in changed.items():
        pandas.set_option(key, value)


_MISSING = object()


def _matplotlib_capture() -> Any:
    """The rcParams the program changed (``plt.rcParams[...] = ``, ``plt.style.use``,
    ``matplotlib.rc``, ``matplotlib.use``): those that differ from what matplotlib read at
    import (``rcParamsOrig``). Read and written without validation (as matplotlib's own
    ``_get``/``_set`` do): a deprecated key would warn, an unresolved backend resolve."""
    matplotlib: Any = sys.modules.get("matplotlib")
    orig = getattr(matplotlib, "rcParamsOrig", None)
    if orig is None:
        return None
    changed = {}
    for key in dict.keys(matplotlib.rcParams):
        value = dict.__getitem__(matplotlib.rcParams, key)
        try:
            same = bool(value == dict.get(orig, key, _MISSING))
        except Exception:
            same = False
        if not same:
            changed[key] = value
    return changed or None


def _matplotlib_restore(changed: dict[str, Any]) -> None:
    matplotlib: Any = _import("matplotlib")
    backend = changed.pop("backend", None)
    for key, value in changed.items():
        dict.__setitem__(matplotlib.rcParams, key, value)
    if backend is not None and backend != dict.__getitem__(matplotlib.rcParams, "backend"):
        if "matplotlib.pyplot" in sys.modules:
            matplotlib.use(backend)  # switches pyplot's backend, as the program's call did
        else:
            dict.__setitem__(matplotlib.rcParams, "backend", backend)


# ---- matplotlib.pyplot: its figures, in order, and which one is current --------------------


def _pyplot_capture() -> Any:
    """pyplot's figures, which a program may never hold in a variable (``plt.plot`` then,
    after the move, ``plt.savefig``): each travels, and a pickled pyplot figure registers
    itself with pyplot again when it is rebuilt (matplotlib's Figure.__setstate__)."""
    helpers = sys.modules.get("matplotlib._pylab_helpers")
    if helpers is None or "matplotlib.pyplot" not in sys.modules:
        return None
    figs = [(num, manager.canvas.figure) for num, manager in helpers.Gcf.figs.items()]
    return figs or None


def _pyplot_restore(figs: list[tuple[Any, Any]]) -> None:
    """Each figure under its own number again (a rebuilt figure registers itself under
    the next free number), in the program's order: the current figure is the last."""
    plt: Any = _import("matplotlib.pyplot")
    helpers: Any = _import("matplotlib._pylab_helpers")
    managers = []
    for num, fig in figs:
        manager = fig.canvas.manager
        if manager is None:
            manager = plt._get_backend_mod().new_figure_manager_given_figure(num, fig)
        manager.num = num
        if "_number" in vars(fig):  # matplotlib 3.10+ keeps the number on the figure too
            fig._number = num
        managers.append((num, manager))
    helpers.Gcf.figs.clear()
    helpers.Gcf.figs.update(managers)


CARRIERS: dict[str, tuple[Callable[[], Any], Callable[[Any], Any]]] = {
    "interpreter": (_interpreter_capture, _interpreter_restore),
    "resource": (_resource_capture, _resource_restore),
    "locale": (_locale_capture, _locale_restore),
    "gc": (_gc_capture, _gc_restore),
    "faulthandler": (_faulthandler_capture, _faulthandler_restore),
    "random": (_random_capture, _random_restore),
    "numpy": (_numpy_capture, _numpy_restore),
    "decimal": (_decimal_capture, _decimal_restore),
    "contextvars": (_contextvars_capture, set_context_vars),
    "warnings": (_warnings_capture, _warnings_restore),
    "socket": (_socket_capture, _socket_restore),
    "ssl": (_ssl_capture, _ssl_restore),
    "copyreg": (_copyreg_capture, _copyreg_restore),
    "import_system": (_import_system_capture, _import_system_restore),
    "builtins": (_builtins_capture, _builtins_restore),
    "gettext": (_gettext_capture, _gettext_restore),
    "csv": (_csv_capture, _csv_restore),
    "calendar": (_calendar_capture, _calendar_restore),
    "reprlib": (_reprlib_capture, _reprlib_restore),
    "mimetypes": (_mimetypes_capture, _mimetypes_restore),
    "etree": (_etree_capture, _etree_restore),
    "sqlite3": (_sqlite3_capture, _sqlite3_restore),
    "multiprocessing": (_multiprocessing_capture, _multiprocessing_restore),
    "asyncio": (_asyncio_capture, _asyncio_restore),
    "finalize": (_finalize_capture, _finalize_restore),
    "logging": (_logging_capture, _logging_restore),
    "http_client": (_http_client_capture, _http_client_restore),
    "pandas": (_pandas_capture, _pandas_restore),
    "matplotlib": (_matplotlib_capture, _matplotlib_restore),
    "pyplot": (_pyplot_capture, _pyplot_restore),
    "atexit": (_atexit_capture, _atexit_restore),
    "hooks": (_hooks_capture, _hooks_restore),
    "streams": (_streams_capture, _streams_restore),
    "signals": (_signals_capture, _signals_restore),
    "tracing": (_tracing_capture, _tracing_restore),
}


class ThreadView:
    """The main thread's own state, for a capture made by another thread (a checkpoint
    that a signal or a timer asked for: teleporter's helper thread captures the program
    with its main thread parked): what sys.gettrace(), sys.getprofile(), the current
    contextvars.Context, the blocked signals and the current frame are in the main
    thread."""

    __slots__ = ("context", "trace", "profile", "frame", "sigmask")

    def __init__(self, context: Any, trace: Any, profile: Any, frame: Any, sigmask: Any) -> None:
        self.context, self.trace, self.profile = context, trace, profile
        self.frame, self.sigmask = frame, sigmask


# Set while a capture reads another thread's state (see ThreadView).
_view: ThreadView | None = None


def capture(view: ThreadView | None = None) -> dict[str, Any]:
    """What each carrier has to carry (carriers with nothing to carry are left out). With
    a `view`, per-thread state is the main thread's (the capture runs in another)."""
    global _view
    # contextvars (and decimal's context, one of them) as the thread sees them outside the
    # contexts that Context.run calls in its stack entered: those travel with those calls
    # and are entered again by them at the destination.
    current = view.context if view is not None else None
    outer = _impl.outer_context(current)
    base = outer if outer is not None else current
    main = base if base is not None else _impl.current_context()
    if main is not None:  # tokens taken there are taken again in the destination's own
        _token_homes[id(main)] = (main, None)
    if view is None:
        return _capture_all() if outer is None else outer.copy().run(_capture_all)
    import contextvars

    context = base.copy() if base is not None else contextvars.Context()
    _view = view
    try:
        return context.run(_capture_all)
    finally:
        _view = None


def _capture_all() -> dict[str, Any]:
    found = {}
    for name, (take, _give) in CARRIERS.items():
        try:
            state = take()
        except TeleportError:
            raise
        except Exception as e:  # a state this carrier does not know: refused, by name
            raise TeleportError(
                f"cannot teleport: cannot read the program's {name} settings "
                f"({type(e).__name__}: {e})"
            ) from None
        if state is not None:
            found[name] = state
    return found


def restore(states: dict[str, Any]) -> list[Callable[[], list[tuple[Any, ...]]]]:
    """Restores every carrier's state; returns what must wait until the program's frames
    are rebuilt (see ``_tracing_restore``)."""
    later = []
    for name, (_take, give) in CARRIERS.items():
        if name in states:
            try:
                after = give(states[name])
            except PayloadError:
                raise
            except Exception as e:
                raise PayloadError(
                    f"cannot restore the program's {name} settings here: {type(e).__name__}: {e}"
                ) from None
            if after is not None:
                later.append(after)
    return later
