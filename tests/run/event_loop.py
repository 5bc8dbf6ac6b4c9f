"""An asyncio program: a producer feeds three workers through a queue while a timer ticks;
a signal mostly finds the loop waiting in select, and the loop takes the checkpoint
between two of its callbacks."""

import asyncio
import sys


async def worker(name, q, done):
    while (item := await q.get()) is not None:
        done.append((item, name))


async def main():
    loop = asyncio.get_running_loop()
    q = asyncio.Queue()
    done = []
    ticks = []
    workers = [asyncio.create_task(worker(f"w{i}", q, done), name=f"w{i}") for i in range(3)]

    def tick():
        ticks.append(len(ticks))
        loop.call_later(0.05, tick)

    loop.call_later(0.05, tick)
    total = 0
    for step in range(12):
        for k in range(3):
            q.put_nowait(step * 10 + k)
        await asyncio.sleep(0.06)
        total += sum(item for item, _ in done[-3:])
        print(f"step {step} {total} {sorted(done)[-3:]}", flush=True)
    for _ in workers:
        q.put_nowait(None)
    await asyncio.gather(*workers)
    print("result", total, len(done), sys.argv[1:], len(ticks) > 10)


asyncio.run(main())
