"""Steps of pure Python arithmetic: a signal finds the main thread running bytecode, in
a function called from a loop, with a generator and a handled exception on the way."""

import sys


def digits(n):
    while n:
        yield n % 10
        n //= 10


def work(seed, rounds):
    acc = seed
    for j in range(rounds):
        acc = (acc * 1103515245 + 12345 + j) % 2147483648
    return acc


acc = 1
try:
    raise KeyError("handled")
except KeyError:
    for i in range(12):
        acc = work(acc, 600000)  # ~50 ms a step: a signal after a step finds it running
        print(f"step {i} {acc} {sum(digits(acc))} {sys.exception()!r}", flush=True)
print("result", acc)
