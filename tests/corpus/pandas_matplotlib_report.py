"""A weekly KPI report: pandas aggregates daily metrics, matplotlib (Agg) draws a chart
per metric into one figure before the move; after it the report adds a summary table,
saves the figure and an HTML table, and prints their checksums."""

import hashlib
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import teleporter  # noqa: E402

out = Path(sys.argv[1])
rng = np.random.default_rng(55)
days = pd.date_range("2024-05-01", periods=56, freq="D")
df = pd.DataFrame({
    "visits": rng.poisson(1200, size=56) + np.arange(56) * 8,
    "signups": rng.poisson(60, size=56),
    "revenue": rng.gamma(9.0, 120.0, size=56).round(2),
}, index=days)
weekly = df.resample("W-SUN").agg({"visits": "sum", "signups": "sum", "revenue": "sum"})
weekly["conversion"] = (weekly["signups"] / weekly["visits"]).round(5)
fig, axes = plt.subplots(2, 2, figsize=(9, 6), dpi=72, sharex=True)
for ax, column in zip(axes.flat, weekly.columns):
    weekly[column].plot(ax=ax, marker="o", title=column)
print(weekly.round(2).to_string())

teleporter.teleport()

change = weekly.pct_change().iloc[-1].round(4)
print("last week change:", change.to_dict())
for ax in axes.flat:
    ax.grid(True, alpha=0.3)
fig.suptitle("Weekly KPIs")
fig.autofmt_xdate()
png = out / "kpis.png"
fig.savefig(png, metadata={"Software": None})
fig.canvas.draw()
print("axes lines:", [len(ax.get_lines()) for ax in axes.flat], "titles:", [ax.get_title() for ax in axes.flat])
print("pixels sha:", hashlib.sha256(np.asarray(fig.canvas.buffer_rgba()).tobytes()).hexdigest()[:16])
html = weekly.to_html(float_format=lambda v: f"{v:.2f}")
(out / "kpis.html").write_text(html)
print("html rows:", html.count("<tr>"), "sha:", hashlib.sha256(html.encode()).hexdigest()[:16])
print("png exists:", png.exists())
plt.close("all")
png.unlink()
(out / "kpis.html").unlink()
