"""An asyncio program started with loop.run_until_complete() and later run_forever()
(no asyncio.run), moved twice: first while as_completed() is half consumed, tasks wait
at a Barrier, wait_for() and asyncio.wait() are pending, an executor has run a call and
the loop has an exception handler and its debug flag set; then again from a task while
the loop runs forever."""

import asyncio
import os
import sys

import teleporter

PID = os.getpid()


async def move():
    how = os.environ.get("ASYNC_MOVE", "teleport")
    if how == "teleport":
        await teleporter.ateleport()
    elif how == "checkpoint":
        if not await teleporter.acheckpoint(os.environ["TELEPORTER_CKPT"]):
            sys.stdout.flush()
            os._exit(0)


async def after(gate, value):
    await gate.wait()
    return value


async def at_barrier(barrier, name, out):
    index = await barrier.wait()
    out.append((name, index is not None))


async def expires(gate):
    try:
        await asyncio.wait_for(gate.wait(), timeout=0.6)
    except TimeoutError:
        return "wait_for expired"
    return "wait_for did not expire"


def square(x):
    return x * x


async def main():
    loop = asyncio.get_running_loop()
    seen = []
    loop.set_exception_handler(lambda loop, context: seen.append(context["message"]))
    loop.set_debug(True)
    loop.slow_callback_duration = 10.0  # debug mode warns of slow callbacks otherwise
    print("executor before:", await loop.run_in_executor(None, square, 7))

    gates = [asyncio.Event() for _ in range(3)]
    first = asyncio.Event()
    first.set()
    racers = [asyncio.ensure_future(after(first, "first"))]
    racers += [asyncio.ensure_future(after(g, f"gate{i}")) for i, g in enumerate(gates)]
    completed = asyncio.as_completed(racers)
    print("as_completed first:", await completed.__next__())

    barrier = asyncio.Barrier(4)
    crossed = []
    crossers = [asyncio.create_task(at_barrier(barrier, f"b{i}", crossed)) for i in range(3)]

    # CPython 3.14+ gives no current task for its pure-Python tasks, without which
    # wait_for() cannot work: it runs with C tasks only.
    known = sys.version_info < (3, 14) or asyncio.current_task() is not None
    if known:
        expiring = asyncio.create_task(expires(asyncio.Event()))
        in_time = asyncio.create_task(asyncio.wait_for(after(gates[1], "in time"), timeout=30))
    pending_wait = asyncio.create_task(
        asyncio.wait([asyncio.ensure_future(after(gates[0], "w"))], timeout=30)
    )
    await asyncio.sleep(0.05)
    print("barrier waiting:", barrier.n_waiting)

    await move()

    print("moved:", os.getpid() != PID)
    print("debug:", loop.get_debug())
    for i, g in enumerate(gates):
        g.set()
        print("as_completed next:", await completed.__next__())
    await barrier.wait()
    await asyncio.gather(*crossers)
    print("barrier crossed:", sorted(crossed))
    done, pending = await pending_wait
    print("wait:", [t.result() for t in done], len(pending))
    if known:
        print("wait_for:", await in_time)
        print(await expiring)
    print("executor after:", await loop.run_in_executor(None, square, 8))
    loop.call_soon(lambda: 1 / 0)
    await asyncio.sleep(0)
    print("exception handler:", seen)
    return "main done"


async def forever(loop, ticks):
    await asyncio.sleep(0.05)
    print("second move from", "a moved process" if os.getpid() != PID else "the origin?!")
    await move()
    await asyncio.sleep(0.1)
    print("ticks went on:", len(ticks) > 2)
    loop.stop()


def tick(loop, ticks):
    ticks.append(loop.time())
    loop.call_later(0.02, tick, loop, ticks)


loop = asyncio.new_event_loop()
if os.environ.get("ASYNC_IMPL") == "python":  # asyncio's pure-Python tasks and futures
    loop.set_task_factory(lambda loop, coro, **kw: asyncio.tasks._PyTask(coro, loop=loop, **kw))
    loop.create_future = lambda: asyncio.futures._PyFuture(loop=loop)
asyncio.set_event_loop(loop)
print(loop.run_until_complete(main()))
ticks = []
loop.call_soon(tick, loop, ticks)
task = loop.create_task(forever(loop, ticks))
loop.run_forever()
print("task done:", task.done())
loop.close()
print("end")
