"""Building a CSV report incrementally: a csv.writer over an open file gets rows before
and after the move (the same file object), then DictReader reads it back, and a second
file is written with DictWriter."""

import csv
import hashlib
import random
import sys
from pathlib import Path

import teleporter

workdir = Path(sys.argv[1])
rng = random.Random(77)
products = ["widget", "gadget", "doohickey", "gizmo, deluxe", 'quote "special"']
path = workdir / "sales.csv"
fh = open(path, "w", newline="", encoding="utf-8")
writer = csv.writer(fh, quoting=csv.QUOTE_MINIMAL)
writer.writerow(["day", "product", "units", "unit_price"])
for day in range(1, 11):
    for product in products:
        writer.writerow([day, product, rng.randint(0, 30), f"{rng.uniform(1, 20):.2f}"])
    if day == 5:
        print("rows written through day", day, "position", fh.tell())
        teleporter.teleport()
        print("file still open:", not fh.closed, "position", fh.tell())
fh.close()

totals = {}
with open(path, newline="", encoding="utf-8") as f:
    reader = csv.DictReader(f)
    print("columns:", reader.fieldnames)
    n = 0
    for row in reader:
        n += 1
        totals.setdefault(row["product"], 0.0)
        totals[row["product"]] += int(row["units"]) * float(row["unit_price"])
print("data rows:", n)
summary = workdir / "summary.csv"
with open(summary, "w", newline="", encoding="utf-8") as f:
    w = csv.DictWriter(f, fieldnames=["product", "revenue"], dialect="excel-tab")
    w.writeheader()
    for product in sorted(totals):
        w.writerow({"product": product, "revenue": f"{totals[product]:.2f}"})
print(summary.read_text(), end="")
print("sales sha:", hashlib.sha256(path.read_bytes()).hexdigest()[:16])
sniffed = csv.Sniffer().sniff(summary.read_text())
print("sniffed delimiter:", repr(sniffed.delimiter))
path.unlink()
summary.unlink()
