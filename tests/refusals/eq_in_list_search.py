import teleporter

refused = []


class Key:
    def __eq__(self, other):  # called by the list's own search loop, which cannot be carried
        if not refused:
            try:
                teleporter.teleport()
            except teleporter.TeleportError as e:
                refused.append(e)
                print("refused:", e)
        return other == 2

    __hash__ = object.__hash__


print(Key() in [1, 2, 3])
