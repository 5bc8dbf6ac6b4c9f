import os

import teleporter

START = os.getpid()
log = []


def leaf():
    teleporter.teleport()
    raise RuntimeError("raised after the move")


def mid():
    try:
        leaf()
    finally:
        log.append("mid finally")


def top():
    try:
        mid()
    except RuntimeError as e:
        log.append(f"top caught {e}")
        return "recovered"
    finally:
        log.append("top finally")


print(top(), log)
print("moved:", os.getpid() != START)
