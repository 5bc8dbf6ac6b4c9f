import os
import sys

import teleporter

START = os.getpid()
sys.setrecursionlimit(12000)


def down(n):
    if n == 0:
        teleporter.teleport()
        teleporter.teleport()  # and again from there: the destination's budget holds too
        return 0
    return down(n - 1) + 1


print(down(10_000), sys.getrecursionlimit())
print("moved:", os.getpid() != START)
