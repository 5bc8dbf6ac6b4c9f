"""Workers counting under `with lock:` and `with rlock:` while the main thread holds both:
at the move every worker waits to enter a with statement (no call of its own to make
again); each enters it at the destination, and no count is lost or doubled."""

import threading
import time

import teleporter

lock = threading.Lock()
rlock = threading.RLock()
count = {"lock": 0, "rlock": 0, "both": 0}


def worker():
    for _ in range(500):
        with lock:
            count["lock"] += 1
        with rlock:
            count["rlock"] += 1
            with lock:
                count["both"] += 1


workers = [threading.Thread(target=worker, name=f"worker-{i}") for i in range(4)]
lock.acquire()
rlock.acquire()
for t in workers:
    t.start()
time.sleep(0.05)
teleporter.teleport()
lock.release()
rlock.release()
for t in workers:
    t.join()
print(count)
