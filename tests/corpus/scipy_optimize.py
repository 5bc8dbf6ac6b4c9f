"""Parameter fitting with scipy.optimize: minimise a Rosenbrock-like loss with BFGS and a
callback that records progress and checkpoints (moves) at iteration 10; then fit a curve
with least_squares and find a root."""

import numpy as np
from scipy import optimize

import teleporter


def rosen_ext(x):
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))


history = []


def on_iteration(intermediate_result):
    history.append(intermediate_result.fun)
    if len(history) == 10:
        print("iteration 10 loss %.6f" % intermediate_result.fun)
        teleporter.teleport()


x0 = np.array([-1.2, 1.0, -0.5, 0.8, 1.5])
res = optimize.minimize(rosen_ext, x0, method="BFGS", jac=optimize.rosen_der, callback=on_iteration,
                        options={"gtol": 1e-8})
print("bfgs success:", res.success, "iterations:", res.nit, "recorded:", len(history))
print("solution", np.round(res.x, 6).tolist(), "loss %.3e" % max(res.fun, 1e-30))

t = np.linspace(0, 4, 40)
rng = np.random.default_rng(1)
observed = 2.5 * np.exp(-1.3 * t) + 0.4 + 0.01 * rng.normal(size=t.size)
fit = optimize.least_squares(lambda p: p[0] * np.exp(-p[1] * t) + p[2] - observed, x0=[1.0, 1.0, 0.0])
print("curve fit", np.round(fit.x, 4).tolist(), "cost %.6f" % fit.cost)
root = optimize.brentq(lambda z: np.cos(z) - z, 0, 1)
print("root of cos(z)=z: %.12f" % root)
lin = optimize.linprog(c=[-1, -2], A_ub=[[1, 1], [1, -1]], b_ub=[4, 1], bounds=[(0, None), (0, 3)])
print("linprog", np.round(lin.x, 6).tolist(), "%.6f" % lin.fun)
