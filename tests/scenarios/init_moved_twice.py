# A move from inside __init__ (entered by a class call, which gives back its object), then
# another from the same __init__ frame, resumed at the destination and not yet returned:
# the class call still gives back the object, not __init__'s None.
import os

import teleporter

START = os.getpid()


class Box:
    def __init__(self, v):
        self.v = v
        teleporter.teleport()
        teleporter.teleport()
        self.w = v + 1


b = Box(1)
print(type(b).__name__, b.v, b.w)
print("moved:", os.getpid() != START)
