import os

import teleporter

pids = [os.getpid()]


def hop(n):
    for i in range(n):
        teleporter.teleport()
        pids.append(os.getpid())
    return len(set(pids))


print("distinct processes:", hop(2))
