import teleporter


def gen():
    try:
        teleporter.teleport()
    except teleporter.TeleportError as e:
        print("refused:", e)
    yield 1


print(list(gen()))
