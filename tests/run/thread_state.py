"""The main thread's own state, read by teleporter's thread when a signal checkpoints
the program: a threading.local's values, context variables, decimal's context, the
blocked signals, a handled exception; a worker thread with a local of its own."""

import contextvars
import decimal
import signal
import sys
import threading
import time

local = threading.local()
local.name = "main's"
request = contextvars.ContextVar("request", default="none")
request.set("req-42")
decimal.getcontext().prec = 6
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
stop = threading.Event()


def worker():
    while not stop.wait(0.01):
        pass


t = threading.Thread(target=worker)
t.start()
try:
    raise LookupError("being handled")
except LookupError:
    for i in range(10):
        print(f"step {i}", decimal.Decimal(1) / decimal.Decimal(7), flush=True)
        time.sleep(0.05)
    print(
        "state:",
        local.name,
        request.get(),
        decimal.getcontext().prec,
        sorted(signal.pthread_sigmask(signal.SIG_BLOCK, ())),
        repr(sys.exception()),
    )
stop.set()
t.join()
print("result", t.is_alive())
