"""A module whose missing attributes are made on first use (PEP 562), moving meanwhile."""

import os

import teleporter

made = []


def __getattr__(name):
    if name.startswith("_"):
        raise AttributeError(name)
    pid = os.getpid()
    teleporter.teleport()
    made.append((name, os.getpid() != pid))
    return name.upper()
