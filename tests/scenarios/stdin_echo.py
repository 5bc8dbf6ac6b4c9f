import os

import teleporter

START = os.getpid()
first = input()
print("before:", first)
teleporter.teleport()
second = input()
print("after:", second)
rest = [line.rstrip("\n") for line in __import__("sys").stdin]
print("rest:", rest)
print("moved:", os.getpid() != START)
