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
never = threading.Lock()  # held by the main thread to the end: timed waits time out
never.acquire()
never_put = queue.SimpleQueue()
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


def timed(name, wait):
    # 2 s of a 3 s timeout passed before the move: it times out about 1 s after it
    # (3 s after, had the wait started again in full), whether the timeout was given by
    # position or by keyword.
    result = wait()
    log.append((name, result, time.monotonic() - moved_at < 2.0))


def on_lock_by_keyword():
    timed("lock timeout=", lambda: never.acquire(timeout=3.0))


def on_lock_by_position():
    timed("lock (True, 3.0)", lambda: never.acquire(True, 3.0))


def on_simple_by_keyword():
    def get():
        try:
            return never_put.get(timeout=3.0)
        except queue.Empty:
            return "empty"

    timed("simple timeout=", get)


def joiner():
    workers[0].join()
    log.append("joined")


workers = [
    threading.Thread(target=f, name=f.__name__)
    for f in (
        on_lock,
        on_rlock_holder,
        on_cond,
        on_event,
        on_sem,
        on_barrier,
        on_simple,
        sleeper,
        on_lock_by_keyword,
        on_lock_by_position,
        on_simple_by_keyword,
    )
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
