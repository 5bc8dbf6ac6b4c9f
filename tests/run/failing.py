"""Steps, then an uncaught exception: the traceback and the exit code are the
interpreter's own."""

import time


def check(i):
    if i == 8:
        raise ValueError(f"bad step {i}")


for i in range(12):
    print(f"step {i}", flush=True)
    time.sleep(0.03)
    check(i)
