import os
import signal
import teleporter

START = os.getpid()
teleporter.teleport()
print("moved:", os.getpid() != START, flush=True)
os.kill(os.getpid(), signal.SIGTERM)
