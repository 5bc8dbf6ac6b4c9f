import os

import teleporter

START = os.getpid()


def make():
    count = 0
    shared = []

    def inc():
        nonlocal count
        count += 1
        shared.append(count)
        return count

    def peek():
        return count, shared

    return inc, peek


def run():
    inc, peek = make()
    inc()
    teleporter.teleport()
    inc()
    same_cell = inc.__closure__[0] is peek.__closure__[0]
    return peek(), same_cell


print(run())
adder = (lambda k: lambda v: v + k)(10)
teleporter.teleport()
print(adder(5))
print("moved:", os.getpid() != START)
