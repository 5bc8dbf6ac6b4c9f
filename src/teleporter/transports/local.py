"""A move into a local process running the same interpreter, without a shell in between.

The destination is started first, so that its interpreter starts while the origin
captures and serializes the program. The payload streams through its stdin (large
buffers through a memory file it maps, fd 3); it says on a control pipe (fd 4) whether it
rebuilt the program, then waits for one more byte on its stdin: ``G``, the word to run
it, which the origin sends only if nothing cancelled the move (see ``teleporter._guard``:
a signal or the deadline before that word cancels it, and the origin keeps the program).
End of file instead means the origin kept the program, or died: the destination leaves.
After the word the origin only serves: it forwards its own stdin (including what its
``sys.stdin`` had already buffered) and terminating signals, and exits with the
destination's exit code. The destination's stdout and stderr are the origin's own.

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
from .._guard import Guard
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
GO = b"G"  # after the payload on the destination's stdin: run the program
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
            os.killpg(self.pid, _signal.SIGKILL)  # a supervisor and its copies too
        except OSError:
            pass
        return exit_code(os.waitpid(self.pid, 0)[1])

    def cancel(self) -> None:
        self._stop()

    def _fail(self, guard: Guard, why: str) -> NoReturn:
        """Ends a move that did not happen: the destination stopped and reaped, the
        program's signal handling back (held signals handled now), then TeleportError."""
        code = self._stop()
        guard.release()
        raise TeleportError(guard.reason(why.replace("{code}", str(code))))

    def hand_off(
        self, snapshot: tuple[bytes, memoryview, list[Any]], guard: Guard, timeout: float | None
    ) -> NoReturn:
        """Streams the payload; returns only by raising TeleportError when the destination
        did not take the program. Once it has, the origin serves it and exits with its
        exit code."""
        pid = self.pid
        # The destination's process group: a fork's supervisor and its copies with it.
        guard.watch(lambda: os.killpg(pid, _signal.SIGKILL))
        try:
            _payload.write(self.stdin_w, *snapshot, mapped_fd=self.mapped)
        except OSError as e:  # died early, or no memory for the buffers' file
            word = read_to_end(self.control_r) if isinstance(e, BrokenPipeError) else b""
            self.control_r = -1
            if word[:1] == b"F":
                self._fail(guard, f"the destination refused the program: {_said(word)}")
            self._fail(
                guard,
                "the destination exited with code {code} before taking the program"
                if isinstance(e, BrokenPipeError)
                else f"cannot send the program: {e.strerror or e}",
            )
        os.close(self.mapped)
        self.mapped = -1
        if timeout is not None:
            guard.arm(timeout, f"the destination did not answer within {timeout:g} s")
        word = read_to_end(self.control_r)
        self.control_r = -1
        if word != b"A" or not guard.commit():
            if word[:1] == b"F":
                self._fail(guard, f"the destination could not rebuild the program: {_said(word)}")
            self._fail(guard, "the destination exited with code {code} before taking the program")
        try:
            write_all(self.stdin_w, GO)  # from here on, the destination runs the program
        except OSError:
            guard.uncommit()
            self._fail(guard, "the destination exited with code {code} before taking the program")
        self._serve(guard.wake_r, guard.finish())

    def _serve(self, wake_r: int, late: bytes) -> NoReturn:
        """From the hand-off on, the origin only serves the program: its stdin and
        signals go to the destination, and it exits with the destination's exit code.
        Signals are taken through the wakeup fd (still the guard's): whichever thread
        of this process receives one, the main loop sees it."""
        import select

        pid, w = self.pid, self.stdin_w
        stand_down()
        for signum in late:
            try:
                os.kill(pid, signum)
            except OSError:
                pass
        try:
            write_all(w, pending_stdin())
        except OSError:
            pass
        _thread.start_new_thread(_pump, (w,))
        ended = os.pidfd_open(pid)
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


def _said(word: bytes) -> str:
    """A destination's one-line reason (after its b"F"), safe to print."""
    return printable(word[1:])


def printable(data: bytes, limit: int = 1000) -> str:
    """Bytes from another process as one line of text: undecodable bytes replaced,
    control characters escaped, and at most `limit` characters."""
    text = data.decode(errors="replace")
    if len(text) > limit:
        text = text[:limit] + "..."
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
