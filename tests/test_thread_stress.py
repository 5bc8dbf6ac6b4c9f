"""A producer, a consumer and a daemon ticker, moved 100 times in a row at random
instants while they work: every move gives the same result (nothing produced is lost or
counted twice, every thread is there and alive), and no move deadlocks.

TELEPORTER_STRESS_RUNS scales the number of moves (default 1: 100)."""

import os
import subprocess
import sys

SCALE = int(os.environ.get("TELEPORTER_STRESS_RUNS", "1"))

PROGRAM = """
import os, queue, random, sys, threading, time
import teleporter

moves = int(sys.argv[1])
random.seed(int(sys.argv[2]))
q = queue.Queue(maxsize=50)
counts = {"produced": 0, "consumed": 0, "ticks": 0}
stop = threading.Event()

def producer():
    i = 0
    while not stop.is_set():
        i += 1
        q.put(i)
        counts["produced"] += i

def consumer():
    while (item := q.get()) is not None:
        counts["consumed"] += item

def ticker():
    while True:
        time.sleep(0.001)
        counts["ticks"] += 1

threads = [threading.Thread(target=producer, name="producer"),
           threading.Thread(target=consumer, name="consumer"),
           threading.Thread(target=ticker, name="ticker", daemon=True)]
for t in threads:
    t.start()
pids = {os.getpid()}
for k in range(moves):
    time.sleep(random.random() * 0.01)
    teleporter.teleport()
    pids.add(os.getpid())
    assert threading.enumerate()[1:] == threads, (k, threading.enumerate())
stop.set()
threads[0].join()
q.put(None)
threads[1].join()
ticks = counts["ticks"]
time.sleep(0.02)
print(len(pids) == moves + 1, counts["produced"] == counts["consumed"] > 0,
      counts["ticks"] > ticks, threads[2].is_alive())
"""


def test_threads_moved_at_random_instants(tmp_path):
    path = tmp_path / "stress.py"
    path.write_text(PROGRAM)
    moves = 100 * SCALE
    r = subprocess.run(
        [sys.executable, str(path), str(moves), str(os.getpid())],
        capture_output=True,
        timeout=60 + moves * 2,
    )
    assert r.stderr.decode() == ""
    assert r.stdout.decode() == "True True True True\n"
    assert r.returncode == 0
