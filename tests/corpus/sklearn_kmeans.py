"""Customer segmentation: scale features, fit KMeans for several k, pick k by silhouette;
the run moves between fits and then labels new points."""

import numpy as np
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import silhouette_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import teleporter

X_all, true_labels = make_blobs(n_samples=620, centers=4, n_features=5, cluster_std=1.2, random_state=11)
X, X_new = X_all[:600], X_all[600:]

models = {}
scores = {}
for k in range(2, 7):
    model = make_pipeline(StandardScaler(), KMeans(n_clusters=k, n_init=4, random_state=0))
    labels = model.fit_predict(X)
    models[k] = model
    scores[k] = silhouette_score(model[0].transform(X), labels)
    print(f"k={k} inertia={model[-1].inertia_:.3f} silhouette={scores[k]:.4f}")
    if k == 4:
        teleporter.teleport()

best_k = max(scores, key=scores.get)
best = models[best_k]
print("best k:", best_k)
centers = best[0].inverse_transform(best[-1].cluster_centers_)
order = np.argsort(centers[:, 0])
print("centers (sorted):")
for row in centers[order]:
    print("  ", np.round(row, 3).tolist())
pred = best.predict(X_new)
remap = {old: new for new, old in enumerate(order)}
print("new points:", [remap[p] for p in pred])
print("true labels:", true_labels[600:].tolist())
print("cluster sizes:", sorted(np.bincount(best[-1].labels_).tolist()))
