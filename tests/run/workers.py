"""A main thread feeding two worker threads through a queue, joined at the end."""

import queue
import threading

jobs = queue.Queue()
done = []
lock = threading.Lock()


def worker(name):
    while (n := jobs.get()) is not None:
        s = sum(k * k % 97 for k in range(n))
        with lock:
            done.append((name, n, s))


threads = [threading.Thread(target=worker, args=(f"w{i}",), name=f"w{i}") for i in range(2)]
for t in threads:
    t.start()
for i in range(12):
    jobs.put(20000 + i)
    with lock:
        finished = len(done)
    print(f"step {i}", flush=True)
    while True:
        with lock:
            if len(done) > i:
                break
        threading.Event().wait(0.005)
for t in threads:
    jobs.put(None)
for t in threads:
    t.join()
print("result", sorted(s for _, _, s in done), [t.is_alive() for t in threads])
