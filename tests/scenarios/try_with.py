import os

import teleporter

START = os.getpid()


class Managed:
    def __init__(self, name):
        self.name = name

    def __enter__(self):
        print("enter", self.name)
        return self

    def __exit__(self, kind, value, tb):
        print("exit", self.name, kind.__name__ if kind else None)
        return False


def work():
    with Managed("outer") as m:
        try:
            try:
                teleporter.teleport()
                print("inside try, holding", m.name)
            finally:
                print("inner finally")
        except ZeroDivisionError:
            print("never")
        else:
            print("else branch")
    return "done"


print(work())
try:
    with Managed("second"):
        teleporter.teleport()
        raise KeyError("after move")
except KeyError as e:
    print("caught", repr(e))
print("moved:", os.getpid() != START)
