import os
import sys

import teleporter

START = os.getpid()


def numbers(n):
    total = 0
    for i in range(n):
        total += i
        received = yield i, total
        if received:
            total += received
    return total


def delegate():
    result = yield from numbers(3)
    yield "sub returned", result


def guarded():
    try:
        raise KeyError("inside")
    except KeyError:
        yield repr(sys.exception())
        yield repr(sys.exception())


class Ready:
    def __await__(self):
        value = yield "awaiting"
        return value


async def job(x):
    got = await Ready()
    return x + got


fresh = numbers(2)
started = numbers(5)
next(started)
started.send(10)
done = numbers(1)
list(done)
deleg = delegate()
next(deleg)
guard = guarded()
next(guard)
coro = job(5)
coro.send(None)
pipeline = (i * t for i, t in numbers(4))
next(pipeline)
same = started
box = {"gen": started}


def consume():
    out = []
    for item in numbers(4):
        if item[0] == 2:
            teleporter.teleport()
        out.append(item)
    return out


print(consume())
print("moved:", os.getpid() != START)
print("fresh:", list(fresh))
print("started:", next(started), started.send(100), list(started))
print("identity:", same is started, box["gen"] is started)
print("done:", list(done), done.gi_frame)
print("delegate:", list(deleg))
print("guarded:", next(guard), sys.exception())
try:
    coro.send(37)
except StopIteration as e:
    print("coroutine returned", e.value)
print("pipeline:", list(pipeline))
