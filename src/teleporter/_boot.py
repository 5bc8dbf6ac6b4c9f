"""The destination's entry point: ``python -c "import teleporter._boot as b; b.main()"``.

Reads one payload from stdin (exactly its length: what follows is the program's own
stdin), rebuilds the program and runs it. An uncaught exception is reported the way the
interpreter would have reported it in the original process: the traceback starts at the
program's own module frame.
"""

from __future__ import annotations

import os
import sys

from . import _payload, _state
from .errors import PayloadError

TYPE_CHECKING = False  # typing itself costs start-up time
if TYPE_CHECKING:
    from typing import Any


def _report_uncaught(e: BaseException) -> None:
    tb = e.__traceback__
    # The program's traceback starts at its own __main__ frame: drop what ran before it
    # (this bootstrap, the command line).
    first = _state.resumed_module_code
    start = tb
    while start is not None and start.tb_frame.f_code is not first:
        start = start.tb_next
    tb = start if start is not None else tb
    e.__traceback__ = tb
    sys.excepthook(type(e), e, tb)


def main(mapped_fd: int = -1, control_fd: int = -1) -> None:
    """Entry point of a local teleport's destination: the payload comes on stdin; the
    memory file of large buffers as `mapped_fd`; the origin waits on `control_fd` for the
    word that the program was rebuilt (or why not) before it lets go."""
    run(0, mapped_fd, control_fd)


def read(fd: int, mapped_fd: int = -1) -> tuple[Any, ...]:
    """Reads one payload from fd: the arguments of _state.rebuild (the pickle stream, its
    out-of-band buffers, the lifted bytes objects). PayloadError when it is bad."""
    try:
        _meta, body, buffers, info = _payload.read(fd, mapped_fd)
    finally:
        if mapped_fd >= 0:
            os.close(mapped_fd)  # the mappings keep what they need
    return (body, *_payload.split_buffers(buffers, info))


def prepare(fd: int, mapped_fd: int = -1) -> _state.Restored:
    """Reads one payload from fd and rebuilds the program, ready to run. PayloadError
    when the payload is bad or the state cannot be rebuilt here."""
    return _state.rebuild(*read(fd, mapped_fd))


def failure(e: BaseException) -> tuple[str, int]:
    """The one-line reason and the exit code for a failure to rebuild the program."""
    if isinstance(e, PayloadError):
        return str(e), e.exit_code
    return f"{type(e).__name__}: {e}", PayloadError.exit_code


def report(control_fd: int, word: bytes, keep: bool = False) -> None:
    """Tells the origin b"A" (accepted: the program is rebuilt; it then waits for the
    word to run it, see ``go``) or b"F" + why not. With `keep` the fd stays open."""
    try:
        os.write(control_fd, word)
        if not keep:
            os.close(control_fd)
    except OSError:
        pass


def run(fd: int, mapped_fd: int = -1, control_fd: int = -1) -> None:
    """Reads one payload from fd, rebuilds the program and runs it to its end; exits the
    process the way the program would have. With a `control_fd`, a failure to rebuild is
    reported there (the origin raises it and keeps running) instead of on stderr."""
    try:
        restored = prepare(fd, mapped_fd)
    except BaseException as e:  # whatever went wrong is reported in one line, never a traceback
        reason, code = failure(e)
        if control_fd >= 0:
            report(control_fd, b"F" + reason.encode(errors="replace"))
            os._exit(code)
        print(f"teleporter: {reason}", file=sys.stderr)
        sys.exit(code)
    if control_fd >= 0:
        report(control_fd, b"A", keep=True)
        if not go(fd):
            os._exit(0)
        global _home
        os.set_inheritable(control_fd, False)  # not for the program's own children
        _home = (os.getpid(), control_fd, os.fstat(control_fd).st_ino)
    execute(restored)


# The control socket to the server of the local move that started this process: a later
# local move from here hands its destination over to that server (see _serve).
_home: tuple[int, int, int] | None = None


def home_channel() -> int:
    """That socket's fd, if this process still has it (not a fork of the program, and the
    program did not close the fd or reuse its number); else -1."""
    if _home is None:
        return -1
    pid, fd, inode = _home
    try:
        st = os.fstat(fd)
    except OSError:
        return -1
    if pid != os.getpid() or st.st_mode & 0o170000 != 0o140000 or st.st_ino != inode:
        return -1
    return fd


def go(fd: int) -> bool:
    """Waits for the origin's word to run the program (one byte after the payload):
    False when the origin kept it (the move was cancelled) or went away."""
    try:
        return os.read(fd, 1) == b"G"
    except OSError:
        return False


def execute(restored: _state.Restored, ended: Any = None) -> None:
    """Runs a rebuilt program to its end; an uncaught exception ends the process as it
    would have ended the original one."""
    conclude(lambda: _state.run(restored), rebuilt=True, ended=ended)


def conclude(body: Any, rebuilt: bool = False, ended: Any = None) -> None:
    """Runs `body` (the program); an uncaught exception ends the process as it would
    have ended the program run by the interpreter itself. `rebuilt`: the program's frames
    are rebuilt by `body`, which raises PayloadError when they cannot be. `ended` is
    called when the program's main code has ended, however it did."""
    try:
        try:
            body()
        finally:
            if ended is not None:
                ended()
    except PayloadError as e:
        if not rebuilt:
            _report_uncaught(e)
            sys.exit(1)
        print(f"teleporter: {e}", file=sys.stderr)
        sys.exit(e.exit_code)
    except SystemExit:
        raise
    except KeyboardInterrupt as e:
        import signal

        _report_uncaught(e)
        sys.stdout.flush()
        sys.stderr.flush()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    except BaseException as e:
        _report_uncaught(e)
        sys.exit(1)
