# A thread in native code without the GIL for a long time (hashing a large buffer) while
# the main thread prints its steps: a checkpoint waits for it to reach a safe point.
import hashlib
import threading
import time

data = b"x" * 300_000_000
started = threading.Event()


def digest():
    started.set()
    for _ in range(4):
        hashlib.sha256(data).digest()  # releases the GIL for large data


worker = threading.Thread(target=digest, name="hasher")
worker.start()
started.wait()
for step in range(1, 4):
    print("step", step, flush=True)
    time.sleep(0.01)
worker.join()
print("done")
