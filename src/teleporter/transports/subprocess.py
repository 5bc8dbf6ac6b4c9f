"""Run the destination as a child process of a launcher command and hand the program over.

``command`` is an argv prefix that runs one shell command line on the target
(``("bash", "-c")``, ``("ssh", "host")``, ...); with no command the line runs under the
local ``/bin/sh``. The payload streams through the child's stdin, never through argv, so
any size works; after it, the origin forwards its own stdin (including what its
``sys.stdin`` had already buffered), forwards terminating signals, and exits with the
destination's exit code. The child's stdout and stderr are the origin's own.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import threading

TYPE_CHECKING = False  # typing itself costs start-up time
if TYPE_CHECKING:
    from typing import IO, Mapping, NoReturn, Sequence

# Where this teleporter was imported from, absolute: the destination finds the same one
# even when the origin relied on a relative PYTHONPATH and has changed directory since.
_HOME = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_PARENT = os.path.dirname(_HOME)
BOOT = f"import sys; sys.path.insert(0, {_PARENT!r}); import teleporter._boot as b; b.main()"
_FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def command_line(python: str, env: Mapping[str, str] | None) -> str:
    exports = "".join(f"export {k}={shlex.quote(v)}; " for k, v in (env or {}).items())
    flags = ["-O"] * sys.flags.optimize
    return exports + "exec " + shlex.join([python, *flags, "-c", BOOT])


def _pending_stdin() -> bytes:
    """What the origin's sys.stdin has read from fd 0 but the program has not consumed."""
    stdin = sys.stdin
    if stdin is None or stdin.closed:
        return b""
    try:
        fd = stdin.fileno()
    except (OSError, ValueError):
        return b""
    if fd != 0:
        return b""
    try:
        os.set_blocking(0, False)
    except OSError:
        return b""
    try:
        text = stdin.read(1 << 30)
    except (OSError, ValueError, TypeError):
        text = ""
    finally:
        os.set_blocking(0, True)
    return text.encode(stdin.encoding or "utf-8", stdin.errors or "strict") if text else b""


def _pump(dst: IO[bytes]) -> None:
    try:
        while True:
            try:
                data = os.read(0, 65536)
            except OSError:
                data = b""
            if not data:
                break
            dst.write(data)
            dst.flush()
    except (BrokenPipeError, ValueError, OSError):
        pass
    finally:
        try:
            dst.close()
        except OSError:
            pass


def hand_off(
    payload: bytes, command: Sequence[str], python: str, env: Mapping[str, str] | None
) -> NoReturn:
    """Starts the destination, streams the payload, then serves it until it exits."""
    line = command_line(python, env)
    argv = [*command, line] if command else ["/bin/sh", "-c", line]
    pending = _pending_stdin()
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
    # Its own process group: a Ctrl-C at the terminal reaches the origin only, which
    # forwards it once.
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, process_group=0)
    assert proc.stdin is not None
    for sig in _FORWARDED:
        signal.signal(sig, lambda s, _f: proc.send_signal(s))
    try:
        proc.stdin.write(payload)
        if pending:
            proc.stdin.write(pending)
        proc.stdin.flush()
    except BrokenPipeError:
        pass
    threading.Thread(target=_pump, args=(proc.stdin,), daemon=True).start()
    while True:
        try:
            rc = proc.wait()
            break
        except InterruptedError:
            continue
    os._exit(128 - rc if rc < 0 else rc)
