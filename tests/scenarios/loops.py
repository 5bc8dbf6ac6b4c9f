import os

import teleporter

START = os.getpid()


def walk():
    out = []
    data = {"x": 1, "y": 2, "z": 3}
    for i, (k, v) in enumerate(data.items()):
        for ch in "ab":
            if k == "y" and ch == "b":
                teleporter.teleport()
            out.append(f"{i}{k}{v}{ch}")
    else:
        out.append("for-else")
    n = 0
    while n < 5:
        n += 1
        if n == 3:
            teleporter.teleport()
    else:
        out.append(f"while-else {n}")
    it = iter(range(10))
    for x in it:
        if x == 4:
            teleporter.teleport()
            out.append(next(it))
        if x > 6:
            break
    return out


print(walk())
for i in zip(range(3), "xyz"):
    if i[0] == 1:
        teleporter.teleport()
    print(i)
print("moved:", os.getpid() != START)
