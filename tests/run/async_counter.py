"""Forty steps of arithmetic split over three asyncio tasks that hand a running value
through queues, with a short sleep per step: periodic checkpoints find the loop between
callbacks."""

import asyncio


async def stage(inbox, outbox, k):
    while (acc := await inbox.get()) is not None:
        for j in range(20000):
            acc = (acc * 1103515245 + 12345 + j + k) % 2147483648
        await outbox.put(acc)
    await outbox.put(None)


async def main():
    queues = [asyncio.Queue() for _ in range(4)]
    stages = [asyncio.create_task(stage(queues[k], queues[k + 1], k)) for k in range(3)]
    acc = 1
    for i in range(40):
        await queues[0].put(acc)
        acc = await queues[3].get()
        print(f"step {i} {acc}", flush=True)
        await asyncio.sleep(0.02)  # long enough a run for a periodic checkpoint to come
    await queues[0].put(None)
    await asyncio.gather(*stages)
    print("result", acc)


asyncio.run(main())
