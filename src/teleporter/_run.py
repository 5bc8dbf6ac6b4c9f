"""Checkpoints a program was not written for: ``teleporter run`` and ``checkpoint_on``.

A watch arms the program: each signal's handler is a builtin of teleporter's core (no
Python frame of teleporter's runs in the program's main thread), which starts a thread of
teleporter's own (in no table of ``threading``; no move carries it). That thread parks
every thread of the program, the main thread included, at its next safe point, writes the
checkpoint (atomically, durably, after a trial rebuild), says so in one line on stderr
and ends the process with EX_TEMPFAIL (75): running the same command again continues the
program. No thread of teleporter's exists until a signal comes, but with ``every``: one
thread then writes a checkpoint every so many seconds and lets the program go on as soon
as its state is copied (that thread is one more in the process's count of threads, which
3.12+'s warning about fork() in a threaded process sees).

A checkpoint that cannot be taken leaves the previous one in place and the program
running, and says why in one line (or, with ``exit_if_refused``, the signal then does
what it does by default). When the program ends (its atexit callbacks have run), the
checkpoint is removed: the same command starts it afresh.
"""

from __future__ import annotations

import os
import sys

from ._checkpoint import _refuse
from .errors import PayloadError, TeleportError, escape

TYPE_CHECKING = False  # typing itself costs start-up time
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any, NoReturn

EX_TEMPFAIL = 75  # sysexits.h: a temporary failure, run the same command again

# How long a checkpoint asked for by a signal waits for the program's threads to reach a
# safe point. Schedulers give a grace period between SIGTERM and SIGKILL (Slurm's
# KillWait and Kubernetes' terminationGracePeriodSeconds default to 30 s).
SIGNAL_SAFE_POINT_TIMEOUT = 20.0
# A checkpoint on a signal refused for where the program stands (its main thread inside a
# generator that sum() drives, a thread in a socket call) is tried again this often,
# within SIGNAL_SAFE_POINT_TIMEOUT of the signal: the program moves on meanwhile.
RETRY_PAUSE = 0.01


def _signal_name(sig: int) -> str:
    import signal

    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def signal_number(spec: str | int) -> int:
    """A signal given by number, name or name without SIG (TERM, SIGUSR1, 15); ValueError
    for one that does not exist or cannot be caught."""
    import signal

    if isinstance(spec, int) and not isinstance(spec, bool):
        number = int(spec)
    elif isinstance(spec, str) and spec.isdigit():
        number = int(spec)
    elif isinstance(spec, str):
        name = spec.upper()
        name = name if name.startswith("SIG") else "SIG" + name
        member = getattr(signal.Signals, name, None) if name.isidentifier() else None
        if member is None:
            raise ValueError(f"no signal named {spec!r}")
        number = int(member)
    else:
        raise ValueError(f"a signal is a name or a number, not {type(spec).__name__}")
    if number not in signal.valid_signals():
        raise ValueError(f"no signal numbered {number}")
    if number in (signal.SIGKILL, signal.SIGSTOP):
        raise ValueError(f"{_signal_name(number)} cannot be caught")
    return number


def _say(message: str) -> None:
    """One line on stderr, after what the program wrote there."""
    try:
        sys.stderr.flush()
    except Exception:
        pass
    try:
        os.write(2, f"teleporter: {escape(message)}\n".encode(errors="replace"))
    except OSError:
        pass


def requeue_job(job: str) -> str | None:
    """Puts the Slurm job `job` back in its queue (``scontrol requeue``): it runs its batch
    script again, whose ``teleporter run`` then continues from the checkpoint. None, or
    why it could not."""
    import subprocess

    try:
        done = subprocess.run(
            ["scontrol", "requeue", job],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"the Slurm job {job} could not be requeued ({e}): run it again to continue"
    if done.returncode != 0:
        lines = done.stderr.decode(errors="replace").strip().splitlines()
        said = lines[-1] if lines else f"exit code {done.returncode}"
        return (
            f"the Slurm job {job} could not be requeued (scontrol: {said}): run it again to "
            "continue"
        )
    return None


class Watch:
    """Checkpoints the running program to `path` on `signals` and every `every` seconds
    (see the module's documentation). `identity` is written in the checkpoint's meta: the
    program it belongs to."""

    def __init__(
        self,
        path: str,
        signals: Iterable[int],
        every: float | None,
        key: bytes | None,
        exit_if_refused: bool,
        identity: dict[str, Any],
        safe_point: float | None = None,
        requeue: str | None = None,
    ) -> None:
        import _thread

        self.path = os.path.abspath(path)
        self.signals = list(dict.fromkeys(signals))
        self.every, self.key = every, key
        self.exit_if_refused, self.identity = exit_if_refused, identity
        # The seconds a checkpoint waits for the program's threads to reach a safe point
        # (None: SIGNAL_SAFE_POINT_TIMEOUT for a signal's, the API's default else).
        self.safe_point = safe_point
        # The Slurm job to requeue after a signal's checkpoint (teleporter run --requeue).
        self.requeue = requeue
        self.ending = False
        self.busy = _thread.allocate_lock()  # held while a checkpoint is taken
        self.stop: Any = None  # released to end the periodic thread

    def start(self) -> None:
        """Arms the program (from its main thread)."""
        import _thread
        import atexit
        import signal

        from . import _teleporter_impl as _impl
        from ._threads import note_main, own_thread

        note_main()
        _impl.set_wake_callback(self._on_signal)
        for sig in self.signals:
            signal.signal(sig, _impl.signal_wake)
            _impl.forward_signal(sig)  # a forked child: the default action, at once
        atexit.register(self.disarm)  # teleporter's own: runs after the program's
        if self.every:
            self.stop = _thread.allocate_lock()
            self.stop.acquire()
            own_thread(self._periodic)

    def _on_signal(self, sig: int) -> None:
        """In a thread that signal_wake started for this signal."""
        from ._threads import as_own_thread

        with as_own_thread():
            self._take(sig)

    def _periodic(self) -> None:
        assert self.every is not None
        while not self.stop.acquire(timeout=self.every):
            self._take(None)

    def _take(self, sig: int | None) -> None:
        """Takes one checkpoint: for a signal, then ends the process; else lets the
        program go on."""
        import time

        from . import _checkpoint
        from ._api import _OneAtATime
        from ._threads import WhereRefused

        why = None
        start = time.monotonic()
        tries = 0
        with self.busy:
            while not self.ending:
                tries += 1
                limit = self.safe_point
                if limit is None and sig is not None:
                    limit = SIGNAL_SAFE_POINT_TIMEOUT
                left = None if limit is None else limit - (time.monotonic() - start)
                try:
                    # Not while the program moves or checkpoints itself (tried again).
                    with _OneAtATime("checkpoint", WhereRefused):
                        timeout = None if left is None else max(left, 0.0)
                        extra = {"run": self.identity}
                        # An asyncio program: its loop takes it between two callbacks.
                        if not _checkpoint.write_between_callbacks(
                            self.path, self.key, timeout, sig is not None, extra
                        ):
                            _checkpoint.write_whole(
                                self.path,
                                self.key,
                                timeout,
                                resume_program=sig is None,
                                extra=extra,
                                said=limit,
                            )
                except WhereRefused as e:
                    if sig is not None and left is not None and left > RETRY_PAUSE:
                        time.sleep(RETRY_PAUSE)  # the program goes on a little, and again
                        continue
                    why = str(e)
                    if tries > 1:
                        why += f" (tried {tries} times in {time.monotonic() - start:.1f} s)"
                except TeleportError as e:
                    why = str(e)
                except Exception as e:  # never a traceback from teleporter's own thread
                    why = f"{type(e).__name__}: {e}"
                break
            else:
                if sig is not None:  # retried until the program's main code ended
                    _say(f"no checkpoint on {_signal_name(sig)}: the program ended first")
                return
            if why is None and sig is not None:
                from .transports.local import flush_stdio, release_semaphores

                flush_stdio()  # what the program printed before the checkpoint, once
                release_semaphores()  # the resumed program makes its own
                then = "run the same command again to continue it"
                if self.requeue is not None:
                    then = (
                        f"the Slurm job {self.requeue} is requeued and continues when it runs again"
                    )
                _say(
                    f"checkpoint of the program written to {self.path} on "
                    f"{_signal_name(sig)}; {then}"
                )
                # Said first: the requeue ends this process soon after.
                if self.requeue is not None and (why := requeue_job(self.requeue)) is not None:
                    _say(why)
                os._exit(EX_TEMPFAIL)
        if why is None or self.ending:
            return
        for prefix in ("cannot teleport: ", "cannot checkpoint: "):
            why = why[len(prefix) :] if why.startswith(prefix) else why
        when = f"on {_signal_name(sig)}" if sig is not None else "(periodic)"
        if sig is not None and self.exit_if_refused:
            _say(f"no checkpoint {when}: {why}; {self.path} keeps the previous one")
            from . import _teleporter_impl as _impl

            _impl.die_by_signal(sig)  # what the signal would have done
            return
        _say(
            f"no checkpoint {when}: {why}; {self.path} keeps the previous one and the "
            "program goes on"
        )

    def disarm(self) -> None:
        """The program's main code has ended: a signal now does what it does by default
        (its non-daemon threads may still run, but nothing of it can be captured with
        its main thread in the interpreter's shut-down), and the last checkpoint is
        removed (the same command starts the program afresh)."""
        import signal

        from . import _teleporter_impl as _impl

        if self.ending:
            return
        self.ending = True
        _impl.set_wake_callback(None)
        for sig in self.signals:
            if signal.getsignal(sig) is _impl.signal_wake:
                signal.signal(sig, signal.SIG_DFL)
        if self.every:
            self.stop.release()
        with self.busy:  # a checkpoint being written finishes first
            pass
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        except OSError as e:
            _say(f"cannot remove the checkpoint {self.path}: {e.strerror or e}")


# ---- resuming a program's own checkpoint ---------------------------------------------------


def read_own(path: str, identity: dict[str, Any], key: bytes | None) -> Any:
    """The rebuilt program of the checkpoint at `path`, which must be one that a watch
    with this `identity` wrote; else PayloadError (TeleportError for a failure of the
    rebuild itself), with nothing of it run."""
    import json

    from . import _checkpoint, _payload, _state

    fd = _checkpoint.open_checkpoint(path)
    try:
        meta, body, buffers, info = _payload.read(fd, key=key)
    finally:
        os.close(fd)
    try:
        fields = json.loads(meta)
    except ValueError:
        fields = None
    found = fields.get("run") if isinstance(fields, dict) else None
    if found != identity:
        if not isinstance(found, dict):
            raise PayloadError(
                f"{path!r} holds a checkpoint that neither `teleporter run` nor "
                f"checkpoint_on() wrote (continue it with `teleporter resume`, or remove it)"
            )
        raise PayloadError(
            f"{path!r} holds the checkpoint of another program ({_describe(found)}), "
            f"not of {_describe(identity)}"
        )
    return _state.rebuild(body, *_payload.split_buffers(buffers, info))


def _describe(identity: dict[str, Any]) -> str:
    import shlex

    args = identity.get("args")
    words = [str(a) for a in args] if isinstance(args, list) else []
    if "module" in identity:
        return shlex.join(["-m", str(identity["module"]), *words])
    return shlex.join([str(identity.get("script", identity.get("program"))), *words])


def resume_own(watch: Watch, key: bytes | None) -> NoReturn:
    """Continues the program saved at the watch's path, armed by the watch; one line and
    exit 2 when it cannot."""
    from . import _boot

    try:
        restored = read_own(watch.path, watch.identity, key)
    except BaseException as e:  # whatever went wrong is one line, never a traceback
        reason, code = _boot.failure(e)
        _refuse(reason, code)
    watch.start()
    _boot.execute(restored, watch.disarm)
    sys.exit(0)


# ---- from the program itself ------------------------------------------------------------

_armed: Watch | None = None


def checkpoint_on(
    path: str | os.PathLike[str],
    signals: Iterable[int | str] | None = None,
    every: float | None = None,
    key: bytes | str | None = None,
    exit_if_refused: bool = False,
    safe_point_timeout: float | None = None,
) -> None:
    """See teleporter.checkpoint_on."""
    import signal as _signal
    import threading

    from ._api import _seconds, _timeout, _valid_path
    from ._checkpoint import configured_key

    global _armed
    checked = _valid_path("path", path, True)
    assert checked is not None
    if threading.current_thread() is not threading.main_thread():
        raise TeleportError("checkpoint_on() must be called from the main thread")
    if _armed is not None:
        raise TeleportError(f"checkpoint_on() is already armed (to {_armed.path})")
    sigs = [signal_number(s) for s in (signals if signals is not None else [_signal.SIGTERM])]
    every = _timeout(every, "every")
    safe_point = None
    if safe_point_timeout is not None:
        safe_point = _seconds(safe_point_timeout, "safe_point_timeout")
    secret = configured_key(key)
    program = os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else "<stdin>"
    identity = {"program": program, "args": list(sys.argv[1:]), "by": "checkpoint_on"}
    watch = Watch(checked, sigs, every, secret, exit_if_refused, identity, safe_point)
    if os.path.lexists(watch.path):
        from . import _boot

        restored = read_own(watch.path, identity, secret)
        _armed = watch
        watch.start()
        _boot.execute(restored)
        sys.exit(0)
    _armed = watch
    watch.start()


# ---- starting a program --------------------------------------------------------------------


def _main_module(name: str, path: str | None, spec: Any, loader: Any) -> Any:
    import builtins
    import types

    main = types.ModuleType("__main__")
    d = main.__dict__
    d.update(
        __file__=path,
        __cached__=getattr(spec, "cached", None) if spec is not None else None,
        __loader__=loader,
        __package__=spec.parent if spec is not None else None,
        __spec__=spec,
        __builtins__=builtins,
    )
    if path is None:
        del d["__file__"]
    return main


def start_script(script: str, args: list[str], watch: Watch) -> NoReturn:
    """Runs `script` as ``python script.py args`` would, armed by `watch`."""
    import importlib.machinery

    try:
        with open(script, "rb") as f:
            source = f.read()
        code = compile(source, script, "exec", dont_inherit=True)
    except OSError as e:
        _refuse(f"cannot open {script!r}: {e.strerror or e}", 2)
    except (SyntaxError, ValueError) as e:
        import traceback

        traceback.print_exception(e, limit=0)
        sys.exit(1)
    loader = importlib.machinery.SourceFileLoader("__main__", script)
    main = _main_module("__main__", script, None, loader)
    sys.argv[:] = [script, *args]
    sys.path[0] = os.path.dirname(os.path.realpath(script))
    _execute(code, main, watch)


def start_module(name: str, args: list[str], watch: Watch) -> NoReturn:
    """Runs module `name` as ``python -m name args`` would, armed by `watch`."""
    import importlib.util

    sys.path[0] = os.getcwd()
    try:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations is not None:
            spec = importlib.util.find_spec(name + ".__main__")  # a package: its __main__
        if spec is None or spec.loader is None:
            raise ImportError(f"No module named {name}")
        code = spec.loader.get_code(spec.name)  # type: ignore[attr-defined]
        if code is None:
            raise ImportError(f"No code object available for {spec.name}")
    except (ImportError, AttributeError, ValueError) as e:
        _refuse(f"cannot run module {name!r}: {e}", 1)
    main = _main_module("__main__", spec.origin, spec, spec.loader)
    sys.argv[:] = [spec.origin or name, *args]
    _execute(code, main, watch)


def _execute(code: Any, main: Any, watch: Watch) -> NoReturn:
    from . import _boot, _state

    sys.modules["__main__"] = main
    _state.resumed_module_code = code  # an uncaught exception's traceback starts there
    watch.start()

    def run() -> None:
        exec(code, main.__dict__)

    _boot.conclude(run, ended=watch.disarm)
    sys.exit(0)
