import functools
import os

import teleporter

START = os.getpid()


def traced(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        print("call", func.__name__, args, sorted(kwargs))
        return ("wrapped", func(*args, **kwargs))

    return wrapper


def tagged(tag):
    def deco(func):
        def inner(*a, **k):
            return tag, func(*a, **k)

        return inner

    return deco


class Box:
    def __init__(self, v):
        self.v = v

    def __repr__(self):
        return f"Box({self.v})"

    @traced
    def method(self, a, *rest, scale=1, **extra):
        teleporter.teleport()
        return self.v * scale + a + sum(rest) + len(extra)

    @classmethod
    def make(cls, *args, **kwargs):
        return cls(*args, **kwargs).method(*args, **kwargs)

    @staticmethod
    def static(x, *, y):
        teleporter.teleport()
        return x - y


@tagged("deco")
def keyword_only(a, /, b, *, c):
    teleporter.teleport()
    return a, b, c


args = (2, 3, 4)
kwargs = {"scale": 10, "flag": True}
print(Box(1).method(*args, **kwargs))
print(Box.make(5))
print(Box.static(9, y=4))
print(keyword_only(1, b=2, c=3))
print(functools.partial(Box(2).method, 1)(scale=3) if False else "skip partial")
print("moved:", os.getpid() != START)
