"""Steps that wait in time.sleep: a signal mostly finds the main thread blocked there."""

import random
import sys
import time

random.seed(7)
total = 0
for i in range(12):
    total += random.randrange(1000)
    print(f"step {i} {total}", flush=True)
    time.sleep(0.05)
print("result", total, sys.argv[1:], random.random())
