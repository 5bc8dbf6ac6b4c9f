import os
import sys

import teleporter

START = os.getpid()
teleporter.teleport()
print("moved:", os.getpid() != START)
sys.exit(7)
