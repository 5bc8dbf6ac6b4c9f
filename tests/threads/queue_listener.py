"""logging through a QueueHandler to a QueueListener's thread, moved while records are
queued: the listener thread moves, handles what was queued and what comes after."""

import logging
import logging.handlers
import queue

import teleporter


class Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))


records = queue.Queue()
handler = Collect()
handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
listener = logging.handlers.QueueListener(records, handler)
log = logging.getLogger("app")
log.setLevel(logging.INFO)
log.addHandler(logging.handlers.QueueHandler(records))
log.propagate = False
listener.start()
for i in range(3):
    log.info("before the move %d", i)
teleporter.teleport()
for i in range(3):
    log.info("after the move %d", i)
listener.stop()  # handles every queued record, then ends its thread
print("listener thread ended:", listener._thread is None)
print(handler.lines)
