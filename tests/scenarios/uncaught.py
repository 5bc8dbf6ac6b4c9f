import os

import teleporter

START = os.getpid()


def divide(a, b):
    return a / b


def compute(values):
    total = 0
    for v in values:
        if v == 0:
            teleporter.teleport()
            print("moved:", os.getpid() != START, flush=True)
        total += divide(10, v)
    return total


class Calc:
    def run(self, *values):
        return compute(values)


Calc().run(5, 2, 0)
