"""A program that checkpoints itself (to a file of its own), run under `teleporter run`: a
signal that arrives during its own checkpoint is taken once that one has finished."""

import os
import sys
import time

import teleporter


class SlowPath:
    """A path that takes its time: the program's own checkpoint is under way meanwhile."""

    def __fspath__(self):
        print("own checkpoint", flush=True)
        time.sleep(0.5)
        return os.path.join(sys.argv[1], "own.ckpt")


total = 0
for step in range(4):
    total += step
    print("step", step, flush=True)
    if step == 1:
        teleporter.checkpoint(SlowPath())
        time.sleep(0.5)
print("total", total)
