"""The window of a move in which it can still be cancelled: from the capture until the
destination is told to run the program.

At every instant exactly one process runs the program. The destination rebuilds the
program, says so, and then waits for the word to run it, which the origin sends only
while nothing has cancelled the move. Until that word:

- every terminating signal (SIGINT, SIGTERM, SIGHUP, SIGQUIT) that the program does not
  ignore is held: its C-level action becomes one that only writes its number to a pipe
  (``hold_signals``; Python's own handler table and wakeup fd are left alone, so the
  guard works from any thread, and the program's dispositions read as its own). A
  watcher thread reads that pipe at once, even while the origin is blocked sending the
  payload or waiting for the target, and cancels the move: it stops the destination (the
  transport's ``stop``), so that the origin's I/O ends and the transport sees ``why``.
  The same happens when a deadline passes.
- once the move is cancelled, the transport reaps the destination and calls
  ``release()``: the signals' own actions are put back and each held signal is raised
  once, so the program handles it as it would have without teleporter (a
  KeyboardInterrupt from ``teleport()`` called in the main thread, the process ended by
  SIGTERM, the program's own handler run). Then the move raises TeleportError.
- ``commit()`` is the point of no return, taken under the watcher's lock: the watcher
  cancels either before it or never. Signals that arrive after it belong to the
  destination: ``finish()`` hands them to the transport, which forwards them. They stay
  held (into the pipe) until the origin's server takes them over.
"""

from __future__ import annotations

import _thread
import os
import time

from . import _teleporter_impl as _impl

TYPE_CHECKING = False  # typing itself costs start-up time
if TYPE_CHECKING:
    import signal as _signal
    from collections.abc import Callable
else:
    import _signal  # the C module behind signal, without its enum wrappers

HELD = (_signal.SIGINT, _signal.SIGTERM, _signal.SIGHUP, _signal.SIGQUIT)
KILL_AFTER = 3.0  # seconds a cancelled launcher has to end before it is killed

# The signals the guard of the move in progress holds (none between moves).
held: list[int] = []


def _call(action: Callable[[], None] | None) -> None:
    if action is not None:
        try:
            action()
        except OSError:
            pass


def signal_name(sig: int) -> str:
    import signal

    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


class Guard:
    def __init__(self) -> None:
        self.signals: list[int] = []  # held before the commit, in order of arrival
        self.late = bytearray()  # arrived after the commit: the destination's
        self.why = ""  # why the move was cancelled; empty while it was not
        self.committed = False
        self._stop: Callable[[], None] | None = None
        self._kill: Callable[[], None] | None = None
        self._deadline: tuple[float, str] | None = None
        self._lock = _thread.allocate_lock()
        self._running = _thread.allocate_lock()  # held by the watcher while it runs
        self.wake_r, self._wake_w = os.pipe()
        self._poke_r, self._poke_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        os.set_blocking(self.wake_r, False)
        # Blocked while the actions change: one that came before is the program's (handled
        # by its handler); one that comes during the change waits, and is then held.
        mask = _signal.pthread_sigmask(_signal.SIG_BLOCK, HELD)
        held[:] = [
            sig
            for sig in HELD  # a C library's handler (None), or ignored: left alone
            if (handler := _signal.getsignal(sig)) is not None and handler != _signal.SIG_IGN
        ]
        try:
            _impl.hold_signals(self._wake_w, held)
        finally:
            _signal.pthread_sigmask(_signal.SIG_SETMASK, mask)
        self._watching = False

    # -- the watcher --------------------------------------------------------------------

    def watch(self, stop: Callable[[], None], kill: Callable[[], None] | None = None) -> None:
        """Starts the watcher; `stop` ends the destination (it runs in the watcher's thread
        and must not reap it); `kill`, when given, follows if the transport has not
        finished cancelling within a few seconds (a launcher that does not end)."""
        import select  # here: the watcher must not import

        self._stop, self._kill = stop, kill
        self._select = select
        self._running.acquire()
        self._watching = True
        _thread.start_new_thread(self._watch, ())

    def arm(self, seconds: float | None, what: str) -> None:
        """Cancels the move when `seconds` pass before ``disarm``/``commit``; `what` says
        what did not happen in time (the cancellation's reason)."""
        self._deadline = None if seconds is None else (time.monotonic() + seconds, what)
        self._poke(b"a")

    def disarm(self) -> None:
        self._deadline = None
        self._poke(b"a")

    def _poke(self, word: bytes) -> None:
        if self._watching:
            os.write(self._poke_w, word)

    def _cancel(self, why: str) -> None:
        # Under the lock: the commit happens before this or not at all.
        if not self.committed and not self.why:
            self.why = why
            _call(self._stop)
            if self._kill is not None:
                self._deadline = (time.monotonic() + KILL_AFTER, "")

    def _watch(self) -> None:
        try:
            poller = self._select.poll()
            poller.register(self.wake_r, self._select.POLLIN)
            poller.register(self._poke_r, self._select.POLLIN)
            while True:
                deadline = self._deadline
                wait = None
                if deadline is not None:
                    wait = max(0, int((deadline[0] - time.monotonic()) * 1000) + 1)
                events = poller.poll(wait)
                if not events and deadline is not None and deadline is self._deadline:
                    with self._lock:
                        if self.why:  # cancelled, and the destination has not ended yet
                            self._deadline = None
                            _call(self._kill)
                        else:
                            self._cancel(deadline[1])
                    continue
                for fd, _ev in events:
                    if fd == self._poke_r:
                        if b"q" in os.read(self._poke_r, 64):
                            return
                    else:
                        self._take()
        finally:
            self._running.release()

    def _take(self) -> None:
        try:
            data = os.read(self.wake_r, 256)
        except BlockingIOError:
            return
        with self._lock:
            if self.committed:
                self.late += data
                return
            self.signals += [s for s in data if s not in self.signals]
            if data:
                self._cancel(f"{signal_name(data[0])} arrived before the destination took it")

    def _join(self) -> None:
        if self._watching:
            self._watching = False
            os.write(self._poke_w, b"q")
            self._running.acquire()
            self._running.release()
        for fd in (self._poke_r, self._poke_w):
            os.close(fd)
        self._take()  # what came since the watcher last looked

    # -- the transport's side -----------------------------------------------------------

    def pending(self) -> bool:
        """Whether the move is cancelled already (checks the pipe itself when the watcher
        does not run yet)."""
        if not self._watching:
            self._take()
        return bool(self.why)

    def commit(self) -> bool:
        """The point of no return: False when the move was cancelled first."""
        with self._lock:
            if self.why:
                return False
            self.committed = True
            self._deadline = None
            return True

    def uncommit(self) -> None:
        """The destination died before it could take the word: the program stays here."""
        with self._lock:
            self.committed = False
            self.signals += [s for s in self.late if s not in self.signals]
            self.late.clear()

    def finish(self) -> bytes:
        """After the commit: blocks the held signals (the origin's server lets them in once
        it forwards them), stops the watcher and returns the signals that came since, for
        the destination.

        The mask is the calling thread's: until the server's handlers are in, a signal
        that reaches another thread (the exiting watcher, a parked thread of the program)
        still lands in the pipe, whose read end (``astray``) the server drains."""
        _signal.pthread_sigmask(_signal.SIG_BLOCK, HELD)
        self._join()
        late, self.late = bytes(self.late), bytearray()
        return late

    @property
    def astray(self) -> int:
        """After ``finish``: the pipe's read end, for the server (see _serve)."""
        return self.wake_r

    @property
    def wakeup(self) -> int:
        """The pipe's write end: held signals land there until the server's handlers are in."""
        return self._wake_w

    def release(self) -> None:
        """After a cancelled or failed move (the destination already reaped): puts the
        signals' actions back, then raises each held signal once, as the program would
        have received it (its handler may raise, e.g. KeyboardInterrupt, in the main
        thread)."""
        _impl.unhold_signals()  # first: a signal from now on is the program's, or in the pipe
        held.clear()
        self._join()
        for fd in (self.wake_r, self._wake_w):
            os.close(fd)
        if self.signals:
            # Raised while blocked, delivered together when unblocked: each handler runs
            # once, in order, even when one of them raises.
            mask = _signal.pthread_sigmask(_signal.SIG_BLOCK, self.signals)
            for sig in self.signals:
                _signal.raise_signal(sig)
            _signal.pthread_sigmask(_signal.SIG_SETMASK, mask)

    def reason(self, fallback: str) -> str:
        """Why the move did not happen, for its TeleportError."""
        return f"the move was cancelled: {self.why}" if self.why else fallback
