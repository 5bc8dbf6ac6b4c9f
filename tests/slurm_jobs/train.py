"""A small training loop as a Slurm job runs it: stochastic gradient descent on a linear
model, one step every 50 ms, its data drawn from a seed (the array task's index
when it is one). Preempted in the middle, it must end with the weights of a run that was
not."""

import os
import random
import time

task = int(os.environ.get("SLURM_ARRAY_TASK_ID", "0"))
rng = random.Random(1000 + task)
true_w = [rng.uniform(-2, 2) for _ in range(4)]
data = []
for _ in range(200):
    x = [rng.gauss(0, 1) for _ in range(4)]
    data.append((x, sum(a * b for a, b in zip(true_w, x)) + rng.gauss(0, 0.1)))
w = [0.0] * 4
for step in range(30):
    for x, y in rng.sample(data, 20):
        err = sum(a * b for a, b in zip(w, x)) - y
        w = [wi - 0.01 * err * xi for wi, xi in zip(w, x)]
    loss = sum((sum(a * b for a, b in zip(w, x)) - y) ** 2 for x, y in data) / len(data)
    print(f"task {task} step {step} loss {loss:.6f}", flush=True)
    time.sleep(0.05)
print(f"task {task} weights", [round(v, 9) for v in w])
