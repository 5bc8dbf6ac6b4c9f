"""Checkpoints: the payload of a move, written to a file instead of a pipe.

Writing. The payload goes to a temporary file beside the target, ``.NAME.<16 hex>.tmp``:
created exclusively (``O_EXCL``, so never through a link or into a file someone else
made) under a random name, mode 0600, and locked (``flock``) for as long as its writer
works on it. It is fsynced, renamed over the target (readers see the old file or the new
one, whole) and the directory is fsynced. Whatever stops the write (an error, a full
disk, KeyboardInterrupt, a trial rebuild that fails) removes the temporary file. A writer
killed outright leaves it behind; the next checkpoint to the same path removes it, after
checking that it is a regular file of this user that no writer holds the lock of.

Keys. With a key, a checkpoint is signed (HMAC-SHA256, see _payload), and a resume with
a key refuses an unsigned or wrongly signed checkpoint before unpickling anything. The
key is the ``key`` argument, else the file named by TELEPORTER_CHECKPOINT_KEY_FILE, else
TELEPORTER_CHECKPOINT_KEY (setting both variables is refused as ambiguous).
"""

from __future__ import annotations

import os
import stat
import sys

from . import _payload
from .errors import PayloadError, TeleportError, escape

TYPE_CHECKING = False  # typing itself costs start-up time
if TYPE_CHECKING:
    from typing import Any, NoReturn

KEY_ENV = "TELEPORTER_CHECKPOINT_KEY"
KEY_FILE_ENV = "TELEPORTER_CHECKPOINT_KEY_FILE"
_KEY_FILE_LIMIT = 1 << 16

# ---- keys ------------------------------------------------------------------------------


def configured_key(
    key: bytes | str | None = None,
    key_file: str | os.PathLike[str] | None = None,
    error: type[TeleportError] = TeleportError,
) -> bytes | None:
    """The checkpoint key: `key`, else the contents of `key_file`, else the environment's
    (TELEPORTER_CHECKPOINT_KEY_FILE, else TELEPORTER_CHECKPOINT_KEY); None without one.
    A key file's bytes are the key, less one trailing newline."""
    if key is None and key_file is None:
        from_file = os.environ.get(KEY_FILE_ENV)
        from_env = os.environb.get(os.fsencode(KEY_ENV))
        if from_file is not None and from_env is not None:
            raise error(f"both {KEY_ENV} and {KEY_FILE_ENV} are set: set one")
        key_file, key = from_file, from_env
        source = KEY_FILE_ENV if from_file is not None else KEY_ENV
    else:
        source = "the key argument"
    if key_file is not None:
        name = os.fspath(key_file)
        try:
            with open(name, "rb") as f:
                key = f.read(_KEY_FILE_LIMIT + 1)
        except OSError as e:
            raise error(f"cannot read the key file {name!r}: {e.strerror or e}") from None
        if len(key) > _KEY_FILE_LIMIT:
            raise error(f"the key file {name!r} is larger than 64 KiB: is it a key?")
        key = key[:-2] if key.endswith(b"\r\n") else key[:-1] if key.endswith(b"\n") else key
        source = f"the key file {name!r}"
    if key is None:
        return None
    if isinstance(key, str):
        key = key.encode()
    if not isinstance(key, (bytes, bytearray)):
        raise error(f"a checkpoint key is bytes or str, not {type(key).__name__}")
    if not key:
        raise error(f"the checkpoint key is empty ({source})")
    return bytes(key)


# ---- files -----------------------------------------------------------------------------


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def open_checkpoint(path: str) -> int:
    """`path` opened for reading. Anything but a regular file (a directory, a FIFO, a
    device) is refused without being read, and a FIFO without blocking on it."""
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISREG(mode):
            # Non-blocking: should a FIFO have taken its place since, open() returns.
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
            mode = os.fstat(fd).st_mode
            if not stat.S_ISREG(mode):
                os.close(fd)
    except OSError as e:
        raise PayloadError(f"cannot open {path!r}: {e.strerror or e}") from None
    if not stat.S_ISREG(mode):
        raise PayloadError(f"{path!r} is not a checkpoint file: it is {_kind(mode)}")
    os.set_blocking(fd, True)
    return fd


_TOKEN_HEX = 16  # 64 random bits: a name no other writer picks and nobody can predict


def _temp_prefix(base: str) -> str:
    return f".{base}."


def _is_temp_of(name: str, base: str) -> bool:
    """Whether `name` is a temporary file of a checkpoint to `base` (this version's)."""
    prefix = _temp_prefix(base)
    if not (name.startswith(prefix) and name.endswith(".tmp")):
        return False
    token = name[len(prefix) : -len(".tmp")]
    return len(token) == _TOKEN_HEX and all(c in "0123456789abcdef" for c in token)


def _remove_stale(dfd: int, base: str) -> None:
    """Removes the temporary files of checkpoints to `base` (in the directory `dfd`)
    whose writers died: regular files of this user, with one link, that no writer holds
    the lock of. A live writer holds its lock from just after creating its file; one that
    finds its file unlinked once it has the lock starts over with a new one (_Temp)."""
    import fcntl

    uid = os.geteuid()
    try:
        names = [e.name for e in os.scandir(dfd) if _is_temp_of(e.name, base)]
    except OSError:
        return
    for name in names:
        try:
            st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode) or st.st_uid != uid or st.st_nlink != 1:
                continue
            fd = os.open(
                name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dfd
            )
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError: a live writer's
            held = os.fstat(fd)
            now = os.stat(name, dir_fd=dfd, follow_symlinks=False)
            if (held.st_dev, held.st_ino) == (st.st_dev, st.st_ino) == (now.st_dev, now.st_ino):
                os.unlink(name, dir_fd=dfd)
        except OSError:
            pass
        finally:
            os.close(fd)


class _Temp:
    """The temporary file a checkpoint is written to, in the directory `dfd`. discard()
    removes it, whatever point create() or the write reached."""

    def __init__(self, dfd: int, base: str) -> None:
        self.dfd, self.base = dfd, base
        self.name: str | None = None  # set before the file exists: discard() removes it
        self.fd = -1

    def create(self) -> None:
        import errno
        import fcntl
        import secrets

        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        for _ in range(100):
            self.name = name = f"{_temp_prefix(self.base)}{secrets.token_hex(_TOKEN_HEX // 2)}.tmp"
            try:
                fd = os.open(name, flags, 0o600, dir_fd=self.dfd)
            except FileExistsError:  # not ours: leave it alone, pick another name
                self.name = None
                continue
            self.fd = fd
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError as e:
                # A file system without locks (NFS mounted nolock): write unlocked. A
                # clean-up there cannot lock either, so it never takes this file.
                if e.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):
                    raise
            if os.fstat(fd).st_nlink:
                return
            # Another checkpoint's clean-up took it for a dead writer's in the instant
            # before the lock: it is gone, start over.
            os.close(fd)
            self.fd, self.name = -1, None
        raise FileExistsError(0, "no free name for a temporary file")

    def discard(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        if self.name is not None:
            try:
                os.unlink(self.name, dir_fd=self.dfd)
            except OSError:
                pass
            self.name = None


# ---- the trial rebuild ---------------------------------------------------------------


class _Trial:
    """A copy of this process that rebuilds the program from the state just taken, as
    `resume` will, while the checkpoint is written: what would fail at resume (a reducer
    that needs something missing) fails now, where the program can still run."""

    def __init__(self, body: Any, buffers: list[Any]) -> None:
        import warnings

        from ._state import rebuild
        from .transports.local import flush_stdio

        lifted = [b for b in buffers if isinstance(b, (bytes, bytearray))]
        oob = [b for b in buffers if not isinstance(b, (bytes, bytearray))]
        r, w = os.pipe()
        flush_stdio()  # what the program printed is not written twice by the copy
        with warnings.catch_warnings():  # 3.12+ warns about fork() beside native threads
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid:
            os.close(w)
            self.pid, self.r = pid, r
            return
        try:  # the trial copy: nothing it does may be seen, and it never returns
            os.close(r)
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            try:
                rebuild(body, oob, lifted)
                word = b"A"
            except BaseException as e:
                from ._boot import failure

                word = b"F" + failure(e)[0].encode(errors="replace")
            os.write(w, word)
        finally:
            os._exit(0)

    def verdict(self) -> str | None:
        """None when the copy rebuilt the program, else why it could not."""
        chunks = []
        while chunk := os.read(self.r, 65536):
            chunks.append(chunk)
        self._reap()
        word = b"".join(chunks)
        if word == b"A":
            return None
        return word[1:].decode(errors="replace") if word[:1] == b"F" else "the trial rebuild died"

    def stop(self) -> None:
        """Ends the copy without waiting for its verdict (the write failed first)."""
        if self.pid:
            import signal

            os.kill(self.pid, signal.SIGKILL)  # not reaped yet: the pid is still ours
            self._reap()

    def _reap(self) -> None:
        if self.r >= 0:
            os.close(self.r)
            self.r = -1
        if self.pid:
            os.waitpid(self.pid, 0)
            self.pid = 0


# ---- write and resume ----------------------------------------------------------------


def write(
    path: str, depth: int, key: bytes | str | None, safe_point: float, result: Any = True
) -> bool:
    """Saves the caller's program (`depth` teleporter frames above it) to `path`, signed
    when a key is given or configured; its other threads reach a safe point within
    `safe_point` seconds. `result`: what the call returns where the program resumes."""
    from . import _state

    secret = configured_key(key)
    snapshot = _state.snapshot(depth + 1, result, kind="checkpoint", safe_point=safe_point)
    _commit(path, snapshot, secret)
    return False


def write_whole(
    path: str,
    key: bytes | None,
    timeout: float | None,
    resume_program: bool,
    extra: dict[str, Any],
    said: float | None = None,
) -> None:
    """Saves the whole program, captured by a thread of teleporter's own (every thread of
    the program parked, the main thread included), to `path`. `resume_program`: the
    program goes on as soon as it is captured and copied, while the file is written;
    else its threads stay parked (the process is about to end). `extra`: meta fields.
    `said`: the time to reach a safe point that a refusal names (`timeout` being what is
    left of it)."""
    from . import _state

    snapshot = _state.snapshot_whole(timeout=timeout, extra=extra, said=said)
    _commit(path, snapshot, key, resume_program, keep_parked=not resume_program)


def write_between_callbacks(
    path: str, key: bytes | None, timeout: float | None, hold: bool, extra: dict[str, Any]
) -> bool:
    """write_whole() for a program whose main thread runs an asyncio event loop: the loop
    takes the checkpoint itself between two of its callbacks (a task's coroutine runs
    under native frames). False when the main thread runs no loop (nothing done)."""
    from . import _state
    from ._api import SAFE_POINT_TIMEOUT
    from ._event_loop import Delivery, checkpoint_between_callbacks, main_loop

    loop = main_loop()
    if loop is None:
        return False

    def take(depth: int) -> None:
        snapshot = _state.snapshot(
            depth + 1,
            Delivery(None, True),
            kind="checkpoint",
            safe_point=timeout if timeout is not None else SAFE_POINT_TIMEOUT,
            extra=extra,
        )
        _commit(path, snapshot, key)

    checkpoint_between_callbacks(loop, take, timeout, hold)
    return True


def _detached(buffers: list[Any]) -> list[Any]:
    """The buffers, copied where they are views of the program's memory (an array the
    program goes on changing while the file is written)."""
    import pickle

    out: list[Any] = []
    for b in buffers:
        if isinstance(b, bytes):
            out.append(b)
        elif isinstance(b, bytearray):
            out.append(bytearray(b))
        else:
            out.append(pickle.PickleBuffer(bytearray(memoryview(b).cast("B"))))
    return out


def _commit(
    path: str,
    snapshot: Any,
    secret: bytes | None,
    resume_program: bool = False,
    keep_parked: bool = False,
) -> None:
    """Writes a snapshot to `path`: atomically, durably, after a trial rebuild. The parked
    threads go on once it is written, or as soon as the state is copied
    (`resume_program`); with `keep_parked` they stay parked once it is written (the
    process ends), and go on only when it could not be."""
    from . import _threads

    meta, body, buffers = snapshot
    directory, base = os.path.split(os.path.abspath(path))
    trial: _Trial | None = None
    temp: _Temp | None = None
    dfd = -1
    written = False
    try:
        trial = _Trial(body, buffers)
        if resume_program:
            buffers = _detached(buffers)
            _threads.release()
        dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        _remove_stale(dfd, base)
        temp = _Temp(dfd, base)
        temp.create()
        _payload.write(temp.fd, meta, body, buffers, key=secret)
        os.fsync(temp.fd)
        why = trial.verdict()
        trial = None
        if why is not None:
            raise TeleportError(f"cannot checkpoint: the program cannot be rebuilt from it: {why}")
        assert temp.name is not None
        # Atomic: readers see the old file or the new one. The lock is held until the
        # name is the target's, so no clean-up takes the file for a dead writer's.
        os.replace(temp.name, base, src_dir_fd=dfd, dst_dir_fd=dfd)
        temp.name = None
        os.fsync(dfd)  # the rename itself survives a crash
        written = True
    except OSError as e:
        raise TeleportError(f"cannot write the checkpoint {path!r}: {e.strerror or e}") from None
    finally:
        # Written (or not): the program's other threads go on from where they were parked.
        if not (keep_parked and written):
            _threads.release()
        if temp is not None:
            temp.discard()
        if dfd >= 0:
            os.close(dfd)
        if trial is not None:  # the write failed first: the verdict no longer matters
            trial.stop()
        # An exception's traceback keeps this frame: not the state it holds. (The state's
        # view of its BytesIO, collected in a cycle with that BytesIO, makes CPython's
        # garbage collector free the BytesIO first and crash.)
        del meta, body, buffers, snapshot


def _refuse(reason: str, code: int = PayloadError.exit_code) -> NoReturn:
    print(f"teleporter: {escape(reason)}", file=sys.stderr)
    sys.exit(code)


def resume(
    path: str, key: bytes | str | None = None, key_file: str | os.PathLike[str] | None = None
) -> NoReturn:
    """Runs the program saved in `path` in this process, then exits with its code. With
    a key (given or configured), only a checkpoint signed with it is accepted."""
    from . import _boot, _state

    try:
        secret = configured_key(key, key_file, PayloadError)
        fd = open_checkpoint(path)
    except TeleportError as e:
        _refuse(str(e))
    try:
        try:
            _meta, body, buffers, info = _payload.read(fd, key=secret)
        finally:
            os.close(fd)
        restored = _state.rebuild(body, *_payload.split_buffers(buffers, info))
    except BaseException as e:  # whatever went wrong is one line, never a traceback
        reason, code = _boot.failure(e)
        _refuse(reason, code)
    _boot.execute(restored)
    sys.exit(0)
