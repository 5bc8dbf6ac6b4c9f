import threading

import teleporter

stop = threading.Event()
worker = threading.Thread(target=stop.wait, name="worker-1")
worker.start()
try:
    teleporter.teleport()
except teleporter.TeleportError as e:
    print("refused:", e)
stop.set()
worker.join()
print("still running")
