import os
import sys

import teleporter

START = os.getpid()


def handler():
    try:
        raise ValueError("original problem")
    except ValueError:
        teleporter.teleport()
        kind, value, _ = sys.exc_info()
        print("exc_info:", kind.__name__, value)
        print("exception():", repr(sys.exception()))
        raise


def nested():
    try:
        raise KeyError("outer")
    except KeyError:
        try:
            raise IndexError("inner")
        except IndexError:
            teleporter.teleport()
            print("innermost sees", repr(sys.exception()))
        print("outer handler sees", repr(sys.exception()))
    print("after both:", sys.exception())


try:
    handler()
except ValueError as e:
    print("re-raised:", repr(e))
nested()
print("moved:", os.getpid() != START)
