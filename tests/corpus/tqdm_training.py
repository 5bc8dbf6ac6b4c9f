"""A training loop with a tqdm progress bar written to stdout (deterministic format, no
timings); the bar object stays alive across the move and keeps counting."""

import sys

import numpy as np
from tqdm import tqdm

import teleporter

rng = np.random.default_rng(0)
X = rng.normal(size=(256, 4))
w_true = np.array([1.5, -2.0, 0.5, 3.0])
y = X @ w_true + 0.1 * rng.normal(size=256)
w = np.zeros(4)
epochs = 12
bar = tqdm(
    total=epochs,
    file=sys.stdout,
    ascii=True,
    ncols=70,
    mininterval=0,
    miniters=1,
    bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} {postfix}",
    desc="train",
)
for epoch in range(epochs):
    for start in range(0, 256, 32):
        xb, yb = X[start:start + 32], y[start:start + 32]
        w -= 0.05 * 2 * xb.T @ (xb @ w - yb) / len(yb)
    mse = float(np.mean((X @ w - y) ** 2))
    bar.set_postfix(mse=f"{mse:.5f}", refresh=False)
    bar.update(1)
    if epoch == epochs // 2:
        bar.write(f"halfway: mse {mse:.6f}")
        teleporter.teleport()
        bar.write("resumed after the move")
bar.close()
print()
print("final w", np.round(w, 4).tolist())
for value in tqdm([1, 2, 3], file=sys.stdout, disable=True):
    pass
print("n", bar.n, "total", bar.total)
