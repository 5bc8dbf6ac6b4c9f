"""Threads waiting on futures (Future.result, concurrent.futures.wait and as_completed) and
on a full queue when the program moves, and one started with _thread: each wait is made
again at the destination and completes there, and each thread's native_id is the
destination's."""

import _thread
import concurrent.futures as cf
import queue
import threading
import time

import teleporter

log = []
futures = [cf.Future() for _ in range(3)]
full = queue.Queue(maxsize=1)
full.put("first")
raw_go = _thread.allocate_lock()
raw_go.acquire()
raw_done = _thread.allocate_lock()
raw_done.acquire()
native = threading.Event()


def on_result():
    log.append(("result", futures[0].result()))


def on_result_timeout():
    log.append(("result timeout=", futures[1].result(timeout=60)))


def on_wait():
    done, pending = cf.wait(futures, return_when=cf.ALL_COMPLETED)
    log.append(("wait", len(done), len(pending)))


def on_first_completed():
    done, _ = cf.wait(futures, timeout=60, return_when=cf.FIRST_COMPLETED)
    log.append(("first completed", 2 in [f.result() for f in done]))


def on_as_completed():
    got = []
    for f in cf.as_completed(futures):
        got.append(f.result())
    log.append(("as_completed", sorted(got)))


def on_put():
    full.put("second")
    log.append("put")


def on_native_id():
    native.wait()
    log.append(("native_id", threading.get_native_id() == threading.current_thread().native_id))


def raw(name):
    with raw_go:
        log.append(("raw", name, threading.get_native_id() > 0))
    raw_done.release()


workers = [
    threading.Thread(target=f, name=f.__name__)
    for f in (
        on_result,
        on_result_timeout,
        on_wait,
        on_first_completed,
        on_as_completed,
        on_put,
        on_native_id,
    )
]
for t in workers:
    t.start()
_thread.start_new_thread(raw, ("started with _thread",))
time.sleep(0.2)
teleporter.teleport()
print("main native_id:", threading.main_thread().native_id == threading.get_native_id())
native.set()
futures[1].set_result(2)
time.sleep(0.05)
futures[0].set_result(1)
futures[2].set_result(3)
print("got:", full.get(), full.get())
raw_go.release()
raw_done.acquire()
for t in workers:
    t.join()
print(sorted(map(str, log)))
