"""A move into a local process running the same interpreter, without a shell in between.

The destination is started first, so that its interpreter starts while the origin
captures and serializes the program. The payload streams through its stdin (large
buffers through a memory file it maps, fd 3); it says on a control pipe (fd 4) whether it
rebuilt the program, and only then does the origin let go: it forwards its own stdin
(including what its ``sys.stdin`` had already buffered) and terminating signals, and exits
with the destination's exit code. The destination's stdout and stderr are the origin's own.

``fork(n)`` starts a supervisor instead (``teleporter._supervisor``) that rebuilds n copies.

Only low-level modules are used (``os.posix_spawnp``, ``_thread``, ``_signal``): this runs
in the middle of the user's program, and ``subprocess``/``threading``/``signal`` would add
tens of milliseconds of imports to every move.
"""

from __future__ import annotations

import _thread
import os
import sys

from .. import _payload
from .._target import exit_code, read_to_end, write_all
from ..errors import TeleportError

TYPE_CHECKING = False  # typing itself costs start-up time
if TYPE_CHECKING:
    import signal as _signal
    from collections.abc import Mapping
    from typing import Any, NoReturn
else:
    import _signal  # the C module behind signal, without its enum wrappers

# Where this teleporter was imported from, absolute: the destination finds the same one
# even when the origin relied on a relative PYTHONPATH and has changed directory since.
HOME = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_PARENT = os.path.dirname(HOME)
MAPPED_FD, CONTROL_FD = 3, 4
BOOT = (
    f"import sys; sys.path.insert(0, {_PARENT!r}); "
    f"import teleporter._boot as b; b.main({MAPPED_FD}, {CONTROL_FD})"
)
BOOT_FORK = (
    f"import sys; sys.path.insert(0, {_PARENT!r}); "
    f"import teleporter._supervisor as s; s.local({{n}}, {MAPPED_FD}, {CONTROL_FD})"
)
FORWARDED = (_signal.SIGINT, _signal.SIGTERM, _signal.SIGHUP, _signal.SIGQUIT)


def flush_stdio() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass


def pending_stdin() -> bytes:
    """What the origin's sys.stdin has read from fd 0 but the program has not consumed."""
    stdin = sys.stdin
    if stdin is None or stdin.closed:
        return b""
    try:
        if stdin.fileno() != 0:
            return b""
        os.set_blocking(0, False)
    except (OSError, ValueError):
        return b""
    try:
        text = stdin.read(1 << 30)
    except (OSError, ValueError, TypeError):
        text = ""
    finally:
        os.set_blocking(0, True)
    return text.encode(stdin.encoding or "utf-8", stdin.errors or "strict") if text else b""


def stand_down() -> None:
    """After the hand-off the origin runs none of the program's code: every Python-level
    signal handler becomes a no-op (the signal is still seen through the wakeup fd and
    forwarded to the program), and the program's interval timers stop here (they run on
    at the destination)."""

    def forward(_s: int, _f: Any) -> None:
        pass

    for sig in range(1, _signal.NSIG):
        try:
            if sig in FORWARDED or callable(_signal.getsignal(sig)):
                _signal.signal(sig, forward)
        except (OSError, ValueError, RuntimeError):
            pass
    for timer in (_signal.ITIMER_REAL, _signal.ITIMER_VIRTUAL, _signal.ITIMER_PROF):
        _signal.setitimer(timer, 0)


def _pump(fd: int) -> None:
    """Forwards the origin's stdin to the destination until either side ends."""
    try:
        while True:
            data = os.read(0, 65536)
            if not data:
                break
            write_all(fd, data)
    except OSError:
        pass
    finally:
        os.close(fd)


class LocalMove:
    """One local destination (or a fork's supervisor), started at once; ``hand_off`` then
    gives it the program, ``cancel`` stops it when the program could not be captured."""

    def __init__(self, python: str, env: Mapping[str, str] | None, copies: int | None) -> None:
        self.stdin_r, self.stdin_w = os.pipe()
        self.control_r, control_w = os.pipe()
        self.mapped = os.memfd_create("teleporter-buffers", os.MFD_CLOEXEC)
        actions: list[tuple[Any, ...]] = [
            (os.POSIX_SPAWN_DUP2, self.stdin_r, 0),
            (os.POSIX_SPAWN_CLOSE, self.stdin_w),
            (os.POSIX_SPAWN_CLOSE, self.control_r),
            (os.POSIX_SPAWN_DUP2, self.mapped, MAPPED_FD),
            (os.POSIX_SPAWN_DUP2, control_w, CONTROL_FD),
        ]
        boot = BOOT if copies is None else BOOT_FORK.format(n=copies)
        argv = [python, *["-O"] * sys.flags.optimize, "-c", boot]
        flush_stdio()
        try:
            # Its own process group: a Ctrl-C at the terminal reaches the origin only,
            # which forwards it once.
            self.pid = os.posix_spawn(
                python, argv, {**os.environ, **(env or {})}, file_actions=actions, setpgroup=0
            )
        except OSError as e:
            for fd in (self.stdin_r, self.stdin_w, self.control_r, self.mapped):
                os.close(fd)
            raise TeleportError(f"cannot start {python!r}: {e.strerror}") from None
        finally:
            os.close(control_w)
        os.close(self.stdin_r)

    def _stop(self) -> int:
        for fd in (self.stdin_w, self.control_r, self.mapped):
            if fd >= 0:
                os.close(fd)
        self.stdin_w = self.control_r = self.mapped = -1
        try:
            os.kill(self.pid, _signal.SIGKILL)
        except OSError:
            pass
        return exit_code(os.waitpid(self.pid, 0)[1])

    def cancel(self) -> None:
        self._stop()

    def hand_off(self, snapshot: tuple[bytes, memoryview, list[Any]]) -> NoReturn:
        """Streams the payload; returns only by raising TeleportError when the destination
        did not take the program. Once it has, the origin serves it and exits with its
        exit code."""
        try:
            _payload.write(self.stdin_w, *snapshot, mapped_fd=self.mapped)
        except OSError as e:  # died early, or no memory for the buffers' file
            word = read_to_end(self.control_r) if isinstance(e, BrokenPipeError) else b""
            self.control_r = -1
            code = self._stop()
            if word[:1] == b"F":
                raise TeleportError(f"the destination refused the program: {word[1:].decode()}")
            raise TeleportError(
                f"the destination exited with code {code} before taking the program"
                if isinstance(e, BrokenPipeError)
                else f"cannot send the program: {e.strerror or e}"
            ) from None
        os.close(self.mapped)
        self.mapped = -1
        # A signal that comes while the destination decides waits for the decision: then
        # it goes to whichever process has the program.
        blocked = _signal.pthread_sigmask(_signal.SIG_BLOCK, FORWARDED)
        word = read_to_end(self.control_r)
        self.control_r = -1
        if word != b"A":
            _signal.pthread_sigmask(_signal.SIG_SETMASK, blocked)
            code = self._stop()
            if word[:1] == b"F":
                raise TeleportError(
                    f"the destination could not rebuild the program: {word[1:].decode()}"
                )
            raise TeleportError(
                f"the destination exited with code {code} before taking the program"
            )
        # The program is handed over: from here on the origin only serves it. Signals are
        # taken through the wakeup fd: whichever thread of this process receives one
        # (a daemon thread of the program, the stdin pump), the main loop sees it.
        import select

        pid, w = self.pid, self.stdin_w
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_w, False)
        _signal.set_wakeup_fd(wake_w)
        stand_down()
        try:
            write_all(w, pending_stdin())
        except OSError:
            pass
        _thread.start_new_thread(_pump, (w,))
        ended = os.pidfd_open(pid)
        _signal.pthread_sigmask(_signal.SIG_SETMASK, blocked)
        poller = select.poll()
        poller.register(ended, select.POLLIN)
        poller.register(wake_r, select.POLLIN)
        while True:
            for fd, _ev in poller.poll():
                if fd == ended:
                    _, status = os.waitpid(pid, 0)
                    os._exit(exit_code(status))
                for signum in os.read(wake_r, 64):
                    try:
                        os.kill(pid, signum)
                    except OSError:
                        pass
