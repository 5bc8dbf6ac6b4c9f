"""Model selection loop: cross-validated ridge and random forest regressors over a grid
of settings; the run moves in the middle of the sweep, then refits the winner."""

import json

import numpy as np
from sklearn.datasets import make_regression
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import KFold, cross_val_score, train_test_split

import teleporter

X, y = make_regression(n_samples=400, n_features=10, n_informative=5, noise=8.0, random_state=5)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=5)
cv = KFold(n_splits=4, shuffle=True, random_state=1)

candidates = [("ridge", {"alpha": a}) for a in (0.01, 0.1, 1.0, 10.0, 100.0)] + [
    ("forest", {"n_estimators": n, "max_depth": d, "random_state": 0}) for n, d in ((20, 4), (20, 8))
]
factories = {"ridge": Ridge, "forest": RandomForestRegressor}
results = []
for idx, (kind, params) in enumerate(candidates):
    model = factories[kind](**params)
    scores = cross_val_score(model, X_train, y_train, cv=cv, scoring="neg_mean_squared_error")
    results.append({"kind": kind, "params": params, "mse": round(float(-scores.mean()), 4)})
    print(f"{kind:6s} {json.dumps(params, sort_keys=True):50s} cv mse {-scores.mean():10.4f}")
    if idx == 3:
        teleporter.teleport()

best = min(results, key=lambda r: r["mse"])
print("best:", best["kind"], best["params"])
final = factories[best["kind"]](**best["params"]).fit(X_train, y_train)
print("test mse %.4f" % mean_squared_error(y_test, final.predict(X_test)))
if hasattr(final, "coef_"):
    print("coef", np.round(final.coef_, 3).tolist())
print("ranking:", [r["kind"] + str(r["params"].get("alpha", r["params"].get("max_depth"))) for r in sorted(results, key=lambda r: r["mse"])])
