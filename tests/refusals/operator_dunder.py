import teleporter


class Num:
    def __add__(self, other):
        try:
            teleporter.teleport()
        except teleporter.TeleportError as e:
            print("refused:", e)
        return 5


print(Num() + 1)
