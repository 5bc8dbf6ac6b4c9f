import teleporter


class Holder:
    try:
        teleporter.teleport()
    except teleporter.TeleportError as e:
        print("refused:", e)


print("still running")
