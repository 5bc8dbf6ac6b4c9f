"""A pandas cleaning pipeline (.pipe stages, categoricals, rolling windows) over sensor
readings processed chunk by chunk; the run moves between chunks."""

import numpy as np
import pandas as pd

import teleporter


def make_chunk(i, rng):
    n = 120
    return pd.DataFrame(
        {
            "ts": pd.date_range("2024-03-01", periods=n, freq="min") + pd.Timedelta(hours=2 * i),
            "sensor": rng.choice(["a", "b", "c"], size=n),
            "value": rng.normal(20, 5, size=n).round(3),
        }
    ).assign(value=lambda d: d["value"].mask(rng.random(n) < 0.05))


def drop_outliers(df, z=3.0):
    m, s = df["value"].mean(), df["value"].std()
    return df[(df["value"] - m).abs() <= z * s]


def fill_gaps(df):
    return df.assign(value=df.groupby("sensor")["value"].transform(lambda s: s.fillna(s.median())))


def add_features(df):
    df = df.sort_values(["sensor", "ts"]).copy()
    df["sensor"] = df["sensor"].astype("category")
    df["rolling"] = df.groupby("sensor", observed=True)["value"].transform(
        lambda s: s.rolling(5, min_periods=1).mean()
    )
    df["hour"] = df["ts"].dt.hour
    return df


rng = np.random.default_rng(99)
processed = []
for i in range(6):
    raw = make_chunk(i, rng)
    clean = raw.pipe(fill_gaps).pipe(drop_outliers).pipe(add_features)
    processed.append(clean)
    print(f"chunk {i}: rows {len(raw)} -> {len(clean)}, mean {clean['value'].mean():.4f}")
    if i == 2:
        teleporter.teleport()

data = pd.concat(processed, ignore_index=True)
summary = data.groupby(["sensor", "hour"], observed=True)["rolling"].agg(["mean", "max"]).round(3)
print(summary.head(8).to_string())
print("dtypes:", dict(data.dtypes.astype(str)))
print("total rows:", len(data), "value sum: %.3f" % data["value"].sum())
print("hash:", int(pd.util.hash_pandas_object(data[["value", "rolling"]].round(6), index=False).sum() % 10**12))
