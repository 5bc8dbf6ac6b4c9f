"""A typical training script: argparse options, logging to a file, a two-layer MLP in
numpy trained with minibatch SGD and momentum, metrics appended to a JSON-lines file;
the run moves at epoch 5 of 10 and writes its final metrics."""

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np

import teleporter

parser = argparse.ArgumentParser()
parser.add_argument("outdir", type=Path)
parser.add_argument("--epochs", type=int, default=10)
parser.add_argument("--hidden", type=int, default=16)
parser.add_argument("--lr", type=float, default=0.1)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args(sys.argv[1:2])

logging.basicConfig(filename=args.outdir / "train.log", level=logging.INFO, format="%(levelname)s %(message)s")
log = logging.getLogger("train")
rng = np.random.default_rng(args.seed)

# Two noisy concentric rings.
n = 300
angle = rng.uniform(0, 2 * np.pi, 2 * n)
radius = np.r_[np.full(n, 0.5), np.full(n, 1.0)] + 0.08 * rng.normal(size=2 * n)
X = np.c_[radius * np.cos(angle), radius * np.sin(angle)]
y = np.r_[np.zeros(n), np.ones(n)]
params = {"W1": rng.normal(0, 0.5, (2, args.hidden)), "b1": np.zeros(args.hidden),
          "W2": rng.normal(0, 0.5, (args.hidden, 1)), "b2": np.zeros(1)}
velocity = {k: np.zeros_like(v) for k, v in params.items()}


def forward(p, X):
    h = np.tanh(X @ p["W1"] + p["b1"])
    return h, 1 / (1 + np.exp(-(h @ p["W2"] + p["b2"]).ravel()))


def step(p, v, X, y, lr, mu=0.9):
    h, out = forward(p, X)
    d_out = (out - y)[:, None] / len(y)
    grads = {"W2": h.T @ d_out, "b2": d_out.sum(0)}
    d_h = d_out @ p["W2"].T * (1 - h**2)
    grads.update(W1=X.T @ d_h, b1=d_h.sum(0))
    for k in p:
        v[k] = mu * v[k] - lr * grads[k]
        p[k] += v[k]


metrics_path = args.outdir / "metrics.jsonl"
metrics = open(metrics_path, "a")
for epoch in range(args.epochs):
    order = rng.permutation(len(X))
    for start in range(0, len(X), 32):
        idx = order[start:start + 32]
        step(params, velocity, X[idx], y[idx], args.lr)
    _, out = forward(params, X)
    loss = float(-np.mean(y * np.log(out + 1e-12) + (1 - y) * np.log(1 - out + 1e-12)))
    acc = float(((out > 0.5) == y).mean())
    metrics.write(json.dumps({"epoch": epoch, "loss": round(loss, 6), "acc": round(acc, 4)}) + "\n")
    log.info("epoch %d loss %.6f acc %.4f", epoch, loss, acc)
    print(f"epoch {epoch}: loss {loss:.6f} acc {acc:.4f}")
    if epoch == args.epochs // 2 - 1:
        metrics.flush()
        teleporter.teleport()
metrics.close()
rows = [json.loads(line) for line in metrics_path.read_text().splitlines()]
print("metrics rows:", len(rows), "best acc:", max(r["acc"] for r in rows))
print("log lines:", len((args.outdir / "train.log").read_text().splitlines()))
print("param norms:", {k: round(float(np.linalg.norm(v)), 5) for k, v in params.items()})
logging.shutdown()
metrics_path.unlink()
(args.outdir / "train.log").unlink()
