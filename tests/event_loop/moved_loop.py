"""An asyncio program moved in the middle of its work (``await teleporter.ateleport()``, or
the checkpoint/ssh variant that ASYNC_MOVE names): tasks waiting on an event, a queue
(full, a put blocked), a lock, a condition and a semaphore; an async generator in the
middle of an ``async for``; a TaskGroup whose child fails after the move; a gather half
done; a shielded task; asyncio.timeout expiring after the move; a pending call_later
timer; done, failed and cancelled tasks; each task's contextvars; the loop's time. With
ASYNC_IMPL=python, asyncio's pure-Python tasks and futures do the same."""

import asyncio
import contextvars
import os
import sys

import teleporter

PID = os.getpid()
var = contextvars.ContextVar("var", default="unset")


async def move():
    how = os.environ.get("ASYNC_MOVE", "teleport")
    if how == "teleport":
        await teleporter.ateleport()
    elif how == "command":  # through a launcher: ssh, or a shell
        await teleporter.ateleport(*os.environ["ASYNC_COMMAND"].split("\x1f"))
    elif how == "checkpoint":
        if not await teleporter.acheckpoint(os.environ["TELEPORTER_CKPT"]):
            sys.stdout.flush()
            os._exit(0)


def me():
    """The running task's name (CPython 3.14+ gives no current task for asyncio's
    pure-Python tasks: "?")."""
    task = asyncio.current_task()
    return task.get_name() if task is not None else "?"


async def event_waiter(ev, name):
    var.set(name)
    await ev.wait()
    print("event woke", name, var.get(), me())


async def consumer(q):
    got = []
    while (item := await q.get()) is not None:
        got.append(item)
        print("consumed", item)
    print("consumer got", got)


async def producer(q):
    for i in range(4):
        await q.put(i)
        print("produced", i)
    await q.put(None)


async def locker(lock, name, hold):
    async with lock:
        print("lock held by", name)
        await hold.wait()


async def notified(cond, name):
    async with cond:
        await cond.wait()
        print("notified", name)


async def limited(sem, name, hold):
    async with sem:
        print("semaphore held by", name)
        await hold.wait()


async def squares(n):
    for i in range(n):
        await asyncio.sleep(0)
        yield i * i


async def iterate(ev):
    out = []
    async for v in squares(5):
        out.append(v)
        if v == 4:
            await ev.wait()
    print("async for:", out)


async def child(i, gate):
    await gate.wait()
    if i == 2:
        raise ValueError(f"child {i} failed after the move")
    await asyncio.sleep(30)


async def group(gate):
    try:
        async with asyncio.TaskGroup() as tg:
            for i in range(3):
                tg.create_task(child(i, gate), name=f"child{i}")
    except* ValueError as eg:
        print("group:", [str(e) for e in eg.exceptions])


async def timed(started):
    loop = asyncio.get_running_loop()
    start = loop.time()
    started.set()
    try:
        async with asyncio.timeout(1.5):
            await asyncio.sleep(60)
    except TimeoutError:
        print("timeout expired; at least its delay:", loop.time() - start >= 1.5)


async def quick():
    return "quick"


async def slow(gate):
    await gate.wait()
    return "slow"


async def fails():
    raise KeyError("failed before the move")


async def precious(gate):
    await gate.wait()
    return "shielded"


async def main():
    # CPython 3.14+ gives no current task for its pure-Python tasks, without which
    # TaskGroup and asyncio.timeout cannot work: those parts run with C tasks only.
    known = asyncio.current_task() is not None
    if known:
        asyncio.current_task().set_name("main")
    loop = asyncio.get_running_loop()
    ev, gate, hold, started = asyncio.Event(), asyncio.Event(), asyncio.Event(), asyncio.Event()
    lock, cond, sem = asyncio.Lock(), asyncio.Condition(), asyncio.Semaphore(1)
    q = asyncio.Queue(maxsize=1)
    fired = []
    loop.call_later(0.8, fired.append, "timer")
    var.set("main")
    tasks = [asyncio.create_task(event_waiter(ev, f"w{i}"), name=f"waiter{i}") for i in range(2)]
    tasks += [
        asyncio.create_task(producer(q), name="producer"),
        asyncio.create_task(locker(lock, "first", hold), name="locker1"),
        asyncio.create_task(locker(lock, "second", hold), name="locker2"),
        asyncio.create_task(notified(cond, "n1"), name="notified"),
        asyncio.create_task(limited(sem, "s1", hold), name="limited1"),
        asyncio.create_task(limited(sem, "s2", hold), name="limited2"),
        asyncio.create_task(iterate(ev), name="iterate"),
    ]
    if known:
        tasks.append(asyncio.create_task(group(gate), name="group"))
        tasks.append(asyncio.create_task(timed(started), name="timed"))
    else:
        started.set()
    half = asyncio.gather(quick(), slow(gate))
    shielded = asyncio.shield(precious(gate))
    done_ok = asyncio.create_task(quick(), name="done_ok")
    done_bad = asyncio.create_task(fails(), name="done_bad")
    cancelled = asyncio.create_task(asyncio.sleep(5), name="cancelled")
    await started.wait()
    await asyncio.sleep(0.05)
    cancelled.cancel()
    await asyncio.sleep(0)
    # The queue's consumer starts now: the producer is blocked on a full queue.
    tasks.append(asyncio.create_task(consumer(q), name="consumer"))
    before = loop.time()
    names = sorted(t.get_name() for t in asyncio.all_tasks())
    print("before the move:", names)

    await move()

    print("moved:", os.getpid() != PID)
    print("loop time goes on:", loop.time() >= before, asyncio.get_running_loop() is loop)
    print("same tasks:", sorted(t.get_name() for t in asyncio.all_tasks()) == names)
    print("current:", me(), var.get())
    print("done:", done_ok.result(), repr(done_bad.exception()), cancelled.cancelled())
    ev.set()
    async with cond:
        cond.notify_all()
    hold.set()
    gate.set()
    print("gathered:", await half, await shielded)
    await asyncio.gather(*tasks)
    await asyncio.sleep(max(0.0, before + 0.9 - loop.time()))
    print("timer:", fired)


def loop_factory():
    """asyncio's own loop; with ASYNC_IMPL=python, its pure-Python tasks and futures."""
    loop = asyncio.new_event_loop()
    if os.environ.get("ASYNC_IMPL") == "python":
        loop.set_task_factory(lambda loop, coro, **kw: asyncio.tasks._PyTask(coro, loop=loop, **kw))
        loop.create_future = lambda: asyncio.futures._PyFuture(loop=loop)
    return loop


with asyncio.Runner(loop_factory=loop_factory) as runner:
    runner.run(main())
print("end")
