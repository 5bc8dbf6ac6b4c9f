import zlib

import teleporter

root = node = []
for _ in range(1000):
    child = []
    node.append(child)
    node = child
node.append(zlib.compressobj())  # found at the bottom, named in a line of bounded length
try:
    teleporter.teleport()
except teleporter.TeleportError as e:
    print("refused:", e)
print("still running")
