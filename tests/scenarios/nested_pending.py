import os

import teleporter

START = os.getpid()


def g():
    teleporter.teleport()
    return "g-result"


def h(a, b, c, d=None):
    return (a, b, c, d)


def middle(t, x):
    label = "middle"
    return [label, h(7, g(), len(t), d=sum(x)), "tail"]


def outer():
    values = {"k": 1}
    return (values, middle((1, 2, 3), [4, 5]), values["k"] + 1)


print("result:", outer())
print("moved:", os.getpid() != START)
