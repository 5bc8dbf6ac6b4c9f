"""Producer/consumer threads around a queue.Queue: worker threads crunch a first wave of
jobs and are joined before the move; the same queue and a lock-protected tally are used
again afterwards by a second wave of workers."""

import hashlib
import queue
import threading

import teleporter

jobs = queue.Queue()
results = {}
tally_lock = threading.Lock()
tally = {"done": 0, "bytes": 0}


def work(n):
    data = hashlib.sha256(str(n).encode()).digest() * (n % 7 + 1)
    for _ in range(200):
        data = hashlib.sha256(data).digest()
    return data.hex()[:12]


def worker():
    while True:
        n = jobs.get()
        if n is None:
            jobs.task_done()
            return
        value = work(n)
        with tally_lock:
            results[n] = value
            tally["done"] += 1
            tally["bytes"] += n % 7 + 1
        jobs.task_done()


def wave(numbers, n_threads):
    threads = [threading.Thread(target=worker, name=f"w{i}") for i in range(n_threads)]
    for t in threads:
        t.start()
    for n in numbers:
        jobs.put(n)
    for _ in threads:
        jobs.put(None)
    jobs.join()
    for t in threads:
        t.join()
    return [t.is_alive() for t in threads]


print("wave 1 alive after join:", wave(range(0, 40), 3))
print("tally:", tally, "first:", [results[i] for i in range(3)])
print("threads now:", threading.active_count(), "queue empty:", jobs.empty())

teleporter.teleport()

print("wave 2 alive after join:", wave(range(40, 80), 4))
print("tally:", tally, "last:", [results[i] for i in range(77, 80)])
print("all results:", len(results), hashlib.md5(repr(sorted(results.items())).encode()).hexdigest()[:12])
print("lock free:", tally_lock.acquire(blocking=False))
tally_lock.release()
event = threading.Event()
timer = threading.Timer(0.01, event.set)
timer.start()
print("timer fired:", event.wait(10))
timer.join()
