"""Logistic regression trained by batch gradient descent, written in plain numpy; the run
moves halfway through training."""

import sys

import numpy as np

import teleporter

rng = np.random.default_rng(7)
n, d = 600, 8
X = rng.normal(size=(n, d))
true_w = rng.normal(size=d)
y = (X @ true_w + 0.3 * rng.normal(size=n) > 0).astype(np.float64)
X_train, X_test = X[:480], X[480:]
y_train, y_test = y[:480], y[480:]


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def loss_and_grad(w, b, X, y, l2=1e-3):
    p = sigmoid(X @ w + b)
    eps = 1e-12
    loss = -np.mean(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps)) + l2 * w @ w
    err = p - y
    return loss, X.T @ err / len(y) + 2 * l2 * w, err.mean()


def accuracy(w, b, X, y):
    return float(((sigmoid(X @ w + b) > 0.5) == y).mean())


w = np.zeros(d)
b = 0.0
lr = 0.5
history = []
epochs = 200
for epoch in range(epochs):
    loss, gw, gb = loss_and_grad(w, b, X_train, y_train)
    w -= lr * gw
    b -= lr * gb
    history.append(loss)
    if epoch % 40 == 0:
        print(f"epoch {epoch:3d} loss {loss:.6f} train acc {accuracy(w, b, X_train, y_train):.4f}")
    if epoch == epochs // 2:
        teleporter.teleport()
        print("continuing training at epoch", epoch)

print(f"final loss {history[-1]:.8f}")
print(f"test accuracy {accuracy(w, b, X_test, y_test):.4f}")
print("weights", np.round(w, 5).tolist())
print("cosine to truth %.6f" % (w @ true_w / np.linalg.norm(w) / np.linalg.norm(true_w)))
sys.exit(0)
