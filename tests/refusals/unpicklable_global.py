import socket

import teleporter

conn = socket.socket()
try:
    teleporter.teleport()
except teleporter.TeleportError as e:
    print("refused:", e)
conn.close()
print("still running")
