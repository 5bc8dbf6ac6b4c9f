import sqlite3

import teleporter

conn = sqlite3.connect(":memory:")
conn.execute("create table t (x)")
conn.execute("insert into t values (1)")  # sqlite3 opens a transaction: not committed
try:
    teleporter.teleport()
except teleporter.TeleportError as e:
    print("refused:", e)
conn.commit()
print(conn.execute("select count(*) from t").fetchone()[0])
