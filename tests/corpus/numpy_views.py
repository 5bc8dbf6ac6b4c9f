"""Array bookkeeping with numpy: views into a shared buffer, in-place updates through
views, a seeded Generator that keeps drawing after the move."""

import hashlib
import sys

import numpy as np

import teleporter


def digest(a):
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()[:16]


rng = np.random.default_rng(20240607)
grid = rng.normal(size=(64, 48)).astype(np.float64)
rows = grid[::2]  # strided view
block = grid[8:24, 4:20]  # 2-d window view
flat = grid.reshape(-1)  # view of the whole buffer
column_means = grid.mean(axis=0)

print("shapes:", grid.shape, rows.shape, block.shape, flat.shape)
print("before: sum=%.6f digest=%s" % (grid.sum(), digest(grid)))
print("views share memory:", np.shares_memory(rows, grid), np.shares_memory(block, flat))

# Normalise part of the grid in place, through a view.
block -= block.mean()
block /= block.std()
draws_before = rng.integers(0, 1000, size=5)
print("draws before:", draws_before.tolist())

teleporter.teleport()

# The views must still alias the same buffer.
block *= 2.0
rows[:, 0] = -1.0
print("after: sum=%.6f digest=%s" % (grid.sum(), digest(grid)))
print("flat sees row write:", flat[0] == -1.0, flat[2 * 48] == -1.0)
print("views share memory:", np.shares_memory(rows, grid), np.shares_memory(block, flat))
print("block stats: %.6f %.6f" % (block.mean(), block.std()))
print("draws after:", rng.integers(0, 1000, size=5).tolist())
masked = np.ma.masked_greater(grid, 1.5)
print("masked count:", int(masked.count()), "column drift: %.6f" % np.abs(grid.mean(axis=0) - column_means).max())
sys.exit(0)
