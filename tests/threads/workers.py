"""Producer, consumer, a daemon ticker and a spinning thread, moved in the middle of
their work: the same Thread objects carry on to the same result."""

import os
import queue
import threading
import time

import teleporter

q = queue.Queue()
results = {}
stop = threading.Event()
checked = threading.Event()  # the consumer outlives the main thread's checks


def producer():
    for i in range(40):
        q.put(i)
        time.sleep(0.005)
        if i == 20:
            checked.wait()
    q.put(None)


def consumer():
    total = 0
    while (item := q.get()) is not None:
        total += item
    results["total"] = total


def ticker():
    n = 0
    while not stop.wait(0.002):
        n += 1
    results["ticked"] = n > 0


def spinner():
    x = 0
    while not stop.is_set():
        x += 1
    results["spun"] = x > 0


threads = [
    threading.Thread(target=producer, name="producer"),
    threading.Thread(target=consumer, name="consumer"),
    threading.Thread(target=ticker, name="ticker", daemon=True),
    threading.Thread(target=spinner, name="spinner"),
]
for t in threads:
    t.start()
time.sleep(0.05)
before = {t.name: (t.daemon, t.is_alive()) for t in threads}
main = threading.main_thread()
pid = os.getpid()
teleporter.teleport()
print("main thread kept:", threading.current_thread() is main is threading.main_thread())
print("same Thread objects:", all(t in threading.enumerate() for t in threads[1:]))
print("idents are this process's:", all(t.ident in threading._active for t in threads[1:]))
after = {t.name: (t.daemon, t.is_alive()) for t in threads[1:]}
print("names and flags:", after == {k: v for k, v in before.items() if k != "producer"})
checked.set()
for t in threads[:2]:
    t.join()
stop.set()
threads[3].join()
threads[2].join()
print("results:", sorted(results.items()))
print("alive after join:", [t.is_alive() for t in threads])
