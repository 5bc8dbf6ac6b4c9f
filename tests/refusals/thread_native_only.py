# A thread started with _thread that runs native code only has no Python frame to
# continue from: refused, not dropped.
import _thread
import time

import teleporter

_thread.start_new_thread(time.sleep, (30,))
time.sleep(0.1)
try:
    teleporter.teleport()
except teleporter.TeleportError as e:
    print("refused:", e)
print("still running")
