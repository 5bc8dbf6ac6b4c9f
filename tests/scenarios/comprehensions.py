import os

import teleporter

START = os.getpid()


def step(x):
    if x == 2:
        teleporter.teleport()
    return x * x


squares = [step(x) for x in range(4)]
table = {k: [step(v) for v in range(k)] for k in range(4)}
uniq = {step(x) % 3 for x in range(4)}
print(squares, table, sorted(uniq))
print("moved:", os.getpid() != START)
