"""Training-curve figure with matplotlib (Agg): panels drawn before the move, more curves
and annotations after it, then savefig; prints what the figure holds and a hash of the
rendered pixels."""

import hashlib
import io
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import teleporter  # noqa: E402

out = Path(sys.argv[1])
rng = np.random.default_rng(4)
steps = np.arange(200)
train = 2.0 * np.exp(-steps / 60) + 0.05 * rng.random(200)
val = 2.1 * np.exp(-steps / 70) + 0.08 * rng.random(200)

fig, (ax_loss, ax_hist) = plt.subplots(1, 2, figsize=(8, 3.5), dpi=80)
ax_loss.plot(steps, train, label="train", color="tab:blue")
ax_loss.set_xlabel("step")
ax_loss.set_ylabel("loss")
ax_hist.hist(rng.normal(size=500), bins=20, color="tab:gray")
fig.suptitle("run 17")
print("before: lines", len(ax_loss.lines), "patches", len(ax_hist.patches), "figures", plt.get_fignums())

teleporter.teleport()

ax_loss.plot(steps, val, label="validation", color="tab:orange", linestyle="--")
best = int(np.argmin(val))
ax_loss.axvline(best, color="k", linewidth=0.8)
ax_loss.annotate(f"best {val[best]:.3f}", xy=(best, val[best]), xytext=(best - 80, 1.5),
                 arrowprops={"arrowstyle": "->"})
ax_loss.legend(loc="upper right")
ax_loss.set_yscale("log")
fig.tight_layout()
fig.canvas.draw()
pixels = np.asarray(fig.canvas.buffer_rgba())
print("after: lines", len(ax_loss.lines), "legend", [t.get_text() for t in ax_loss.get_legend().get_texts()])
print("canvas", pixels.shape, "pixel sha", hashlib.sha256(pixels.tobytes()).hexdigest()[:16])
print("ylim %.4f %.4f" % ax_loss.get_ylim())
fig.savefig(out / "curves.png", metadata={"Software": None})
buf = io.BytesIO()
fig.savefig(buf, format="svg", metadata={"Date": None})
print("png bytes > 1000:", (out / "curves.png").stat().st_size > 1000, "svg paths:", buf.getvalue().count(b"<path"))
plt.close(fig)
print("open figures:", plt.get_fignums())
(out / "curves.png").unlink()
