"""A destination that runs the program in child processes of its own and serves them.

Used for ``fork(n)`` (n copies, each told its index) and for every move through a
launcher (one copy, or n). The supervisor reads the payload once; each copy rebuilds the
program from it in a forked child and reports back; only when every copy is ready does the
supervisor tell the origin that the program was accepted, and only then do the copies
start running. If one fails, all are stopped and the origin gets the reason (it raises
TeleportError and keeps running).

Local fork: the copies write to the inherited stdout and stderr, copy 0 reads the
inherited stdin (the others read /dev/null), and the supervisor forwards the signals it
receives and exits with the first non-zero exit code among the copies, else 0.

Through a launcher (``framed``): the launcher's stdin and stdout carry frames (see
``_target``). The copies' stdio are pipes; the supervisor sends their output as frames
(``1`` stdout, ``2`` stderr, ``X`` the exit code at the end) and takes the origin's
(``D`` stdin data for copy 0, ``E`` end of stdin, ``K`` a signal for every copy). If the
connection to the origin drops, the copies get SIGHUP.
"""

from __future__ import annotations

import os

from . import _boot, _state
from ._guard import HELD
from ._target import Frames, exit_code, frame, read_to_end, write_all

TYPE_CHECKING = False  # typing itself costs start-up time
if TYPE_CHECKING:
    import signal as _signal
    from collections.abc import Callable
    from typing import Any, NoReturn
else:
    import _signal  # the C module behind signal, without its enum wrappers

_FORWARDED = HELD


class _Copy:
    __slots__ = ("index", "pid", "ready", "go", "stdin", "stdout", "stderr")

    def __init__(self, index: int, pid: int, fds: dict[str, int]) -> None:
        self.index, self.pid = index, pid
        self.ready, self.go = fds["ready"], fds["go"]
        self.stdin, self.stdout, self.stderr = fds["stdin"], fds["stdout"], fds["stderr"]


def _become_copy(index: int, fork: bool, payload: tuple[Any, ...], fds: dict[str, int]) -> Any:
    """In a forked child: rebuild the program, report, wait for the word to run. The
    signals the supervisor held stay blocked until the program runs (hold_signals)."""
    try:
        restored = _state.rebuild(*payload)
        if fork:
            restored.result = index
    except BaseException as e:
        why, code = _boot.failure(e)
        write_all(fds["ready"], b"F" + why.encode(errors="replace"))
        os._exit(code)
    del payload
    try:
        write_all(fds["ready"], b"R")
        os.close(fds["ready"])
        go = os.read(fds["go"], 1)
        os.close(fds["go"])
    except OSError:  # the supervisor is gone: the origin keeps the program
        go = b""
    if go != b"G":  # another copy failed, or the origin keeps the program
        os._exit(0)
    return restored


def _fork_copies(
    n: int, fork: bool, framed: bool, payload: tuple[Any, ...], keep: list[int]
) -> tuple[list[_Copy], Any]:
    """Forks the n copies: returns (copies, None) here and ([], restored) in each copy.
    `keep` lists descriptors of the supervisor that the copies must not hold."""
    copies: list[_Copy] = []
    ours = list(keep)  # descriptors the supervisor keeps: closed in every copy
    for index in range(n):
        ready_r, ready_w = os.pipe()
        go_r, go_w = os.pipe()
        mine = {"ready": ready_r, "go": go_w, "stdin": -1, "stdout": -1, "stderr": -1}
        theirs = {"ready": ready_w, "go": go_r}
        if framed:
            for name, (r, w) in (
                ("stdin", os.pipe()),
                ("stdout", os.pipe()),
                ("stderr", os.pipe()),
            ):
                mine[name], theirs[name] = (w, r) if name == "stdin" else (r, w)
        pid = os.fork()
        if pid == 0:
            for fd in [*ours, *(fd for fd in mine.values() if fd >= 0)]:
                os.close(fd)
            if framed:
                for target, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
                    os.dup2(theirs[name], target)
                    os.close(theirs[name])
            elif index:
                null = os.open(os.devnull, os.O_RDONLY)
                os.dup2(null, 0)
                os.close(null)
            return [], _become_copy(index, fork, payload, theirs)
        for name, fd in theirs.items():
            os.close(fd)
        ours += [fd for fd in mine.values() if fd >= 0]
        copies.append(_Copy(index, pid, mine))
    return copies, None


def _start(copies: list[_Copy], report: Callable[[bytes], None], go: Callable[[], bool]) -> None:
    """Waits until every copy is rebuilt; then tells the origin, waits for its word to
    run (`go`) and lets them run. If one fails, or the origin keeps the program, stops
    them all (telling the origin why) and exits."""
    failure = b""
    for c in copies:
        word = read_to_end(c.ready)
        if word != b"R" and not failure:
            failure = (
                word[1:]
                if word[:1] == b"F"
                else (f"copy {c.index} of the program died while it was being rebuilt".encode())
            )
    if not failure:
        try:
            report(b"A")
            going = go()
        except OSError:  # the origin is gone: it kept the program, or died with it
            going = False
        if going:
            for c in copies:
                try:
                    write_all(c.go, b"G")
                except OSError:
                    pass
                os.close(c.go)
            return
    for c in copies:
        try:
            os.kill(c.pid, _signal.SIGKILL)
        except OSError:
            pass
        os.waitpid(c.pid, 0)
    if failure:
        try:
            report(b"F" + failure)
        except OSError:
            pass
        os._exit(2)
    os._exit(0)  # the origin kept the program


def _hold_forwarded() -> None:
    """From before the copies are forked until the supervisor forwards signals
    (_serve_local, _serve_framed), the signals it forwards stay pending: one that the
    origin forwards right after its word to run would otherwise end the supervisor by its
    default action before the copies got that word, and the program with it."""
    _signal.pthread_sigmask(_signal.SIG_BLOCK, _FORWARDED)


def _kill(live: dict[int, _Copy], sig: int) -> None:
    for pid in live:
        try:
            os.kill(pid, sig)
        except OSError:
            pass


def _serve_local(copies: list[_Copy]) -> NoReturn:
    live = {c.pid: c for c in copies}
    for sig in _FORWARDED:
        _signal.signal(sig, lambda s, _f: _kill(live, s))
    _signal.pthread_sigmask(_signal.SIG_UNBLOCK, _FORWARDED)  # those held since the fork
    code = 0
    while live:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        if live.pop(pid, None) is not None and not code:
            code = exit_code(status)
    os._exit(code)


def _serve_framed(copies: list[_Copy]) -> NoReturn:
    """Relays between the origin (fd 0 and 1, framed) and the copies' pipes."""
    import select

    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    _signal.set_wakeup_fd(wake_w)
    for sig in (*_FORWARDED, _signal.SIGCHLD):
        _signal.signal(sig, lambda _s, _f: None)  # seen through the wakeup fd
    _signal.pthread_sigmask(_signal.SIG_UNBLOCK, _FORWARDED)  # those held since the fork

    live = {c.pid: c for c in copies}
    outputs = {c.stdout: b"1" for c in copies} | {c.stderr: b"2" for c in copies}
    stdin = copies[0].stdin
    for c in copies[1:]:
        os.close(c.stdin)
    os.set_blocking(stdin, False)
    pending = bytearray()  # the origin's stdin, not yet taken by copy 0
    stdin_ended, connected = False, True
    frames = Frames(limit=1 << 30)  # the origin's frames: stdin data, signals
    poller = select.poll()
    poller.register(0, select.POLLIN)
    poller.register(wake_r, select.POLLIN)
    for fd in outputs:
        poller.register(fd, select.POLLIN)
    code = 0

    def lost() -> None:
        nonlocal connected
        if connected:
            connected = False
            poller.unregister(0)
            _kill(live, _signal.SIGHUP)

    def reap() -> None:
        nonlocal code
        while live:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                live.clear()
                break
            if pid == 0:
                break
            if live.pop(pid, None) is not None and not code:
                code = exit_code(status)

    while live or outputs:
        if stdin >= 0:
            poller.register(stdin, select.POLLOUT if pending else 0)
        # Once every copy has ended, only what is already in the pipes is forwarded:
        # a background process the program left behind may hold them open.
        events = poller.poll(None if live else 50)
        if not events:
            break
        for fd, ev in events:
            if fd == wake_r:
                for signum in os.read(wake_r, 64):
                    if signum == _signal.SIGCHLD:
                        reap()
                    else:
                        _kill(live, signum)
            elif fd == 0:
                try:
                    data = os.read(0, 65536)
                except OSError:
                    data = b""
                if not data:
                    lost()
                    continue
                for kind, body in frames.feed(data):
                    if kind == b"D" and stdin >= 0:
                        pending += body
                    elif kind == b"E":
                        stdin_ended = True
                    elif kind == b"K" and body.isdigit():
                        _kill(live, int(body))
            elif fd == stdin:
                if ev & (select.POLLERR | select.POLLHUP):  # copy 0 closed its stdin
                    pending.clear()
                    stdin_ended = True
                    continue
                try:
                    del pending[: os.write(stdin, pending)]
                except BlockingIOError:
                    pass
                except OSError:  # copy 0 closed its stdin
                    pending.clear()
                    stdin_ended = True
            else:
                try:
                    data = os.read(fd, 65536)
                except OSError:
                    data = b""
                if not data:
                    poller.unregister(fd)
                    os.close(fd)
                    del outputs[fd]
                elif connected:
                    try:
                        write_all(1, frame(outputs[fd], data))
                    except OSError:
                        lost()
        if stdin >= 0 and stdin_ended and not pending:
            poller.unregister(stdin)
            os.close(stdin)
            stdin = -1
        if live:
            reap()
    if connected:
        try:
            write_all(1, frame(b"X", str(code).encode()))
        except OSError:
            pass
    os._exit(code)


def local(n: int, mapped_fd: int, control_fd: int) -> None:
    """Entry point of a local fork's supervisor (see the module's docstring)."""

    def report(word: bytes) -> None:
        _boot.report(control_fd, word)

    try:
        payload = _boot.read(0, mapped_fd)
    except BaseException as e:
        why, code = _boot.failure(e)
        report(b"F" + why.encode(errors="replace"))
        os._exit(code)
    _hold_forwarded()
    copies, restored = _fork_copies(n, True, False, payload, [control_fd])
    del payload  # each copy keeps what its objects use, and no more
    if restored is None:
        _start(copies, report, lambda: _boot.go(0))
        _serve_local(copies)
    _boot.execute(restored)


def _framed_go() -> bool:
    """The origin's word to run, as a frame (``G``) on fd 0; read exactly, since the
    program's stdin frames follow it."""
    head = b""
    try:
        while len(head) < 5:
            chunk = os.read(0, 5 - len(head))
            if not chunk:
                return False
            head += chunk
    except OSError:
        return False
    return head == frame(b"G")


def remote(n: int | None) -> None:
    """Entry point at a launched target, after the handshake; `n` copies for a fork,
    None for a teleport (one copy)."""

    def report(word: bytes) -> None:
        write_all(1, frame(word[:1], word[1:]))

    try:
        payload = _boot.read(0)
    except BaseException as e:
        why, code = _boot.failure(e)
        report(b"F" + why.encode(errors="replace"))
        os._exit(code)
    _hold_forwarded()
    copies, restored = _fork_copies(n or 1, n is not None, True, payload, [])
    del payload  # each copy keeps what its objects use, and no more
    if restored is None:
        _start(copies, report, _framed_go)
        _serve_framed(copies)
    _boot.execute(restored)
