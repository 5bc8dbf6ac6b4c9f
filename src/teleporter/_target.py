"""The first code a launched destination runs; it needs nothing at the target but Python.

The origin sends this file's source through the launcher's stdin (the command line only
carries a few lines that read it), followed by a call ``main(params)``. It depends on the
standard library alone, because teleporter itself may be missing at the target.

Wire format, both directions: frames of one kind byte, a 4-byte big-endian length and the
data. Towards the origin the frames follow ``MAGIC`` on stdout (a login shell may print
first). The exchange:

1. target -> origin: ``H`` hello: ``key=value`` lines (Python version, bytecode magic,
   platform, extension suffix, executable, teleporter version if installed, whether a
   shipped copy is cached here);
2. origin -> target: ``Q`` (refused: leave), or ``S`` (use the shipped teleporter: the
   data is its archive, empty for the cached copy), then ``R`` (run: empty for a teleport,
   the number of copies for a fork); the payload follows raw, then the program's stdin as frames;
3. from ``R`` on, teleporter's supervisor serves the program (``teleporter._supervisor``).

Any failure after the hello is reported as an ``F`` frame: the origin raises it as a
TeleportError and keeps running.
"""

import os
import sys

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


def _cache_dir(ship_id: str) -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "teleporter", ship_id)


def _unpack(archive: bytes, dest: str) -> None:
    """Writes the shipped files (u16 name length, name, u32 size, data; repeated)."""
    at = 0
    while at < len(archive):
        n = int.from_bytes(archive[at : at + 2], "big")
        name = archive[at + 2 : at + 2 + n].decode()
        size = int.from_bytes(archive[at + 2 + n : at + 6 + n], "big")
        data = archive[at + 6 + n : at + 6 + n + size]
        at += 6 + n + size
        parts = name.split("/")
        if len(data) != size or name.startswith("/") or ".." in parts or not parts[0]:
            raise ValueError("malformed archive of teleporter")
        path = os.path.join(dest, *parts)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)


def _ship(archive: bytes, ship_id: str) -> str:
    """Puts the shipped teleporter in the user's cache (or a temporary directory) and
    returns the directory to import it from."""
    final = _cache_dir(ship_id)
    if not archive:
        return final
    try:
        os.makedirs(os.path.dirname(final), exist_ok=True)
        staging = f"{final}.{os.getpid()}.tmp"
        _unpack(archive, staging)
        try:
            os.rename(staging, final)  # atomic: a concurrent copy sees all or nothing
        except OSError:
            import shutil

            shutil.rmtree(staging, ignore_errors=True)
            if not os.path.isdir(final):
                raise
        return final
    except OSError:
        import tempfile

        staging = tempfile.mkdtemp(prefix="teleporter-")
        _unpack(archive, staging)
        return staging


def main(params: dict[str, str]) -> None:
    import _frozen_importlib_external as bootstrap

    cached = os.path.exists(os.path.join(_cache_dir(params["ship_id"]), "teleporter"))
    hello = {
        "python": "%d.%d.%d" % sys.version_info[:3],
        "implementation": sys.implementation.name,
        "magic": bootstrap.MAGIC_NUMBER.hex(),
        "platform": sys.platform,
        "machine": os.uname().machine,
        "ext": bootstrap.EXTENSION_SUFFIXES[0],
        "executable": sys.executable,
        "teleporter": _installed(),
        "cached": "1" if cached else "",
    }
    os.write(1, MAGIC)
    _send(b"H", "".join(f"{k}={v}\n" for k, v in hello.items()).encode())
    shipped = ""
    try:
        while True:
            kind, data = _read_frame()
            if kind == b"S":
                shipped = _ship(data, params["ship_id"])
                sys.path.insert(0, shipped)
            elif kind == b"R":
                break
            else:
                os._exit(0)
        from teleporter import _supervisor

        if shipped:  # imported now: the program's sys.path does not need to show it
            sys.path.remove(shipped)
    except BaseException as e:
        _send(b"F", f"cannot start teleporter at the target: {type(e).__name__}: {e}".encode())
        os._exit(1)
    _supervisor.remote(int(data) if data else None)
