"""Monte Carlo estimates (pi, an integral and a random walk) in batches with numpy's
Generator; the run moves between batches and the random stream must continue."""

import math

import numpy as np

import teleporter

rng = np.random.default_rng(12345)
batches = 10
batch_size = 20_000
inside = 0
total = 0
integral_sum = 0.0
walk_position = np.zeros(2)
estimates = []

for batch in range(batches):
    pts = rng.random((batch_size, 2))
    inside += int(((pts ** 2).sum(axis=1) <= 1.0).sum())
    total += batch_size
    u = rng.random(batch_size)
    integral_sum += float(np.exp(-u * u).sum())
    steps = rng.choice([-1.0, 1.0], size=(100, 2))
    walk_position += steps.sum(axis=0)
    estimates.append(4 * inside / total)
    print(f"batch {batch}: pi ~ {estimates[-1]:.6f}")
    if batch == batches // 2 - 1:
        state_probe = rng.bit_generator.state["state"]["state"] % 1000
        print("generator probe:", state_probe)
        teleporter.teleport()

integral = integral_sum / total
print(f"pi estimate {4 * inside / total:.6f} (error {abs(4 * inside / total - math.pi):.6f})")
print(f"integral of exp(-x^2) on [0,1] ~ {integral:.6f} (exact {0.746824132812427:.6f})")
print("walk ends at", walk_position.tolist())
print("estimates spread %.6f" % (max(estimates) - min(estimates)))
