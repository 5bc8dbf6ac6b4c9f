"""Workers that spend nearly all their time in Python code that native code runs: a
generator expression consumed by sum(), a key function called by sorted(), a function
called by map(). A thread stopped there cannot be captured (its native caller's progress
cannot be carried); the move lets each run on to its next line where it can be, and
takes the program there every time."""

import threading
import time

import teleporter

results = {}
started = threading.Barrier(4)


def sums(name):
    started.wait()
    total = 0
    for n in range(150):
        total += sum(k * k % 97 for k in range(20000 + n))
    results[name] = total


def sorts(name):
    started.wait()
    total = 0
    for n in range(150):
        total += sorted(range(5000 + n), key=lambda k: (k * 7919) % 10007)[n]
    results[name] = total


def square(k):
    return k * k % 89


def maps(name):
    started.wait()
    total = 0
    for n in range(150):
        total += sum(map(square, range(20000 + n)))
    results[name] = total


workers = [
    threading.Thread(target=f, args=(f.__name__,), name=f.__name__) for f in (sums, sorts, maps)
]
for t in workers:
    t.start()
started.wait()
time.sleep(0.02)
finished = len(results)
teleporter.teleport()
print("finished before the move:", finished)
for t in workers:
    t.join()
print(sorted(results.items()))
