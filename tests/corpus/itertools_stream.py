"""Stream processing with itertools: a counter, tee'd iterators, islice windows, groupby
over sorted records, accumulate and chain; several live iterators cross the move
mid-stream."""

import itertools
import operator

import teleporter

ids = itertools.count(start=100, step=3)
events = [(kind, next(ids), value) for kind, value in zip(
    itertools.cycle(["click", "view", "view", "buy"]), itertools.islice(itertools.count(7, 5), 40))]
stream = iter(events)
first_pass, second_pass = itertools.tee(stream, 2)
head = list(itertools.islice(first_pass, 6))
print("head:", head)
running = itertools.accumulate((v for _, _, v in events), operator.add)
print("running first 5:", list(itertools.islice(running, 5)))
cycle_colors = itertools.cycle("RGB")
print("colors:", "".join(next(cycle_colors) for _ in range(4)))
pairs = itertools.pairwise(events)

teleporter.teleport()

print("next id:", next(ids))
print("first_pass continues:", next(first_pass))
print("second_pass from start:", next(second_pass))
print("running next:", list(itertools.islice(running, 3)))
print("colors continue:", "".join(next(cycle_colors) for _ in range(4)))
print("pairs:", next(pairs), next(pairs)[1][0])
by_kind = {k: sum(v for _, _, v in grp) for k, grp in itertools.groupby(sorted(events), key=operator.itemgetter(0))}
print("by kind:", by_kind)
batches = [list(b) for b in itertools.batched(range(10), 4)] if hasattr(itertools, "batched") else \
    [list(itertools.islice(range(10), i, i + 4)) for i in range(0, 10, 4)]
print("batches:", batches)
combos = list(itertools.combinations("abcd", 2))
print("combinations:", len(combos), combos[:3], "product:", len(list(itertools.product(range(3), repeat=3))))
print("starmap:", list(itertools.starmap(pow, [(2, 5), (3, 3)])), "compress:", list(itertools.compress("abcdef", [1, 0, 1, 0, 1, 1])))
print("remaining in first_pass:", sum(1 for _ in first_pass), "zip_longest:", list(itertools.zip_longest("ab", "xyz", fillvalue="-")))
