"""A job scheduler built from collections: deque work queue with a bounded history,
OrderedDict as an LRU cache, defaultdict indexes, Counter statistics, ChainMap settings
and namedtuple jobs; half the jobs run before the move."""

import collections
import hashlib

import teleporter

Job = collections.namedtuple("Job", "id kind payload priority", defaults=(0,))
defaults = {"retries": 2, "cache_size": 4, "verbose": False}
overrides = {"cache_size": 3}
settings = collections.ChainMap(overrides, defaults)


class LRU:
    def __init__(self, size):
        self.size = size
        self.data = collections.OrderedDict()
        self.evicted = []

    def get(self, key, compute):
        if key in self.data:
            self.data.move_to_end(key)
            return self.data[key], True
        value = compute(key)
        self.data[key] = value
        if len(self.data) > self.size:
            self.evicted.append(self.data.popitem(last=False)[0])
        return value, False


queue = collections.deque(Job(i, ["resize", "hash", "scan"][i % 3], f"file{i % 5}", i % 4) for i in range(18))
history = collections.deque(maxlen=5)
by_kind = collections.defaultdict(list)
stats = collections.Counter()
cache = LRU(settings["cache_size"])


def run(job):
    value, hit = cache.get(job.payload, lambda p: hashlib.md5(p.encode()).hexdigest()[:8])
    stats["hit" if hit else "miss"] += 1
    stats[job.kind] += 1
    by_kind[job.kind].append(job.id)
    history.append((job.id, value))


processed = 0
while queue:
    job = queue.popleft()
    if job.priority == 3 and stats["requeued"] < 2:
        stats["requeued"] += 1
        queue.append(job._replace(priority=0))
        continue
    run(job)
    processed += 1
    if processed == 9:
        print("halfway:", dict(stats), "queue left:", len(queue))
        teleporter.teleport()

print("processed:", processed, "stats:", sorted(stats.items()))
print("history (last 5):", list(history), "maxlen:", history.maxlen)
print("by kind:", dict(by_kind))
print("cache order:", list(cache.data), "evicted:", cache.evicted)
print("settings:", dict(settings), settings.maps[0])
print("most common:", stats.most_common(2), "total:", stats.total())
queue.extendleft([Job(99, "scan", "x")])
queue.rotate(1)
print("deque ops:", queue, Job._fields)
