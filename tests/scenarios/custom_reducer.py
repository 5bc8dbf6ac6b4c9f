import copyreg
import os
import threading

import teleporter

START = os.getpid()


class Guarded:
    """Holds a lock, which cannot travel: a reducer says how to rebuild it instead."""

    def __init__(self, value):
        self.value = value
        self.lock = threading.Lock()


def reduce_guarded(g):
    return Guarded, (g.value,)


copyreg.pickle(Guarded, reduce_guarded)
item = Guarded(41)
with item.lock:
    item.value += 1
teleporter.teleport()
with item.lock:
    print("moved:", os.getpid() != START, "value:", item.value, type(item.lock).__name__)
