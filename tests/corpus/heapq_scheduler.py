"""A discrete-event simulation of a bank with tellers: a heapq event queue, seeded random
arrivals and service times; the simulation moves at simulated noon and carries on."""

import heapq
import itertools
import random
import statistics

import teleporter

rng = random.Random(31415)
TELLERS = 3
OPEN, NOON, CLOSE = 9 * 60, 12 * 60, 17 * 60
events = []
seq = itertools.count()


def schedule(time, kind, data=None):
    heapq.heappush(events, (time, next(seq), kind, data))


schedule(OPEN + rng.expovariate(1 / 2.5), "arrival", 0)
free_tellers = TELLERS
waiting = []  # heap of (arrival time, customer)
waits = []
served = 0
moved = False
now = OPEN
while events:
    now, _, kind, data = heapq.heappop(events)
    if not moved and now >= NOON:
        print(f"noon: served {served}, in queue {len(waiting)}, mean wait {statistics.fmean(waits):.4f}")
        teleporter.teleport()
        moved = True
    if kind == "arrival":
        heapq.heappush(waiting, (now, data))
        if now < CLOSE:
            schedule(now + rng.expovariate(1 / 2.5), "arrival", data + 1)
    elif kind == "done":
        free_tellers += 1
        served += 1
    while free_tellers and waiting:
        arrived, customer = heapq.heappop(waiting)
        waits.append(now - arrived)
        free_tellers -= 1
        schedule(now + rng.gammavariate(2.0, 3.5), "done", customer)

print(f"closed at {now / 60:.4f}h, served {served}")
print(f"wait mean {statistics.fmean(waits):.4f} median {statistics.median(waits):.4f} max {max(waits):.4f}")
print("longest waits:", [round(w, 3) for w in heapq.nlargest(3, waits)])
print("quantiles:", [round(q, 3) for q in statistics.quantiles(waits, n=4)])
merged = list(heapq.merge([1, 4, 9], [2, 3, 10], [5]))
print("merge:", merged, "smallest:", heapq.nsmallest(2, [7, 3, 9, 1]))
