import zlib

import teleporter


class Config:
    def __init__(self):
        self.name = "job"
        self.parts = {"guard": [1, zlib.compressobj()]}


def work(cfg):
    try:
        teleporter.teleport()
    except teleporter.TeleportError as e:
        print("refused:", e)
    return "still running"


print(work(Config()))
