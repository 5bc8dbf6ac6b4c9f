"""Async generators held in variables and containers move: fresh, suspended at a yield,
inside a try, exhausted; iteration continues under a new event loop at the destination."""

import asyncio
import os

import teleporter


async def ticker(start, stop):
    total = 0
    for i in range(start, stop):
        total += i
        received = yield (i, total)
        if received is not None:
            total += received
        await asyncio.sleep(0)


async def guarded(items):
    try:
        for item in items:
            yield item
    finally:
        print("guarded closed")


def step(agen, value=None):
    """Advances an async generator by hand, without an event loop (sleep(0) gives
    control back once: it is simply resumed)."""
    awaitable = agen.asend(value)
    try:
        while True:
            awaitable.send(None)
    except StopIteration as stop:
        return stop.value


fresh = ticker(0, 3)
started = ticker(10, 14)
print("first:", step(started), step(started, 100))
holder = {"gen": guarded(["a", "b", "c"]), "again": None}
holder["again"] = holder["gen"]
print("guarded first:", step(holder["gen"]))
done = ticker(0, 1)
step(done)
try:
    step(done)
except StopAsyncIteration:
    print("done exhausted")

origin = os.getpid()
teleporter.teleport()
print("moved:", os.getpid() != origin)


async def drain(agen):
    return [item async for item in agen]


async def main():
    print("fresh:", await drain(fresh))
    print("started:", await drain(started))
    print("identity:", holder["gen"] is holder["again"])
    print("guarded next:", await holder["gen"].__anext__())
    await holder["gen"].aclose()
    print("done:", await drain(done))


asyncio.run(main())
