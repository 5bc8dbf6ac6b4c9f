"""The first code a launched destination runs; it needs nothing at the target but Python.

The origin sends this file's source through the launcher's stdin (the command line only
carries a few lines that read it), followed by a call ``main(params)``. It depends on the
standard library alone, because teleporter itself may be missing at the target.

Wire format, both directions: frames of one kind byte, a 4-byte big-endian length and the
data. Towards the origin the frames follow ``MAGIC`` on stdout (a login shell may print
first). The exchange:

1. target -> origin: ``H`` hello: ``key=value`` lines (Python version, bytecode magic,
   platform, extension suffix, executable, teleporter version if installed, whether a
   shipped copy is cached here and passed its checks, see "the shipped copy" below);
2. origin -> target: ``Q`` (refused: leave), or ``S`` (use the shipped teleporter: the
   data is its archive, empty for the cached copy), then ``R`` (run: empty for a teleport,
   the number of copies for a fork); the payload follows raw, then the program's stdin as frames;
3. from ``R`` on, teleporter's supervisor serves the program (``teleporter._supervisor``).

Any failure after the hello is reported as an ``F`` frame: the origin raises it as a
TeleportError and keeps running.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAGIC = b"\0teleporter-target\0"


def _read_exact(n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = os.read(0, n - len(data))
        if not chunk:  # the origin went away or refused: nothing to do here
            os._exit(0)
        data += chunk
    return data


def _read_frame() -> tuple[bytes, bytes]:
    head = _read_exact(5)
    return head[:1], _read_exact(int.from_bytes(head[1:], "big"))


def frame(kind: bytes, data: bytes = b"") -> bytes:
    return kind + len(data).to_bytes(4, "big") + data


class Frames:
    """Splits a byte stream into (kind, data) frames as it arrives. A frame longer than
    `limit` is a broken stream (ValueError), not a reason to buffer gigabytes."""

    def __init__(self, limit: int = 1 << 20) -> None:
        self.buffer = bytearray()
        self.limit = limit

    def feed(self, data: bytes) -> list[tuple[bytes, bytes]]:
        self.buffer += data
        out = []
        while len(self.buffer) >= 5:
            size = int.from_bytes(self.buffer[1:5], "big")
            if size > self.limit:
                raise ValueError(f"a frame of {size} bytes")
            end = 5 + size
            if len(self.buffer) < end:
                break
            out.append((bytes(self.buffer[:1]), bytes(self.buffer[5:end])))
            del self.buffer[:end]
        return out


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def read_to_end(fd: int) -> bytes:
    """Everything until end of file, then closes fd."""
    data = b""
    try:
        while chunk := os.read(fd, 65536):
            data += chunk
    except OSError:
        pass
    os.close(fd)
    return data


def exit_code(status: int) -> int:
    """A wait status as a shell reports it: the exit code, or 128 + the signal."""
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def _send(kind: bytes, data: bytes) -> None:
    write_all(1, frame(kind, data))


def _installed() -> str:
    """The version of the teleporter this interpreter would import, if it has one whose
    extension fits this interpreter; else an empty string."""
    import _frozen_importlib_external as bootstrap

    spec = bootstrap.PathFinder.find_spec("teleporter")
    if spec is None or not spec.submodule_search_locations:
        return ""
    home = list(spec.submodule_search_locations)[0]
    if not os.path.exists(os.path.join(home, "_teleporter_impl" + bootstrap.EXTENSION_SUFFIXES[0])):
        return ""
    try:
        with open(os.path.join(home, "_version.py")) as f:
            text = f.read()
    except OSError:
        return ""
    return text.partition("=")[2].strip().strip("\"'")


# -- the shipped copy of teleporter ---------------------------------------------------
#
# A target without teleporter gets the origin's copy: an archive of its Python sources and
# of the extension built for this interpreter (u16 name length, name, u32 size, data;
# repeated, sorted by name). The archive's SHA-256 names it: the ship id is
# "<version>-<interpreter tag>-<hex digest>". It is kept in $XDG_CACHE_HOME/teleporter/
# (else ~/.cache/teleporter/), in a directory named by the ship id, and imported from
# there only when nobody but this user could have written it and its files still match
# the digest:
#
# - every directory from the cache's teleporter/ directory up to / belongs to this user or
#   root and is writable by no one else, unless it is sticky (as /tmp is: nobody can
#   rename or remove what another user made in it);
# - everything in the copy belongs to this user and is writable by no one else, and no
#   symbolic link or special file is in it;
# - its files, outside __pycache__ directories, are exactly the archive's: the SHA-256 of
#   their names and contents, as in the archive, is the ship id's digest (a changed file,
#   a missing one or an extra module makes the copy unusable).
#
# Python writes and reads its bytecode cache (__pycache__) beside the sources. Its files
# are not hashed (Python rewrites them) but fall under the same ownership and permission
# rules, which is what makes them safe: a planted .pyc would be used whatever the sources
# say, so only this user can have written one. (This user can change any of their own
# files anyway.)
#
# The hello says "cached" only for a copy that passed; any other is replaced by a fresh
# one from the origin (its SHA-256 checked first), staged in a new private directory
# beside it and renamed into place. When the cache cannot be trusted or written (a
# directory above it that others can write, say), the fresh copy goes to a new private
# directory under $TMPDIR (else /tmp), whose directories above must pass the same check;
# that copy serves this run only and is left there. Only when that fails too does the
# target refuse, in one line naming the paths. Directories are made 0700, files 0600.


class Unusable(Exception):
    """Why teleporter cannot be put or imported somewhere: one line, naming the path."""


def _sha256(data: bytes = b"") -> Any:
    import hashlib

    return hashlib.sha256(data)


def _cache_dir(ship_id: str) -> str:
    """The cached copy's directory, with every symbolic link above it resolved (the path
    checked is the path imported)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(os.path.realpath(os.path.join(base, "teleporter")), ship_id)


def _unsafe_chain(path: str) -> str | None:
    """Why someone but this user or root could have changed what the directory `path`
    (resolved) holds, or None: it and every directory above it must belong to this user
    or root and be writable by no one else, unless sticky."""
    uid = os.geteuid()
    while True:
        st = os.lstat(path)
        if st.st_uid not in (uid, 0):
            return f"{path} belongs to another user (uid {st.st_uid})"
        if st.st_mode & 0o022 and not st.st_mode & 0o1000:
            return f"{path} is writable by other users"
        parent = os.path.dirname(path)
        if parent == path:
            return None
        path = parent


def _unsafe_copy(home: str, digest: str) -> str | None:
    """Why the copy of teleporter in `home` must not be imported, or None (see above)."""
    import stat

    uid = os.geteuid()
    files: list[str] = []
    # (path, its lstat, where: "" in the copy, "cache" a __pycache__, "in-cache" within one)
    todo = [(home, os.lstat(home), "")]
    while todo:
        path, st, where = todo.pop()
        if st.st_uid != uid:
            return f"{path} belongs to another user (uid {st.st_uid})"
        if st.st_mode & 0o022:
            return f"{path} is writable by other users"
        if stat.S_ISDIR(st.st_mode) and where != "in-cache":
            with os.scandir(path) as entries:
                for entry in entries:
                    inner = "in-cache" if where else "cache" if entry.name == "__pycache__" else ""
                    todo.append((entry.path, entry.stat(follow_symlinks=False), inner))
        elif stat.S_ISREG(st.st_mode) and where != "cache":
            if not where:
                files.append(os.path.relpath(path, home))
        else:
            return f"{path} is not a regular file or directory"
    h = _sha256()
    for name in sorted(files):
        with open(os.path.join(home, name), "rb") as f:
            data = f.read()
        raw = name.encode()
        h.update(len(raw).to_bytes(2, "big") + raw + len(data).to_bytes(4, "big"))
        h.update(data)
    if h.hexdigest() != digest:
        return f"the files in {home} are not those of this teleporter"
    return None


def _cached(ship_id: str) -> str | None:
    """The directory of a usable cached copy of teleporter `ship_id`, or None."""
    home = _cache_dir(ship_id)
    try:
        if os.path.isdir(home) and not _unsafe_chain(os.path.dirname(home)):
            return None if _unsafe_copy(home, ship_id.rpartition("-")[2]) else home
    except OSError:
        pass
    return None


def _make_dirs(path: str) -> None:
    """Creates `path` and the missing directories above it, each with mode 0700."""
    if os.path.isdir(path):
        return
    parent = os.path.dirname(path)
    if parent != path:
        _make_dirs(parent)
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass


def _private_dir(parent: str, prefix: str) -> str:
    """A new directory in `parent` with an unpredictable name, mode 0700 (tempfile.mkdtemp
    without its imports)."""
    while True:
        path = os.path.join(parent, prefix + os.urandom(8).hex())
        try:
            os.mkdir(path, 0o700)
            return path
        except FileExistsError:
            continue


def _remove(path: str) -> None:
    """Removes `path` and everything under it, as far as it can (never follows links)."""
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            with os.scandir(path) as entries:
                for entry in entries:
                    _remove(entry.path)
            os.rmdir(path)
        else:
            os.unlink(path)
    except OSError:
        pass


def _unpack(archive: bytes, dest: str) -> None:
    """Writes the shipped files (u16 name length, name, u32 size, data; repeated) into
    the new directory `dest`, and an empty __pycache__ beside the sources, so that Python
    finds one made with mode 0700 whatever the umask."""
    at = 0
    while at < len(archive):
        n = int.from_bytes(archive[at : at + 2], "big")
        name = archive[at + 2 : at + 2 + n].decode()
        size = int.from_bytes(archive[at + 2 + n : at + 6 + n], "big")
        data = archive[at + 6 + n : at + 6 + n + size]
        at += 6 + n + size
        parts = name.split("/")
        if len(data) != size or {"", ".", "..", "__pycache__"} & set(parts):
            raise ValueError("malformed archive of teleporter")
        path = os.path.join(dest, *parts)
        _make_dirs(os.path.dirname(path))
        if name.endswith(".py"):
            _make_dirs(os.path.join(os.path.dirname(path), "__pycache__"))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            write_all(fd, data)
        finally:
            os.close(fd)


def _into_cache(archive: bytes, home: str, digest: str) -> str:
    """Puts the verified `archive` at `home` in the cache (staged in a private directory
    beside it, then renamed: a concurrent copy sees all or nothing), replacing an unusable
    copy there; returns `home`."""
    import fcntl

    parent = os.path.dirname(home)
    _make_dirs(parent)
    problem = _unsafe_chain(parent)
    if problem:
        raise Unusable(problem)
    staging = _private_dir(parent, "." + os.path.basename(home) + ".")
    trash = ""
    try:
        _unpack(archive, staging)
        lock = os.open(parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one process at a time checks and replaces
            if os.path.lexists(home):
                if not _unsafe_copy(home, digest):
                    return home  # another process has just put it there
                trash = _private_dir(parent, ".old.")
                os.rename(home, os.path.join(trash, "copy"))
            os.rename(staging, home)
        finally:
            os.close(lock)
    finally:
        _remove(staging)
        if trash:
            _remove(trash)
    return home


def _ship(archive: bytes, ship_id: str) -> str:
    """Puts the shipped teleporter where it can be imported safely (the user's cache, else
    a new private temporary directory) and returns that directory; Unusable when there is
    no such place."""
    digest = ship_id.rpartition("-")[2]
    if _sha256(archive).hexdigest() != digest:
        raise Unusable("the shipped copy of teleporter does not match its checksum")
    home = _cache_dir(ship_id)
    try:
        return _into_cache(archive, home, digest)
    except (OSError, Unusable) as e:
        why = f"{e.strerror}: {e.filename}" if isinstance(e, OSError) and e.strerror else str(e)
    tmp = os.path.realpath(os.environ.get("TMPDIR") or "/tmp")
    try:
        problem = _unsafe_chain(tmp)
        if problem:
            raise Unusable(problem)
        home = _private_dir(tmp, "teleporter-")
        _unpack(archive, home)
        return home
    except (OSError, Unusable) as e:
        again = f"{e.strerror}: {e.filename}" if isinstance(e, OSError) and e.strerror else str(e)
        raise Unusable(
            f"no safe place for teleporter's code: not the cache ({why}), "
            f"nor a temporary directory ({again})"
        ) from None


def main(params: dict[str, str]) -> None:
    import _frozen_importlib_external as bootstrap

    ship_id = params["ship_id"]
    installed = _installed()
    # Only a target that may need the shipped copy checks the cached one.
    cached = None if installed and ship_id.startswith(installed + "-") else _cached(ship_id)
    hello = {
        "python": "%d.%d.%d" % sys.version_info[:3],
        "implementation": sys.implementation.name,
        "magic": bootstrap.MAGIC_NUMBER.hex(),
        "platform": sys.platform,
        "machine": os.uname().machine,
        "ext": bootstrap.EXTENSION_SUFFIXES[0],
        "executable": sys.executable,
        "teleporter": installed,
        "cached": "1" if cached else "",
    }
    os.write(1, MAGIC)
    _send(b"H", "".join(f"{k}={v}\n" for k, v in hello.items()).encode())
    shipped = None
    try:
        while True:
            kind, data = _read_frame()
            if kind == b"S":  # empty: the cached copy this hello vouched for
                shipped = _ship(data, ship_id) if data else cached
                if not shipped:
                    raise Unusable("the origin sent no copy of teleporter and none is cached")
                sys.path.insert(0, shipped)
            elif kind == b"R":
                break
            else:
                os._exit(0)
        from teleporter import _supervisor

        if shipped:  # imported now: the program's sys.path does not need to show it
            sys.path.remove(shipped)
    except BaseException as e:
        why = str(e) if isinstance(e, Unusable) else f"{type(e).__name__}: {e}"
        _send(b"F", f"cannot start teleporter at the target: {why}".encode())
        os._exit(1)
    _supervisor.remote(int(data) if data else None)
