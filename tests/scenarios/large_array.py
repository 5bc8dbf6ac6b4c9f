import os
import zlib

import numpy as np
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
