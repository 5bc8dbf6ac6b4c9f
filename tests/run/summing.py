"""Most of its time inside a generator that sum() drives (no checkpoint can be taken
there), a little between two sums (where one can)."""

import time


def slow(n):
    for i in range(n):
        time.sleep(0.001)
        yield i


total = 0
for step in range(6):
    total += sum(x * x for x in slow(150))
    for j in range(10):
        time.sleep(0.001)
        total += j
    print("step", step, total, flush=True)
print("total", total)
