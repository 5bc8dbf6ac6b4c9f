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

import os
import sys

from .. import _payload
from .._guard import HELD, Guard
from .._target import exit_code, read_to_end, write_all
from ..errors import TeleportError, escape

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
FORWARDED = HELD


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
    signal handler becomes a no-op, and the program's interval timers stop here (they run
    on at the destination; they would also outlive the exec into the server)."""

    def forward(_s: int, _f: Any) -> None:
        pass

    from .. import _guard

    for sig in range(1, _signal.NSIG):
        if sig in _guard.held:
            continue  # still held, into the guard's pipe that the server drains
        try:
            if sig in FORWARDED or callable(_signal.getsignal(sig)):
                _signal.signal(sig, forward)
        except (OSError, ValueError, RuntimeError):
            pass
    for timer in (_signal.ITIMER_REAL, _signal.ITIMER_VIRTUAL, _signal.ITIMER_PROF):
        _signal.setitimer(timer, 0)
    release_semaphores()


def release_semaphores() -> None:
    """The named semaphores of the program's multiprocessing locks (named from 3.14 on,
    whose default start method is forkserver) are this process's, and their objects do not
    travel (the destination makes its own): unlinked here, as the program's own exit would
    have, so that multiprocessing's resource tracker finds nothing leaked when this
    process ends."""
    util = sys.modules.get("multiprocessing.util")
    synchronize = sys.modules.get("multiprocessing.synchronize")
    if util is None or synchronize is None:
        return
    cleanup = getattr(synchronize.SemLock, "_cleanup", None)
    for finalizer in list(getattr(util, "_finalizer_registry", {}).values()):
        if getattr(finalizer, "_callback", None) is cleanup:
            try:
                finalizer()
            except Exception:
                pass  # gone already: nothing to release


class LocalMove:
    """One local destination (or a fork's supervisor), started at once; ``hand_off`` then
    gives it the program, ``cancel`` stops it when the program could not be captured."""

    def __init__(self, python: str, env: Mapping[str, str] | None, copies: int | None) -> None:
        import _socket

        self.stdin_r, self.stdin_w = os.pipe()
        # A socket: the destination says whether it took the program, and later hands its
        # successors over to this process's server (see teleporter._serve).
        ours, theirs = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_STREAM)
        self.control_r, control_w = ours.detach(), theirs.detach()
        for fd in (self.control_r, control_w):  # whatever socket.setdefaulttimeout() says
            os.set_blocking(fd, True)
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
        word = self._verdict()
        if word != b"A" or not guard.commit():
            if word[:1] == b"F":
                self._fail(guard, f"the destination could not rebuild the program: {_said(word)}")
            self._fail(guard, "the destination exited with code {code} before taking the program")
        try:
            write_all(self.stdin_w, GO)  # from here on, the destination runs the program
        except OSError:
            guard.uncommit()
            self._fail(guard, "the destination exited with code {code} before taking the program")
        self._serve(guard)

    def _verdict(self) -> bytes:
        """b"A" when the destination took the program (it keeps the socket for later), else
        b"F" and its reason, or what it said before it died."""
        try:
            word = os.read(self.control_r, 1)
        except OSError:
            word = b""
        if word != b"A":
            word += read_to_end(self.control_r)
            self.control_r = -1
        return word

    def _serve(self, guard: Guard) -> NoReturn:
        """From the hand-off on, the origin only serves the program (see teleporter._serve):
        it hands the new destination to the server of an earlier local move when it is
        itself the destination of one, else it becomes that server."""
        from .. import _boot

        pid, stdin_w, control = self.pid, self.stdin_w, self.control_r
        from .. import _serve

        for signum in guard.finish():  # what came since the word to run
            _serve.kill(pid, signum)
        try:
            write_all(stdin_w, pending_stdin())
        except OSError:
            pass
        flush_stdio()
        stand_down()  # the program's timers would outlive the exec
        home = _boot.home_channel()
        if home >= 0:
            _hand_home(home, pid, stdin_w, control, guard.astray)
        from .. import _teleporter_impl

        try:
            _teleporter_impl.become_subreaper()
        except OSError:
            pass  # a chain of moves then keeps its intermediate processes
        astray = guard.astray
        if become_server((stdin_w, control, astray, guard.wakeup)):
            for fd in (stdin_w, control, astray):
                os.set_inheritable(fd, True)
            argv = [sys.executable, "-E", "-s", "-S", os.path.join(HOME, "_serve.py")]
            fds = (pid, stdin_w, control, astray)
            try:
                os.execv(sys.executable, [*argv, "local", *map(str, fds)])
            except OSError:  # serve from this interpreter, then
                pass
        _serve.local(pid, stdin_w, control, astray, guard.wakeup)


# Above this resident size, the origin execs a fresh interpreter to serve the program: its
# start-up (about 10 ms of CPU while the destination runs, measured to add 13 ms to a
# small move's whole run) buys the program's memory back.
SERVE_FRESH_ABOVE = 64 << 20


def become_server(keep: tuple[int, ...]) -> bool:
    """Whether the origin should exec the server (see teleporter._serve): when it holds
    much memory, or threads (a library's daemon helper) that must stop here. Otherwise it
    serves from this interpreter, after closing what the exec would have closed (the
    program's files, sockets and pipes; `keep` stays open)."""
    import _thread

    try:
        with open("/proc/self/statm", "rb") as f:
            resident = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        resident = SERVE_FRESH_ABOVE
    if resident >= SERVE_FRESH_ABOVE or _thread._count():
        return True
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd not in keep:
            try:
                if not os.get_inheritable(fd):
                    os.close(fd)
            except OSError:
                pass  # the listing's own descriptor, closed already
    return False


def _hand_home(home: int, pid: int, stdin_w: int, control: int, astray: int) -> NoReturn:
    """This process is the destination of an earlier local move, whose origin serves it:
    gives that server the new destination (`pid`, its stdin pipe and control socket), passes
    on what is left of this process's stdin, and exits; the server adopts the destination."""
    import _socket
    import array

    from .. import _serve

    sock = _socket.socket(fileno=home)
    sock.settimeout(None)  # whatever socket.setdefaulttimeout() says
    fds = array.array("i", [stdin_w, control]).tobytes()
    try:
        sock.sendmsg(
            [b"P" + pid.to_bytes(8, "big")], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, fds)]
        )
        # The server stops writing to this process's stdin: the rest of it is read to its
        # end and passed on, after what sys.stdin had buffered (sent already).
        while data := os.read(0, 65536):
            write_all(stdin_w, data)
        sock.sendall(b"D")
    except OSError:
        pass
    # Sent here before the server knew of `pid`: blocked in this thread, or held (the
    # move's pipe) when another thread took them.
    try:
        held = os.read(astray, 256)
    except OSError:
        held = b""
    for signum in [*_signal.sigpending(), *held]:
        _serve.kill(pid, signum)
    os._exit(0)


def _said(word: bytes) -> str:
    """A destination's one-line reason (after its b"F"), safe to print."""
    return printable(word[1:])


def printable(data: bytes, limit: int = 1000) -> str:
    """Bytes from another process as one line of text: undecodable bytes replaced,
    control characters escaped, and at most `limit` characters."""
    text = data.decode(errors="replace")
    return escape(text[:limit] + "..." if len(text) > limit else text)
