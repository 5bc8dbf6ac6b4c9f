# Values that another thread set in a threading.local do not travel yet: refused, not
# dropped; once that thread has ended, the local moves with the main thread's values.
import threading

import teleporter

loc = threading.local()
loc.x = 1
ev = threading.Event()
def f():
    loc.y = 2
    ev.wait()
t = threading.Thread(target=f)
t.start()
try:
    teleporter.teleport()
except teleporter.TeleportError as e:
    print("refused:", e)
ev.set()
t.join()
teleporter.teleport()
print("moved", loc.x)
