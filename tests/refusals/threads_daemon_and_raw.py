# A daemon thread of the program and threads started with _thread alone (threading never
# imported here before the move) are refused by name, not dropped.
import _thread
import time

import teleporter


def beat():
    while True:
        time.sleep(0.05)


_thread.start_new_thread(beat, ())
_thread.start_new_thread(time.sleep, (30,))  # native code only: no frame to name it by
time.sleep(0.1)
try:
    teleporter.teleport()
except teleporter.TeleportError as e:
    print("refused:", e)

import threading  # noqa: E402

threading.Thread(target=beat, name="heartbeat", daemon=True).start()
try:
    teleporter.teleport()
except teleporter.TeleportError as e:
    print("refused:", e)
print("still running")
