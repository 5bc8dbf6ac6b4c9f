"""threading.local values of every thread move, each thread finding its own again; a
subclass's __init__ runs for a thread that touches it first after the move."""

import threading

import teleporter


class Counter(threading.local):
    def __init__(self):
        self.n = 0


loc = threading.local()
loc.who = "main"
counter = Counter()
counter.n = 5
ready = threading.Barrier(3)
go = threading.Event()
out = {}


def work(name):
    loc.who = name
    counter.n = len(name)
    ready.wait()
    go.wait()
    out[name] = (loc.who, counter.n)


threads = [threading.Thread(target=work, args=(n,)) for n in ("alpha", "beta")]
for t in threads:
    t.start()
ready.wait()
teleporter.teleport()
go.set()
for t in threads:
    t.join()
late = []
t = threading.Thread(target=lambda: late.append((getattr(loc, "who", None), counter.n)))
t.start()
t.join()
print("main:", loc.who, counter.n)
print("threads:", sorted(out.items()))
print("a new thread:", late)
