import threading

import teleporter


def save():
    moves = (teleporter.teleport, lambda: teleporter.fork(2))
    for move in moves:
        try:
            move()
        except teleporter.TeleportError as e:
            print("refused:", e)


worker = threading.Thread(target=save, name="saver")
worker.start()
worker.join()
print("still running")
