"""Async batch processing: asyncio.run drives concurrent tasks (gather, a semaphore,
a queue of async workers, timeouts) for a first batch; the program moves between batches
and runs the second batch with a fresh asyncio.run."""

import asyncio
import hashlib

import teleporter


async def fetch(item, sem, log):
    async with sem:
        await asyncio.sleep(0.001 * (item % 3))
        digest = hashlib.sha1(f"item-{item}".encode()).hexdigest()[:8]
        log.append(item)
        return item, digest


async def consumer(q, out):
    while True:
        item = await q.get()
        try:
            out[item] = sum(int(c, 16) for c in hashlib.md5(str(item).encode()).hexdigest())
        finally:
            q.task_done()


async def run_batch(items, concurrency):
    sem = asyncio.Semaphore(concurrency)
    log = []
    fetched = await asyncio.gather(*(fetch(i, sem, log) for i in items))
    q = asyncio.Queue()
    out = {}
    workers = [asyncio.create_task(consumer(q, out)) for _ in range(3)]
    for i in items:
        q.put_nowait(i)
    await q.join()
    for w in workers:
        w.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    try:
        await asyncio.wait_for(asyncio.sleep(10), timeout=0.01)
        timed_out = False
    except asyncio.TimeoutError:
        timed_out = True
    return dict(fetched), out, timed_out


all_fetched, all_scores = {}, {}
fetched, scores, timed_out = asyncio.run(run_batch(range(0, 12), concurrency=4))
all_fetched.update(fetched)
all_scores.update(scores)
print("batch 1:", len(fetched), "timed out:", timed_out, "sample:", fetched[5], scores[5])

teleporter.teleport()

fetched, scores, timed_out = asyncio.run(run_batch(range(12, 24), concurrency=2))
all_fetched.update(fetched)
all_scores.update(scores)
print("batch 2:", len(fetched), "timed out:", timed_out, "sample:", fetched[17], scores[17])
print("total:", len(all_fetched), sum(all_scores.values()))
print("digest:", hashlib.sha256(repr(sorted(all_fetched.items())).encode()).hexdigest()[:16])
