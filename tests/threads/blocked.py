"""Threads blocked in each kind of wait when the program moves: each call is made again
at the destination (timeouts with the time they had left) and completes there."""

import queue
import threading
import time

import teleporter

log = []
lock = threading.Lock()
lock.acquire()
rlock = threading.RLock()
cond = threading.Condition()  # on an RLock: its waiter keeps the owner's ident
event = threading.Event()
sem = threading.Semaphore(0)
barrier = threading.Barrier(2)
simple = queue.SimpleQueue()
held = threading.Event()
release_rlock = threading.Event()


def on_lock():
    lock.acquire()
    log.append("lock")


def on_rlock_holder():
    with rlock:
        with rlock:
            held.set()
            release_rlock.wait()
            log.append(("rlock held twice", rlock._is_owned()))


def on_cond():
    with cond:
        cond.wait_for(lambda: log.count("go") > 0)
        log.append(("cond", cond._is_owned()))


def on_event():
    log.append(("event", event.wait(60)))


def on_sem():
    sem.acquire()
    log.append("sem")


def on_barrier():
    log.append(("barrier", barrier.wait() in (0, 1)))


def on_simple():
    log.append(("simple", simple.get()))


def sleeper():
    time.sleep(3.0)
    # 2 s were slept before the move: about 1 s was left after it (3 s, had the sleep
    # started again in full).
    log.append(("slept the time left", time.monotonic() - moved_at < 2.0))


def joiner():
    workers[0].join()
    log.append("joined")


workers = [
    threading.Thread(target=f, name=f.__name__)
    for f in (on_lock, on_rlock_holder, on_cond, on_event, on_sem, on_barrier, on_simple, sleeper)
]
for t in workers:
    t.start()
workers.append(threading.Thread(target=joiner, name="joiner"))
workers[-1].start()
held.wait()
time.sleep(2.0)
teleporter.teleport()
moved_at = time.monotonic()
print("rlock owned by another thread:", not rlock._is_owned() and not rlock.acquire(False))
lock.release()
release_rlock.set()
with cond:
    log.append("go")
    cond.notify_all()
event.set()
sem.release()
barrier.wait()
simple.put("item")
for t in workers:
    t.join()
print("all ended:", not any(t.is_alive() for t in workers))
print("rlock free again:", rlock.acquire(False))
print(sorted(map(str, log)))
