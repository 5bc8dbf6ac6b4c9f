TOTAL = 0


class Tally:
    def __init__(self):
        self.items = []

    def add(self, n):
        global TOTAL
        TOTAL += n
        self.items.append(n)
        return TOTAL


def total():
    return TOTAL
