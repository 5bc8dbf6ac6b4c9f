"""What the origin becomes once the destination runs the program: a small process that
only serves it.

After the hand-off the origin's interpreter execs a fresh one on this file (``python -E
-s -S _serve.py KIND ARGS``): the process keeps its pid, its parent, its terminal, its
standard streams and its children, and lets go of the program's memory and files. The
terminating signals are blocked across the exec; they are unblocked once they are
forwarded from here. This file needs the standard library only (and ``_target``, beside
it), so that the server is small.

``local``: serves a local destination (or a fork's supervisor): its stdin comes from
here (a thread pumps fd 0 into a pipe), signals are forwarded to it, and this process
exits with its exit code. The origin is a child subreaper: when the destination makes a
local move of its own, it sends ``P`` and its new destination's pid on the control
socket, with that destination's stdin pipe and control socket (SCM_RIGHTS); this server
closes its end of the old stdin pipe, the old destination forwards what it still had
of its stdin, says ``D`` and exits, and the new destination, adopted by this process,
is served from then on. A chain of local moves leaves one waiting process: this one.

``launcher``: relays between the origin's stdio and a launched target (frames, see
``_target``).
"""

from __future__ import annotations

import _thread
import os
import select
import sys

if __package__:
    from ._target import Frames, exit_code, frame, write_all
else:  # run as a script: _target is beside this file
    from _target import Frames, exit_code, frame, write_all  # type: ignore[import-not-found,no-redef]

TYPE_CHECKING = False
if TYPE_CHECKING:
    import signal as _signal
    from typing import NoReturn
else:
    import _signal

FORWARDED = (_signal.SIGINT, _signal.SIGTERM, _signal.SIGHUP, _signal.SIGQUIT)
LOST = 255  # exit code of an origin whose destination became unreachable


def _held(_sig: int, _frame: object) -> None:
    """A signal to forward: seen through the wakeup fd."""


def _take_signals(astray: int, held_w: int) -> tuple[int, bytes]:
    """Installs the forwarding handlers and the wakeup fd, then lets the signals that
    were blocked across the exec in. Returns the wakeup pipe's read end, and the signals
    found in `astray` (the move's own pipe, or -1): those that reached a thread that did
    not block them once the move was over, before these handlers were in. `held_w`: that
    pipe's write end when this is the origin's own interpreter (the move's guard wrote
    held signals there until now), else -1."""
    if held_w >= 0 and _thread.get_ident() != _thread_main():
        # Serving from the origin's interpreter, in the thread that moved the program
        # (its exec failed): Python sets handlers in the main thread only; the move's
        # hold stays, and its pipe is this server's.
        _signal.pthread_sigmask(_signal.SIG_UNBLOCK, FORWARDED)
        return astray, b""
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    _signal.set_wakeup_fd(wake_w)
    for sig in FORWARDED:
        if _signal.getsignal(sig) != _signal.SIG_IGN:
            _signal.signal(sig, _held)
    if held_w >= 0:  # no signal is held into it any more
        os.close(held_w)
    taken = b""
    if astray >= 0:  # from here on, no signal reaches it: what it holds is all
        os.set_blocking(astray, False)
        try:
            taken = os.read(astray, 256)
        except OSError:
            pass
        os.close(astray)
    _signal.pthread_sigmask(_signal.SIG_UNBLOCK, FORWARDED)
    return wake_r, taken


def _thread_main() -> int:
    """The main thread's ident, in the origin's interpreter (threading is imported there
    whenever another thread runs)."""
    threading = sys.modules.get("threading")
    return threading.main_thread().ident if threading is not None else _thread.get_ident()


def kill(pid: int, sig: int) -> None:
    """Sends `sig` to `pid`, which may have ended already."""
    try:
        os.kill(pid, sig)
    except OSError:
        pass


# -- local ----------------------------------------------------------------------------------


class _Pump:
    """Forwards fd 0 to the destination's stdin pipe; the pipe can be switched to a new
    destination's (held while the old one hands over what it still had)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.ended = False  # fd 0 ended: every destination from now on gets an empty stdin
        self.lock = _thread.allocate_lock()  # held while writing, and while switching

    def pause(self) -> None:
        """Stops writing to the current pipe (after the write in progress) and closes it."""
        self.lock.acquire()
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def resume(self, fd: int) -> None:
        if self.ended:
            os.close(fd)
        else:
            self.fd = fd
        self.lock.release()

    def run(self) -> None:
        while True:
            try:
                data = os.read(0, 65536)
            except OSError:
                data = b""
            with self.lock:
                try:
                    if data:
                        write_all(self.fd, data)
                        continue
                except OSError:  # the destination closed its stdin
                    pass
                self.ended = True
                if self.fd >= 0:
                    os.close(self.fd)
                    self.fd = -1
                return


def _receive(control: int) -> tuple[bytes, list[int]]:
    """One message of the control socket and the descriptors that came with it."""
    import _socket
    import array

    sock = _socket.socket(fileno=os.dup(control))
    sock.settimeout(None)
    try:
        data, ancillary, _flags, _addr = sock.recvmsg(64, _socket.CMSG_LEN(2 * 4))
    except OSError:
        return b"", []
    finally:
        sock.close()
    fds: list[int] = []
    for level, kind, payload in ancillary:
        if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:
            got = array.array("i")
            got.frombytes(payload[: len(payload) - len(payload) % got.itemsize])
            fds += list(got)
    return data, fds


def local(pid: int, stdin_w: int, control: int, astray: int, held_w: int = -1) -> NoReturn:
    wake_r, taken = _take_signals(astray, held_w)
    for signum in taken:
        kill(pid, signum)
    pump = _Pump(stdin_w)
    _thread.start_new_thread(pump.run, ())
    poller = select.poll()
    poller.register(wake_r, select.POLLIN)
    if control >= 0:
        poller.register(control, select.POLLIN)
    # Every destination of the chain that has not been reaped, by pidfd. One that handed
    # over may end before or after its successor, and is ours to reap only once the one
    # that started it has ended (this process is their subreaper): each end is a reason to
    # reap whatever can be reaped, and the program's end is the current one's.
    watched: dict[int, int] = {}

    def watch(pid: int) -> None:
        fd = os.pidfd_open(pid)
        watched[fd] = pid
        poller.register(fd, select.POLLIN)

    watch(pid)
    successor: tuple[int, int] | None = None  # (stdin pipe, control) until the hand-over

    def words() -> None:
        """Reads what the current destination says on its control socket."""
        nonlocal pid, control, stdin_w, successor
        data, fds = _receive(control)
        if not data:
            data = b"D"  # gone: whatever it was handing over is as far as it got
        while data:
            if data[:1] == b"P" and len(data) >= 9 and len(fds) == 2 and not successor:
                # The destination moved on: its successor is served from now on.
                pump.pause()  # the old one reads its stdin to the end, then says D
                pid = int.from_bytes(data[1:9], "big")
                watch(pid)
                successor = (fds[0], fds[1])
                data, fds = data[9:], []
            elif data[:1] == b"D":
                poller.unregister(control)
                os.close(control)
                control = -1
                if successor is not None:
                    stdin_w, control = successor
                    successor = None
                    pump.resume(stdin_w)
                    poller.register(control, select.POLLIN)
                data = data[1:]
            else:
                break  # not a word of ours: ignored
        for extra in fds:
            os.close(extra)

    while True:
        # The control socket first: a destination that hands over says so before it ends,
        # and both can be ready at once (its pidfd may be polled before it).
        for fd, _ev in sorted(poller.poll(), key=lambda event: event[0] != control):
            if fd == wake_r:
                for signum in os.read(wake_r, 64):
                    kill(pid, signum)
            elif fd == control:
                words()
            elif fd in watched:
                poller.unregister(fd)
                os.close(fd)
                del watched[fd]
                while True:
                    try:
                        ended, status = os.waitpid(-1, os.WNOHANG)
                    except ChildProcessError:
                        break
                    if ended == 0:
                        break
                    # A destination says that it hands over before it ends: what it said
                    # may still wait to be read (the same poll saw both).
                    while ended == pid and control >= 0 and select.select([control], [], [], 0)[0]:
                        words()
                    if ended == pid:
                        os._exit(exit_code(status))


# -- launcher -------------------------------------------------------------------------------


def launcher(
    pid: int,
    stdin: int,
    stdout: int,
    stderr: int,
    carried: bytes,
    name: str,
    astray: int,
    held_w: int = -1,
) -> NoReturn:
    """Forwards between the origin's stdio and the target until the program ends.
    `carried`: frames already received but not complete, then what the target is owed
    (the program's buffered stdin, signals), each as a 4-byte length and the bytes."""
    wake_r, taken = _take_signals(astray, held_w)
    frames = Frames()
    size = int.from_bytes(carried[:4], "big")
    partial, carried = carried[4 : 4 + size], carried[4 + size :]
    outgoing = bytearray(carried[4 : 4 + int.from_bytes(carried[:4], "big")])
    for signum in taken:
        outgoing += frame(b"K", b"%d" % signum)
    os.set_blocking(stdin, False)
    code: int | None = None
    stdin_open = True
    poller = select.poll()
    for fd in (stdout, stderr, wake_r, 0):
        poller.register(fd, select.POLLIN)
    readers = 2
    for kind, data in frames.feed(partial):
        code = _deliver(kind, data, code)
    while readers:
        if stdin >= 0:
            poller.register(stdin, select.POLLOUT if outgoing else 0)
        if stdin_open and len(outgoing) > 1 << 20:  # the target is slow to take stdin
            poller.unregister(0)
            stdin_open = False
        for fd, ev in poller.poll():
            if fd == wake_r:
                for signum in os.read(wake_r, 64):
                    outgoing += frame(b"K", b"%d" % signum)
            elif fd == 0:
                try:
                    data = os.read(0, 65536)
                except OSError:
                    data = b""
                outgoing += frame(b"D", data) if data else frame(b"E")
                if not data:
                    poller.unregister(0)
                    stdin_open = False
            elif fd == stdin:
                try:
                    if ev & (select.POLLERR | select.POLLHUP):
                        raise BrokenPipeError
                    del outgoing[: os.write(stdin, outgoing)]
                except BlockingIOError:
                    pass
                except OSError:  # the target is gone; its end is read below
                    outgoing.clear()
                    poller.unregister(stdin)
                    os.close(stdin)
                    stdin = -1
            else:
                data = os.read(fd, 65536)
                if not data:
                    poller.unregister(fd)
                    readers -= 1
                elif fd == stderr:
                    write_out(2, data)
                else:
                    try:
                        got = frames.feed(data)
                    except ValueError:  # not teleporter's frames: the connection is lost
                        poller.unregister(fd)
                        readers -= 1
                        continue
                    for kind, body in got:
                        code = _deliver(kind, body, code)
    _, status = os.waitpid(pid, 0)
    if code is None:
        write_out(
            2,
            f"teleporter: lost the connection to the program ({name} exited with "
            f"code {exit_code(status)})\n".encode(),
        )
        os._exit(LOST)
    os._exit(code)


def _deliver(kind: bytes, data: bytes, code: int | None) -> int | None:
    if kind == b"1":
        write_out(1, data)
    elif kind == b"2":
        write_out(2, data)
    elif kind == b"X" and data.isdigit():
        return int(data)
    return code


def write_out(fd: int, data: bytes) -> None:
    try:
        write_all(fd, data)
    except OSError:  # the origin's own stdout is gone (a closed pipe): drop the output
        pass


def _main(argv: list[str]) -> NoReturn:
    kind, args = argv[0], argv[1:]
    if kind == "local":
        pid, stdin_w, control, astray = (int(a) for a in args)
        local(pid, stdin_w, control, astray)
    pid, stdin, stdout, stderr, carried_fd, astray = (int(a) for a in args[:6])
    with open(carried_fd, "rb") as f:
        carried = f.read()
    launcher(pid, stdin, stdout, stderr, carried, args[6], astray)


if __name__ == "__main__":
    _main(sys.argv[1:])
