import os

import teleporter

START = os.getpid()
DEPTH = 800


def down(n, acc):
    if n == 0:
        teleporter.teleport()
        return acc
    return down(n - 1, acc + [n % 7])[-3:] + [n]


print(len(down(DEPTH, [])), down.__name__)
print("moved:", os.getpid() != START)
