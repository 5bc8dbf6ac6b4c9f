# A thread that stays in native code without the GIL longer than the time allowed to reach
# a safe point: the move is refused by its name and where it stands.
import hashlib
import threading
import time

import teleporter

data = b"x" * 400_000_000
started = threading.Event()


def digest():
    started.set()
    for _ in range(3):
        hashlib.sha256(data).digest()  # releases the GIL for large data


worker = threading.Thread(target=digest, name="hasher")
worker.start()
started.wait()
time.sleep(0.05)
try:
    teleporter.teleport(safe_point_timeout=0.01)
except teleporter.TeleportError as e:
    print("refused:", e)
worker.join()
print("still running")
