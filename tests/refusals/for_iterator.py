import zlib

import teleporter


class Chunks:
    def __init__(self):
        self.compressor = zlib.compressobj()
        self.n = 0

    def __iter__(self):
        return self

    def __next__(self):
        self.n += 1
        if self.n > 1:
            raise StopIteration
        return self.n


for n in Chunks():  # the iterator has no name: the loop holds it on its value stack
    try:
        teleporter.teleport()
    except teleporter.TeleportError as e:
        print("refused:", e)
print("still running")
