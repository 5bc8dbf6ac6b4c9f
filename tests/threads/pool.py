"""A thread pool with busy workers and queued work, moved; the futures complete there."""

import concurrent.futures as cf
import threading

import teleporter


def work(n):
    total = 0
    for i in range(n * 20000):
        total += i % 7
    return n, total


started = threading.Event()
with cf.ThreadPoolExecutor(max_workers=3) as pool:
    futures = [pool.submit(work, n) for n in range(1, 25)]
    futures[0].result()
    teleporter.teleport()
    done, pending = cf.wait(futures[:5])
    print("first five:", len(done), len(pending))
    print("in order:", [f.result() for f in futures][-3:])
    everything = sorted(f.result()[0] for f in cf.as_completed(futures))
    print("as completed:", everything == list(range(1, 25)))
print("workers gone:", [t.name for t in threading.enumerate()])
