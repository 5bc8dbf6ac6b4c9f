"""Application logging: a named logger with a file handler (detailed format) and a stream
handler on stderr (short format), a filter and a child logger; records are written before
and after the move, and the log file is read back at the end."""

import logging
import sys
from pathlib import Path

import teleporter

log_path = Path(sys.argv[1]) / "app.log"


class DropNoisy(logging.Filter):
    def filter(self, record):
        return "noisy" not in record.getMessage()


log = logging.getLogger("pipeline")
log.setLevel(logging.DEBUG)
file_handler = logging.FileHandler(log_path, mode="w", encoding="utf-8")
file_handler.setLevel(logging.DEBUG)
file_handler.setFormatter(logging.Formatter("%(levelname)-7s %(name)s:%(funcName)s:%(lineno)d %(message)s"))
stream_handler = logging.StreamHandler(sys.stderr)
stream_handler.setLevel(logging.INFO)
stream_handler.setFormatter(logging.Formatter("[%(levelname)s] %(message)s"))
stream_handler.addFilter(DropNoisy())
log.addHandler(file_handler)
log.addHandler(stream_handler)
stage_log = log.getChild("stage")


def process(batch_no, items):
    stage_log.debug("batch %d has %d items", batch_no, len(items))
    total = sum(items)
    if total % 7 == 0:
        log.warning("batch %d total %d divisible by 7", batch_no, total)
    log.info("noisy detail for batch %d", batch_no)
    return total


totals = []
for b in range(8):
    items = [(b * 13 + k * 5) % 17 for k in range(b + 3)]
    totals.append(process(b, items))
    if b == 3:
        log.info("moving after batch %d", b)
        teleporter.teleport()
        log.info("moved; continuing")

log.info("done: totals=%s", totals)
try:
    1 / 0
except ZeroDivisionError:
    log.exception("expected failure while computing ratio")
for h in (file_handler, stream_handler):
    h.flush()
lines = log_path.read_text().splitlines()
print("log file lines:", len(lines))
for line in lines:
    if not line.startswith(("Traceback", "  ")):
        print("|", line)
print("levels:", logging.getLevelName(log.level), [logging.getLevelName(h.level) for h in log.handlers])
logging.shutdown()
log_path.unlink()
