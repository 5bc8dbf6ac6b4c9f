"""A program that moves itself into a new process halfway through a computation."""

import os

import teleporter


def fibonacci(n):
    a, b = 0, 1
    seen = []
    for i in range(n):
        if i == n // 2:
            print(f"[pid {os.getpid()}] halfway at i={i}, a={a}: teleporting")
            teleporter.teleport()
            print(f"[pid {os.getpid()}] resumed at i={i}, a={a}")
        seen.append(a)
        a, b = b, a + b
    return seen


start = os.getpid()
result = fibonacci(20)
print(f"[pid {os.getpid()}] fibonacci(20) = {result[-3:]} (moved: {os.getpid() != start})")
