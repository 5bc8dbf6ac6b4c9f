"""Cellular automata: Conway's Game of Life on a torus (numpy) and elementary rule 110 in
pure Python; both move halfway through their generations."""

import hashlib

import numpy as np

import teleporter


def life_step(grid):
    neighbours = sum(np.roll(np.roll(grid, dy, 0), dx, 1)
                     for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0))
    return ((neighbours == 3) | ((grid == 1) & (neighbours == 2))).astype(np.uint8)


def rule_step(cells, rule=110):
    n = len(cells)
    return [(rule >> (cells[(i - 1) % n] << 2 | cells[i] << 1 | cells[(i + 1) % n])) & 1 for i in range(n)]


rng = np.random.default_rng(2718)
grid = (rng.random((48, 48)) < 0.3).astype(np.uint8)
glider = np.array([[0, 1, 0], [0, 0, 1], [1, 1, 1]], dtype=np.uint8)
grid[1:4, 1:4] = glider
cells = [0] * 63 + [1]
population = []
rows = []
for gen in range(80):
    grid = life_step(grid)
    cells = rule_step(cells)
    population.append(int(grid.sum()))
    if gen % 10 == 0:
        rows.append("".join("#" if c else "." for c in cells))
    if gen == 39:
        print("gen 40 population:", population[-1], "hash:", hashlib.md5(grid.tobytes()).hexdigest()[:12])
        teleporter.teleport()

print("final population:", population[-1], "hash:", hashlib.md5(grid.tobytes()).hexdigest()[:12])
print("population min/max:", min(population), max(population))
print("rule 110 rows:")
for row in rows:
    print(" ", row)
print("rule 110 live cells:", sum(cells))
