import teleporter


def key(v):
    try:
        teleporter.teleport()
    except teleporter.TeleportError as e:
        print("refused:", e)
    return -v


print(sorted([1, 3, 2], key=key))
