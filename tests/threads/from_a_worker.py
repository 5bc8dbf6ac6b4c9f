"""The move is called by a worker thread: the whole program moves, the main thread at
work (parked at a line) and a daemon ticker with it, and the call returns in that worker,
the same Thread object, which still holds its RLock, handles its exception and finds its
threading.local value."""

import sys
import threading

import teleporter

COPY = None  # fork(n)'s index, in the test that forks
stop = threading.Event()
ticking = threading.Event()
spinning = threading.Event()
local = threading.local()
lock = threading.RLock()
out = {}


def tick():
    n = 0
    while not stop.wait(0.001):
        n += 1
        ticking.set()
    out["ticked"] = n > 0


def mover():
    global COPY
    local.value = "mover"
    ticking.wait()
    spinning.wait()  # the others at work when it moves
    with lock:
        try:
            raise KeyError("handled")
        except KeyError:
            teleporter.teleport()
            out["handled"] = repr(sys.exc_info()[1])
        out["owned"] = lock._is_owned()
    out["local"] = local.value
    out["same thread"] = threading.current_thread() is worker
    out["ident"] = threading.get_ident() == worker.ident
    out["native_id"] = threading.get_native_id() == worker.native_id


local.value = "main"
ticker = threading.Thread(target=tick, name="ticker", daemon=True)
ticker.start()
worker = threading.Thread(target=mover, name="mover")
worker.start()
spins = 0
while worker.is_alive():
    spins += 1
    if spins == 1000:
        spinning.set()
stop.set()
ticker.join()
print("main:", local.value, threading.current_thread() is threading.main_thread(), spins > 0)
print("lock free:", lock.acquire(blocking=False), threading.active_count())
print(sorted(out.items()))
