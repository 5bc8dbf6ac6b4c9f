import os
import sys
import teleporter

START = os.getpid()


def chain():
    names = []
    f = sys._getframe()
    while f is not None and f.f_code.co_filename == __file__:
        names.append((f.f_code.co_name, f.f_lineno))
        f = f.f_back
    return names


def inner():
    result = teleporter.teleport()
    return result, chain()


def middle():
    return inner()


def outer():
    return middle()


print(outer())
print("moved:", os.getpid() != START)
