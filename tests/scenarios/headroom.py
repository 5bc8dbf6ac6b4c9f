# The recursion budget after a move is the one the program had before it.
import os

import teleporter

START = os.getpid()


def probe(k=0):
    try:
        return probe(k + 1)
    except RecursionError:
        return k


def dive(n):
    if n == 0:
        teleporter.teleport()
        return probe()
    return dive(n - 1)


print("headroom at depth 300:", dive(300))
print("moved:", os.getpid() != START)
