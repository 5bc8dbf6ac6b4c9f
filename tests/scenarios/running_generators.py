"""Moves from inside generators and coroutines that are running, each driven its own way,
and from frames the interpreter entered through native code that can make its call again."""

import contextlib
import contextvars
import functools
import os
import sys

import teleporter

moves = []


def move(tag):
    pid = os.getpid()
    teleporter.teleport()
    moves.append((tag, os.getpid() != pid))
    print("moved in", tag, sys._getframe(1).f_code.co_name)


def counter(n, tag):
    total = 0
    for i in range(n):
        if i == 2:
            move(tag)
        total += i
        got = yield i
        if got is not None:
            total += got
    return total


# for
out = [x for x in counter(4, "for-comprehension")]
print("for", out)
seen = []
for x in counter(5, "for-loop"):
    seen.append(x)
print("for-loop", seen)

# next() with a default, and gen.__next__
g = counter(4, "next")
print("next", [next(g), next(g), next(g, "end"), g.__next__()])

# send()
g = counter(4, "send")
print("send", [g.send(None), g.send(10), g.send(20), g.send(30)], g.gi_running)


# throw() into a generator that handles it and moves inside its handler
def catcher():
    try:
        yield 1
    except KeyError as e:
        move("throw")
        print("handled inside", repr(e), repr(sys.exception()))
        yield 2
    yield 3


g = catcher()
print("throw", next(g), g.throw(KeyError("k")), next(g), sys.exception())


# yield from, three levels, with a return value
def inner():
    move("yield-from")
    yield "a"
    return "inner-result"


def middle():
    r = yield from inner()
    yield r


def outer():
    yield from middle()
    yield "done"


print("yield-from", [x for x in outer()])


# a generator expression consumed by a for over another generator expression
def items():
    for i in range(3):
        if i == 1:
            move("genexpr")
        yield i


print("genexpr", [y for y in (x * 10 for x in items())])


# a coroutine driven by hand
async def coro_body():
    move("coroutine")
    return "coro-value"


c = coro_body()
try:
    c.send(None)
except StopIteration as e:
    print("coroutine", e.value)


# a contextmanager's __enter__ and __exit__ drive its generator
@contextlib.contextmanager
def managed(tag):
    move(tag + "-enter")
    yield tag
    move(tag + "-exit")


with managed("cm") as value:
    print("with", value)


# a Python iterator class: for calls its __next__ through native code
class Countdown:
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return self

    def __next__(self):
        if self.n == 0:
            raise StopIteration
        if self.n == 2:
            move("__next__")
        self.n -= 1
        return self.n


print("iterator", [x for x in Countdown(4)])


# __init__ run by a class call, __call__ of an object, a functools.partial
class Node:
    def __init__(self, value):
        self.value = value
        move("__init__")
        self.after = value * 2


n = Node(21)
print("init", type(n).__name__, n.value, n.after)


class Command:
    def __call__(self, x):
        move("__call__")
        return x + 1


print("call", Command()(41))


def add(a, b):
    move("partial")
    return a + b


print("partial", functools.partial(add, 40)(2))

request = contextvars.ContextVar("request", default="none")


def handle(name):
    request.set(name)
    move("Context.run")
    return request.get()


# Inside the context it entered (a thread's run() from 3.14 on, asyncio's callbacks).
ctx = contextvars.copy_context()
print("context", ctx.run(handle, "req-1"), request.get(), ctx[request], ctx.run(request.get))
print("all moved", all(m for _, m in moves), [t for t, _ in moves])
