"""A small ETL job on a sqlite3 file database: schema and first load before the move,
the same connection used after it for more inserts, a window query and a dump."""

import hashlib
import sqlite3
import sys
from pathlib import Path

import teleporter

db = Path(sys.argv[1]) / "metrics.sqlite"
conn = sqlite3.connect(db)
conn.row_factory = sqlite3.Row
conn.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, name TEXT NOT NULL, step INTEGER, loss REAL)")
conn.execute("CREATE INDEX runs_name ON runs(name)")


def load(conn, name, steps, scale):
    rows = [(name, s, round(scale / (1 + s) + 0.001 * (s % 3), 6)) for s in range(steps)]
    with conn:
        conn.executemany("INSERT INTO runs (name, step, loss) VALUES (?, ?, ?)", rows)
    return len(rows)


print("loaded", load(conn, "baseline", 40, 2.0))
print("loaded", load(conn, "wide", 40, 1.6))
cur = conn.execute("SELECT name, COUNT(*) AS n, MIN(loss) AS best FROM runs GROUP BY name ORDER BY name")
for row in cur:
    print(dict(row))

teleporter.teleport()

print("loaded", load(conn, "deep", 40, 1.3))
query = """
SELECT name, step, loss,
       loss - LAG(loss) OVER (PARTITION BY name ORDER BY step) AS delta
FROM runs WHERE step IN (1, 2, 39) ORDER BY name, step
"""
for row in conn.execute(query):
    delta = "None" if row["delta"] is None else f"{row['delta']:.6f}"
    print(row["name"], row["step"], f"{row['loss']:.6f}", delta)
dump = "\n".join(conn.iterdump())
print("dump lines:", len(dump.splitlines()), "sha:", hashlib.sha256(dump.encode()).hexdigest()[:16])
conn.close()
db.unlink()
