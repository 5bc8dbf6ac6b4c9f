"""A move through a launcher: any argv prefix that runs one shell command line on the
target (``ssh host``, ``bash -c``, ``srun ... bash -c``, ``kubectl exec -i pod -- sh -c``).

The command line only finds a Python (``python=``, else the origin's interpreter path if
it exists there, else ``python3.X`` of the same minor version) and starts it on a few
lines that read the rest from stdin: ``teleporter._target``'s source, sent at once, so the
target's start-up overlaps the capture. The target answers with a hello (its Python,
platform and teleporter); the origin refuses a target that cannot continue the program,
ships teleporter itself when the target lacks it (same platform and Python), then streams
the payload and waits for the word that the program was rebuilt there. Everything up to
that word raises TeleportError here, and the program keeps running. After it, the origin
serves the destination until it ends: output frames to its stdout and stderr, its stdin
and its signals as frames the other way, and exits with the destination's exit code; a
connection that drops ends it with code 255 and one line on stderr.
"""

from __future__ import annotations

import os
import sys

from .. import _payload, _target
from .._guard import KILL_AFTER, Guard
from .._target import Frames, exit_code, frame, write_all
from .._version import __version__
from ..errors import TeleportError
from .local import (
    HOME,
    become_server,
    flush_stdio,
    pending_stdin,
    printable,
    stand_down,
)

TYPE_CHECKING = False  # typing itself costs start-up time
if TYPE_CHECKING:
    import signal as _signal
    from collections.abc import Mapping, Sequence
    from typing import Any, NoReturn
else:
    import _signal

# Reads an 8-digit length, then that much Python source, from stdin and runs it.
STAGE1 = (
    'import os;r=lambda n,b=b"":b if len(b)>=n else r(n,b+(os.read(0,n-len(b)) or os._exit(0)))'
    ";exec(r(int(r(8))))"
)


def printable_lines(data: bytes) -> list[str]:
    """A target's text (its hello) as lines safe to print."""
    return [printable(line) for line in data.split(b"\n") if line]


def quote(arg: str) -> str:
    """POSIX shell quoting (what shlex.quote does, without importing re)."""
    if arg and all(c.isalnum() or c in "@%+=:,./-_" for c in arg):
        return arg
    return "'" + arg.replace("'", "'\"'\"'") + "'"


def command_line(python: str | None, env: Mapping[str, str] | None) -> str:
    """The one shell command line a launcher runs on the target. `env` was checked
    (teleporter._api._valid_env): its names need no quoting, its values have no NUL."""
    exports = "".join(f"export {name}={quote(value)}; " for name, value in (env or {}).items())
    minor = "python%d.%d" % sys.version_info[:2]
    if python:
        find, tried = f"P={quote(python)}", python
    else:
        exe = sys.executable
        find, tried = f'P={quote(exe)}; [ -x "$P" ] || P={minor}', f"{exe} or {minor}"
    missing = quote(f"teleporter: no Python at the target (looked for {tried})")
    flags = " -O" * sys.flags.optimize
    return (
        f'{exports}{find}; command -v "$P" >/dev/null 2>&1 || {{ echo {missing} >&2; exit 127; }}; '
        f'exec "$P"{flags} -c {quote(STAGE1)}'
    )


def _ext_suffix() -> str:
    import _frozen_importlib_external as bootstrap

    return str(bootstrap.EXTENSION_SUFFIXES[0])


def _shipped_files() -> list[tuple[str, str]]:
    """(name in the archive, path here) of what a target needs to run teleporter: its
    Python sources and the extension built for this interpreter, sorted by name."""
    ext = "_teleporter_impl" + _ext_suffix()
    files = []
    for root, dirs, names in os.walk(HOME):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in names:
            if name.endswith(".py") or name == ext:
                path = os.path.join(root, name)
                files.append(("teleporter/" + os.path.relpath(path, HOME), path))
    return sorted(files)


_named: tuple[object, str] = ((), "")  # the last ship id, and the files' state it is for


def ship_id() -> str:
    """Names this build of teleporter: version, interpreter tag and the SHA-256 of its
    archive, which the target checks a cached copy against (see teleporter._target)."""
    global _named
    key = [
        (name, st.st_ino, st.st_size, st.st_mtime_ns)
        for name, path in _shipped_files()
        for st in [os.stat(path)]
    ]
    if _named[0] != key:  # hashed once per process, again only if a file changed
        tag = _ext_suffix().strip(".").removesuffix(".so").replace(".", "-")
        _named = (key, f"{__version__}-{tag}-{_target._sha256(archive()).hexdigest()}")
    return _named[1]


def archive() -> bytes:
    """teleporter's files for a target without it: u16 name length, name, u32 size,
    data; repeated, sorted by name (the target hashes its cached copy the same way)."""
    parts = []
    for name, path in _shipped_files():
        with open(path, "rb") as f:
            data = f.read()
        raw = name.encode()
        parts += [len(raw).to_bytes(2, "big"), raw, len(data).to_bytes(4, "big"), data]
    return b"".join(parts)


def _decide(hello: dict[str, str]) -> bool:
    """Whether teleporter must be shipped to a target that said `hello`; TeleportError
    when the target cannot continue the program."""
    import _frozen_importlib_external as bootstrap

    ours = "%d.%d.%d" % sys.version_info[:3]
    theirs, impl = hello.get("python", "?"), hello.get("implementation", "?")
    where = hello.get("executable", "?")
    if (
        impl != sys.implementation.name
        or theirs.split(".")[:2] != ours.split(".")[:2]
        or hello.get("magic") != bootstrap.MAGIC_NUMBER.hex()
    ):
        raise TeleportError(
            f"the target's Python cannot continue this program: it is {impl} {theirs} "
            f"({where}), this program runs on {sys.implementation.name} {ours}; a program "
            "moves only to the same minor version (choose the target's interpreter with python=)"
        )
    installed = hello.get("teleporter", "")
    if installed == __version__:
        return False
    same = (
        hello.get("platform") == sys.platform
        and hello.get("machine") == os.uname().machine
        and hello.get("ext") == _ext_suffix()
    )
    if not same:
        have = (
            f"teleporter {installed} is installed" if installed else "teleporter is not installed"
        )
        raise TeleportError(
            f"{have} at the target ({where}) and this one ({__version__}) cannot be shipped "
            f"there: it is {hello.get('platform')} {hello.get('machine')}, here "
            f"{sys.platform} {os.uname().machine}; install teleporter {__version__} there"
        )
    return True


class LauncherMove:
    """A destination behind a launcher, started at once (see the module's docstring)."""

    def __init__(
        self,
        command: Sequence[str],
        python: str | None,
        env: Mapping[str, str] | None,
        copies: int | None,
    ) -> None:
        self.copies = copies
        self.name = printable(" ".join(command).encode(), limit=100)  # for one-line errors
        argv = [*command, command_line(python, env)]
        stdin_r, self.stdin = os.pipe()
        self.stdout, stdout_w = os.pipe()
        self.stderr, stderr_w = os.pipe()
        actions = [
            (os.POSIX_SPAWN_DUP2, stdin_r, 0),
            (os.POSIX_SPAWN_DUP2, stdout_w, 1),
            (os.POSIX_SPAWN_DUP2, stderr_w, 2),
        ]
        flush_stdio()
        try:
            self.pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions, setpgroup=0)
        except OSError as e:
            for fd in (self.stdin, self.stdout, self.stderr):
                os.close(fd)
            raise TeleportError(f"cannot start {argv[0]!r}: {e.strerror}") from None
        finally:
            for fd in (stdin_r, stdout_w, stderr_w):
                os.close(fd)
        self.errors = bytearray()  # what the launcher said on stderr before the hand-off
        self.frames = Frames()
        self.early: list[tuple[bytes, bytes]] = []
        self.output: list[tuple[bytes, bytes]] = []  # the program's, before the word to run
        self.pidfd = -1
        self.seen = bytearray()  # stdout before the target's first frame
        self.started = False
        # Named only now (it reads teleporter's files), while the launcher connects.
        self.id = ship_id()
        with open(os.path.join(HOME, "_target.py"), "rb") as f:
            source = f.read() + f"\nmain({{'ship_id': {self.id!r}}})\n".encode()
        try:
            write_all(self.stdin, b"%08d" % len(source) + source)
        except OSError:
            pass  # the launcher failed already: the hello will say how

    # -- before the hand-off ------------------------------------------------------------

    def _stop(self) -> int:
        for fd in (self.stdin, self.stdout, self.stderr):
            if fd >= 0:
                os.close(fd)
        self.stdin = self.stdout = self.stderr = -1
        try:
            os.kill(self.pid, _signal.SIGTERM)
        except OSError:
            pass
        return exit_code(os.waitpid(self.pid, 0)[1])

    def cancel(self) -> None:
        self._stop()

    def _failed(self, what: str, end: bool = False) -> TeleportError:
        """The launcher ended before the hand-off, or (with `end`) is made to end because
        the target broke the protocol: why, in one line. What it still says on stderr is
        read while it ends; one that lingers is asked to end, then killed."""
        import select

        os.close(self.stdin)
        self.stdin = -1
        nudges = [_signal.SIGTERM, _signal.SIGKILL]
        if end:
            self._signal(nudges.pop(0))
        while self.stderr >= 0:
            if not select.select([self.stderr], [], [], KILL_AFTER)[0]:
                if not nudges:
                    break  # something the launcher started holds its stderr open
                self._signal(nudges.pop(0))
                continue
            data = os.read(self.stderr, 65536)
            if not data:
                break
            self.errors += data
            del self.errors[: max(0, len(self.errors) - 65536)]
        code = self._stop()
        said = [printable(line.strip()) for line in bytes(self.errors).splitlines()]
        said = [line for line in said if line]
        detail = f": {said[-1]}" if said else ""
        return TeleportError(f"{what} ({self.name} exited with code {code}){detail}")

    def _signal(self, sig: int) -> None:
        try:
            os.kill(self.pid, sig)  # not reaped yet: the pid is still the launcher's
        except OSError:
            pass

    def _next_frame(self) -> tuple[bytes, bytes] | None:
        """The target's next frame; None when the launcher's stdout ends."""
        import select

        while not self.early:
            ready = select.select([self.stdout, self.stderr], [], [])[0]
            if self.stderr in ready:
                self.errors += os.read(self.stderr, 65536)
                del self.errors[: max(0, len(self.errors) - 65536)]
            if self.stdout in ready:
                data = os.read(self.stdout, 65536)
                if not data:
                    return None
                if not self.started:
                    self.seen += data
                    at = self.seen.find(_target.MAGIC)
                    if at < 0:  # a login shell's banner: only its end can start the magic
                        del self.seen[: -len(_target.MAGIC)]
                        continue
                    self.started = True
                    data = bytes(self.seen[at + len(_target.MAGIC) :])
                self.early += self.frames.feed(data)
        return self.early.pop(0)

    def _fail(self, guard: Guard, error: TeleportError) -> NoReturn:
        """Ends a move that did not happen: the launcher stopped, the program's signal
        handling back (held signals handled now), then `error` or why it was cancelled."""
        if self.stdin >= 0 or self.stdout >= 0:
            self._stop()
        guard.release()
        os.close(self.pidfd)
        raise TeleportError(guard.reason(str(error)))

    def hand_off(
        self, snapshot: tuple[bytes, memoryview, list[Any]], guard: Guard, timeout: float | None
    ) -> NoReturn:
        pidfd = self.pidfd = os.pidfd_open(self.pid)

        def stop() -> None:  # a launcher (ssh, srun) is asked first, then made to end
            _signal.pidfd_send_signal(pidfd, _signal.SIGTERM)

        def kill() -> None:
            _signal.pidfd_send_signal(pidfd, _signal.SIGKILL)

        guard.watch(stop, kill)
        late = f" within {timeout:g} s" if timeout is not None else ""
        if timeout is not None:
            guard.arm(timeout, f"the target did not start teleporter{late}")
        try:
            got = self._next_frame()
        except ValueError as e:
            self._fail(
                guard,
                self._failed(f"the target sent something else than teleporter ({e})", end=True),
            )
        guard.disarm()
        if got is None or got[0] != b"H":
            self._fail(guard, self._failed("the target did not start teleporter", got is not None))
        hello = dict(line.partition("=")[::2] for line in printable_lines(got[1]))
        try:
            ship = _decide(hello)
        except TeleportError as e:
            self._fail(guard, e)
        try:
            if ship:
                write_all(self.stdin, frame(b"S", b"" if hello.get("cached") else archive()))
            write_all(self.stdin, frame(b"R", b"" if self.copies is None else b"%d" % self.copies))
            _payload.write(self.stdin, *snapshot)
        except OSError:
            self._fail(guard, self._failed("the target stopped taking the program"))
        if timeout is not None:
            guard.arm(timeout, f"the target did not say{late} that it rebuilt the program")
        while True:
            try:
                got = self._next_frame()
            except ValueError as e:
                self._fail(guard, self._failed(f"the target broke the protocol ({e})", end=True))
            if got is None:
                self._fail(guard, self._failed("the target ended before the program was rebuilt"))
            if got[0] == b"F":
                self._fail(
                    guard,
                    TeleportError(f"the target could not take the program: {printable(got[1])}"),
                )
            if got[0] == b"A":
                break
            if got[0] not in (b"1", b"2"):
                self._fail(
                    guard,
                    self._failed(f"the target broke the protocol (frame {got[0]!r})", end=True),
                )
            self.output.append(got)
        if not guard.commit():
            self._fail(guard, TeleportError(""))
        try:
            write_all(self.stdin, frame(b"G"))  # from here on, the target runs the program
        except OSError:
            guard.uncommit()
            self._fail(guard, self._failed("the target ended before the program was rebuilt"))
        self._serve(guard)

    # -- after the hand-off -------------------------------------------------------------

    def _serve(self, guard: Guard) -> NoReturn:
        """The origin becomes the server of the program (see teleporter._serve), which
        forwards between its stdio and the target until the program ends."""
        from .. import _serve

        # What came since the word to run (signals, blocked until the server forwards
        # them), the program's buffered stdin and the frames not yet delivered go with it.
        late = guard.finish()
        os.close(self.pidfd)
        outgoing = bytearray()
        for signum in late:
            outgoing += frame(b"K", b"%d" % signum)
        pending = pending_stdin()
        for at in range(0, len(pending), 65536):
            outgoing += frame(b"D", pending[at : at + 65536])
        received = b"".join(frame(k, d) for k, d in self.output + self.early)
        received += bytes(self.frames.buffer)
        carried = b"".join(len(b).to_bytes(4, "big") + b for b in (received, outgoing))
        flush_stdio()
        stand_down()  # the program's timers would outlive the exec
        _serve.write_out(2, bytes(self.errors))  # what the launcher said so far, e.g. warnings
        fds = (self.stdin, self.stdout, self.stderr)
        astray = guard.astray
        try:
            if not become_server((*fds, astray, guard.wakeup)):
                raise OSError  # serve from here
            memory = os.memfd_create("teleporter-carried", 0)  # inheritable
            write_all(memory, carried)
            os.lseek(memory, 0, os.SEEK_SET)
            for fd in (*fds, astray):
                os.set_inheritable(fd, True)
            argv = [sys.executable, "-E", "-s", "-S", os.path.join(HOME, "_serve.py")]
            numbers = (self.pid, *fds, memory, astray)
            os.execv(sys.executable, [*argv, "launcher", *map(str, numbers), self.name])
        except OSError:  # serve from this interpreter, then
            _serve.launcher(self.pid, *fds, carried, self.name, astray, guard.wakeup)
