"""Out-of-core learning with scikit-learn: an SGDClassifier and a StandardScaler updated
batch by batch with partial_fit; the run moves halfway through the stream."""

import numpy as np
from sklearn.datasets import make_classification
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score, log_loss
from sklearn.preprocessing import StandardScaler

import teleporter

X, y = make_classification(
    n_samples=3000, n_features=12, n_informative=6, n_classes=3, class_sep=1.5, random_state=0
)
X_hold, y_hold = X[2500:], y[2500:]
classes = np.unique(y)
scaler = StandardScaler()
clf = SGDClassifier(loss="log_loss", alpha=1e-3, random_state=42, learning_rate="adaptive", eta0=0.05)

batch_size = 250
n_batches = 2500 // batch_size
for i in range(n_batches):
    xb, yb = X[i * batch_size:(i + 1) * batch_size], y[i * batch_size:(i + 1) * batch_size]
    scaler.partial_fit(xb)
    clf.partial_fit(scaler.transform(xb), yb, classes=classes)
    acc = accuracy_score(y_hold, clf.predict(scaler.transform(X_hold)))
    print(f"batch {i}: seen {scaler.n_samples_seen_} hold-out acc {acc:.4f} t_={clf.t_:.0f}")
    if i == n_batches // 2:
        teleporter.teleport()

proba = clf.predict_proba(scaler.transform(X_hold))
print("log loss %.6f" % log_loss(y_hold, proba))
print("coef norm %.6f" % np.linalg.norm(clf.coef_))
print("intercepts", np.round(clf.intercept_, 5).tolist())
print("scaler mean", np.round(scaler.mean_[:4], 5).tolist())
