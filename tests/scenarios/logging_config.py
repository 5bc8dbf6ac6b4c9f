import logging
import os
import sys
import tempfile

import teleporter

START = os.getpid()
where = tempfile.mkdtemp()
logfile = os.path.join(where, "app.log")
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s",
                    stream=sys.stdout)
app = logging.getLogger("app")
app.setLevel(logging.DEBUG)
file_handler = logging.FileHandler(logfile)
file_handler.setFormatter(logging.Formatter("[file] %(message)s"))
app.addHandler(file_handler)
quiet = logging.getLogger("app.quiet")
quiet.setLevel(logging.ERROR)
app.info("before the move")
teleporter.teleport()
print("moved:", os.getpid() != START)
app.debug("after the move")
quiet.warning("not shown")
logging.getLogger("other").info("root config kept")
logging.shutdown()
with open(logfile) as f:
    print(f.read().strip().splitlines())
os.remove(logfile)
os.rmdir(where)
