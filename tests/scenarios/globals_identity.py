import os

import teleporter

START = os.getpid()
STATE = "initial"


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __repr__(self):
        return f"Point({self.x}, {self.y})"


def rebind():
    global STATE
    STATE = "rebound before"
    teleporter.teleport()
    previous = STATE
    STATE = "rebound after"
    return previous


p = Point(1, 2)
alias = p
ring = [p, {"self": None}]
ring[1]["self"] = ring
shared = [1, 2]
pair = (shared, shared)
print(rebind(), STATE)
print("type(p) is Point:", type(p) is Point, isinstance(p, Point))
print("alias:", alias is p, "cycle:", ring[1]["self"] is ring, "shared:", pair[0] is pair[1])
print("globals:", rebind.__globals__ is globals(), Point.__init__.__globals__ is globals())
print("module:", Point.__module__, rebind.__module__, __name__)
print(p, ring[0] is p)
print("moved:", os.getpid() != START)
