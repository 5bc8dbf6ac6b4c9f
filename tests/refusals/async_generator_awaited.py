import asyncio

import teleporter


async def ticks():
    while True:
        yield 1
        await asyncio.sleep(0)


agen = ticks()
try:
    agen.asend(None).send(None)  # runs to the first yield
except StopIteration:
    pass
in_progress = agen.asend(None)
in_progress.send(None)  # the async generator now awaits sleep(0) inside this asend
try:
    teleporter.teleport()
except teleporter.TeleportError as e:
    print("refused:", e)
print("still running")
