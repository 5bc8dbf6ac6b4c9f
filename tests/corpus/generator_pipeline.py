"""A lazy generator pipeline (source -> parse -> enrich -> window -> batch) consumed in a
for loop; the move happens inside the consumer while every stage is suspended."""

import json
import math
import random

import teleporter


def source(n, seed):
    rng = random.Random(seed)
    for i in range(n):
        yield json.dumps({"id": i, "temp": round(rng.uniform(-5, 35), 2), "city": rng.choice("ABC")})


def parse(lines):
    for line in lines:
        rec = json.loads(line)
        if rec["temp"] < -4:
            continue  # sensor glitch
        yield rec


def enrich(records):
    for rec in records:
        rec["kelvin"] = round(rec["temp"] + 273.15, 2)
        rec["hot"] = rec["temp"] > 28
        yield rec


def moving_average(records, k):
    window = []
    for rec in records:
        window.append(rec["temp"])
        if len(window) > k:
            window.pop(0)
        yield rec, sum(window) / len(window)


def batches(items, size):
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def stats():
    """A coroutine-style accumulator fed with send()."""
    total, count, peak = 0.0, 0, -math.inf
    while True:
        value = yield (total / count if count else None, peak)
        total, count, peak = total + value, count + 1, max(peak, value)


acc = stats()
next(acc)
pipeline = batches(moving_average(enrich(parse(source(120, seed=5))), k=4), size=10)
summary = None
for n, batch in enumerate(pipeline):
    for rec, avg in batch:
        summary = acc.send(rec["temp"])
    hot = sum(r["hot"] for r, _ in batch)
    print(f"batch {n}: ids {batch[0][0]['id']}-{batch[-1][0]['id']} hot={hot} last avg={batch[-1][1]:.3f}")
    if n == 5:
        teleporter.teleport()

print("mean %.4f peak %.2f" % summary)
print("pipeline exhausted:", next(pipeline, "done"))
acc.close()
squares = (x * x for x in range(10))
print("generator expression:", sum(squares), list(zip(range(3), (c for c in "xyz"))))
