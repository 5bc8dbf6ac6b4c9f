import os
import random
import sys
import tempfile

import teleporter

START = os.getpid()
random.seed(1234)
random.random()
sys.setrecursionlimit(4321)
sys.path.append("/nonexistent/extra")
here = tempfile.mkdtemp()
os.chdir(here)
teleporter.teleport()
print("argv:", sys.argv[1:])
print("random:", random.random())
print("limit:", sys.getrecursionlimit())
print("path tail:", sys.path[-1])
print("cwd kept:", os.getcwd() == here)
os.rmdir(here)
print("moved:", os.getpid() != START)
