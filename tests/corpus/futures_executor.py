"""Parallel feature extraction with concurrent.futures: a thread pool hashes chunks and a
second pool runs after the move; the first executor is shut down before moving."""

import concurrent.futures as cf
import hashlib
import zlib

import teleporter


def make_chunk(i):
    return bytes((i * 37 + k * 11) % 256 for k in range(4096 + i * 13))


def features(i):
    data = make_chunk(i)
    return i, hashlib.blake2b(data, digest_size=8).hexdigest(), len(zlib.compress(data, 6)), sum(data) % 9973


chunks = range(24)
results = {}
with cf.ThreadPoolExecutor(max_workers=4, thread_name_prefix="feat") as pool:
    futures = [pool.submit(features, i) for i in chunks[:12]]
    for fut in cf.as_completed(futures):
        i, digest, clen, checksum = fut.result()
        results[i] = (digest, clen, checksum)
print("first half:", len(results), "entries")
for i in sorted(results)[:4]:
    print(" ", i, results[i])
pool_done = all(f.done() for f in futures)

teleporter.teleport()

print("first pool finished:", pool_done)
with cf.ThreadPoolExecutor(max_workers=3) as pool2:
    for i, digest, clen, checksum in pool2.map(features, chunks[12:]):
        results[i] = (digest, clen, checksum)
print("all:", len(results), "entries")
for i in sorted(results)[-4:]:
    print(" ", i, results[i])
combined = hashlib.sha256(repr(sorted(results.items())).encode()).hexdigest()[:20]
print("combined", combined)
fut = cf.Future()
fut.set_result(42)
print("future:", fut.done(), fut.result())
