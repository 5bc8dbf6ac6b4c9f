import os
import zlib

# This program forks (below): keep numpy's BLAS single-threaded, or CPython 3.12 may warn
# about forking a multi-threaded process (it counts OS threads, unreliably).
os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = "1"
import numpy as np  # noqa: E402
import teleporter

START = os.getpid()
data = np.arange(48 * 2**20 // 8, dtype=np.float64).reshape(-1, 1024)  # 48 MiB
blob = bytearray(os.urandom(1024)) * 1024  # 1 MiB
same = data  # one array, two names
digest = zlib.crc32(data.tobytes())
teleporter.teleport()
print("moved:", os.getpid() != START)
print("intact:", zlib.crc32(data.tobytes()) == digest, data.shape, data.dtype)
print("writable:", data.flags.writeable, "identity:", same is data)
data[0, 0] = -1.0
print("sum:", float(data.sum()), len(blob))
# The moved array behaves as ordinary memory: a forked child's writes stay its own.
pid = os.fork()
if pid == 0:
    data[:] = 0.0
    os._exit(0)
os.waitpid(pid, 0)
print("after fork:", float(data[0, 1]), float(data.sum()))
# Through a launcher (a shell here), buffers travel inside the stream instead.
teleporter.teleport("bash", "-c")
print("via launcher:", float(data.sum()), zlib.crc32(bytes(blob)) == zlib.crc32(bytes(blob)))
# Large bytes and bytearray objects travel beside the stream too, identity kept.
raw = bytes(range(256)) * 8192  # 2 MiB
buf = bytearray(raw)
pair = (raw, raw)
teleporter.teleport()
print("lifted:", type(raw).__name__, type(buf).__name__, pair[0] is pair[1] is raw, buf == raw)
buf[0] = 255
print("bytearray stays mutable:", buf[0], raw[0])
teleporter.teleport("sh", "-c")
print("lifted via launcher:", pair[0] is raw, buf[:2], len(raw), zlib.crc32(raw))
