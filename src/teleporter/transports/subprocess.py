"""Run the destination as a child process of a launcher command and hand the program over.

``command`` is an argv prefix that runs one shell command line on the target
(``("bash", "-c")``, ``("ssh", "host")``, ...); with no command the same boot command
runs locally, without a shell in between. The payload streams through the child's stdin,
never through argv, so any size works; after it, the origin forwards its own stdin
(including what its ``sys.stdin`` had already buffered), forwards terminating signals, and
exits with the destination's exit code. The child's stdout and stderr are the origin's own.

Only low-level modules are used (``os.posix_spawnp``, ``_thread``, ``_signal``): this runs
in the middle of the user's program, and ``subprocess``/``threading``/``signal`` would add
tens of milliseconds of imports to every move.
"""

from __future__ import annotations

import _thread
import os
import sys

from .. import _payload
from ..errors import TeleportError

TYPE_CHECKING = False  # typing itself costs start-up time
if TYPE_CHECKING:
    import signal as _signal
    from collections.abc import Mapping, Sequence
    from typing import Any, NoReturn
else:
    import _signal  # the C module behind signal, without its enum wrappers

# Where this teleporter was imported from, absolute: the destination finds the same one
# even when the origin relied on a relative PYTHONPATH and has changed directory since.
_HOME = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_PARENT = os.path.dirname(_HOME)
BOOT = f"import sys; sys.path.insert(0, {_PARENT!r}); import teleporter._boot as b; b.main()"
# A local destination also receives the memory file of large buffers, as this fd.
MAPPED_FD = 3
BOOT_LOCAL = BOOT.replace("b.main()", f"b.main({MAPPED_FD})")
_FORWARDED = (_signal.SIGINT, _signal.SIGTERM, _signal.SIGHUP, _signal.SIGQUIT)


def quote(arg: str) -> str:
    """POSIX shell quoting (what shlex.quote does, without importing re)."""
    if arg and all(c.isalnum() or c in "@%+=:,./-_" for c in arg):
        return arg
    return "'" + arg.replace("'", "'\"'\"'") + "'"


def boot_argv(python: str, boot: str = BOOT) -> list[str]:
    return [python, *["-O"] * sys.flags.optimize, "-c", boot]


def command_line(python: str, env: Mapping[str, str] | None) -> str:
    """The one shell command line a launcher runs on the target."""
    exports = "".join(f"export {k}={quote(v)}; " for k, v in (env or {}).items())
    return exports + "exec " + " ".join(quote(a) for a in boot_argv(python))


def _pending_stdin() -> bytes:
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


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _pump(fd: int) -> None:
    """Forwards the origin's stdin to the destination until either side ends."""
    try:
        while True:
            data = os.read(0, 65536)
            if not data:
                break
            _write_all(fd, data)
    except OSError:
        pass
    finally:
        os.close(fd)


def _exit_code(status: int) -> int:
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def hand_off(
    snapshot: tuple[bytes, memoryview, list[Any]],
    command: Sequence[str],
    python: str,
    env: Mapping[str, str] | None,
) -> NoReturn:
    """Starts the destination and streams the payload to it. Returns only by raising
    TeleportError, when the destination could not take the program; once it has, the
    origin serves it and exits with its exit code."""
    environ: Mapping[str, str] = os.environ
    r, w = os.pipe()
    actions: list[tuple[Any, ...]] = [(os.POSIX_SPAWN_DUP2, r, 0), (os.POSIX_SPAWN_CLOSE, w)]
    mapped = -1
    if command:
        argv = [*command, command_line(python, env)]
    else:  # local: the same boot line, started without a shell in between, and large
        # buffers through a memory file the destination maps instead of a pipe
        mapped = os.memfd_create("teleporter-buffers", os.MFD_CLOEXEC)
        actions.append((os.POSIX_SPAWN_DUP2, mapped, MAPPED_FD))
        argv = boot_argv(python, BOOT_LOCAL)
        environ = {**os.environ, **(env or {})}
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass
    try:
        # Its own process group: a Ctrl-C at the terminal reaches the origin only, which
        # forwards it once.
        pid = os.posix_spawnp(
            argv[0],
            argv,
            environ,
            file_actions=actions,
            setpgroup=0,
        )
    except OSError as e:
        for fd in (r, w, mapped):
            if fd >= 0:
                os.close(fd)
        raise TeleportError(f"cannot start {argv[0]!r}: {e.strerror}") from None
    os.close(r)
    try:
        _payload.write(w, *snapshot, mapped_fd=mapped)
    except BrokenPipeError:
        os.close(w)
        _, status = os.waitpid(pid, 0)
        raise TeleportError(
            f"the destination ({' '.join(argv[:-1]) or 'local'}) exited with code "
            f"{_exit_code(status)} before taking the program"
        ) from None
    except OSError as e:  # e.g. no memory for the buffers' file: nothing was handed over
        os.close(w)
        os.kill(pid, _signal.SIGKILL)
        os.waitpid(pid, 0)
        raise TeleportError(f"cannot send the program: {e.strerror or e}") from None
    finally:
        if mapped >= 0:
            os.close(mapped)
    # The program is handed over: from here on the origin only serves it.
    for sig in _FORWARDED:
        _signal.signal(sig, lambda s, _f: os.kill(pid, s))
    pending = _pending_stdin()
    try:
        if pending:
            _write_all(w, pending)
    except OSError:
        pass
    _thread.start_new_thread(_pump, (w,))
    _, status = os.waitpid(pid, 0)
    os._exit(_exit_code(status))
