"""Sales analysis with pandas: build orders and customers tables, aggregate, move, then
merge, pivot and write a CSV report."""

import hashlib
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import teleporter

out_dir = Path(sys.argv[1])
rng = np.random.default_rng(3)
regions = ["north", "south", "east", "west"]
customers = pd.DataFrame(
    {
        "customer_id": np.arange(1, 41),
        "region": rng.choice(regions, size=40),
        "segment": rng.choice(["retail", "wholesale"], size=40, p=[0.7, 0.3]),
    }
)
orders = pd.DataFrame(
    {
        "order_id": np.arange(1000, 1300),
        "customer_id": rng.integers(1, 41, size=300),
        "quantity": rng.integers(1, 20, size=300),
        "unit_price": np.round(rng.uniform(2.0, 50.0, size=300), 2),
        "day": pd.date_range("2024-01-01", periods=300, freq="D"),
    }
)
orders["revenue"] = orders["quantity"] * orders["unit_price"]
per_customer = orders.groupby("customer_id").agg(
    n_orders=("order_id", "count"), revenue=("revenue", "sum"), avg_qty=("quantity", "mean")
)
print(per_customer.sort_values("revenue", ascending=False).head(5).round(2).to_string())

teleporter.teleport()

merged = orders.merge(customers, on="customer_id", how="left", validate="many_to_one")
by_region = merged.groupby(["region", "segment"])["revenue"].agg(["sum", "mean", "count"]).round(2)
print(by_region.to_string())
monthly = merged.set_index("day").groupby("region")["revenue"].resample("MS").sum().unstack(0)
print(monthly.round(1).head(4).to_string())
top = per_customer.join(customers.set_index("customer_id")).nlargest(3, "revenue")
print(top[["region", "segment", "revenue"]].round(2).to_string())
report = out_dir / "region_report.csv"
by_region.to_csv(report)
text = report.read_text()
print("report lines:", len(text.splitlines()), "sha:", hashlib.sha256(text.encode()).hexdigest()[:16])
report.unlink()
