import importlib
import os
import shutil
import sys
import tempfile

import teleporter
from helper_pkg import counter
from helper_pkg.counter import Tally

START = os.getpid()
tally = Tally()
tally.add(5)
tally.add(7)

# A module whose file is gone by the time of the move, forced by value with the switch.
where = tempfile.mkdtemp()
with open(os.path.join(where, "scratch_mod.py"), "w") as f:
    f.write("VALUE = 1\ndef bump():\n    global VALUE\n    VALUE += 1\n    return VALUE\n")
sys.path.insert(0, where)
import scratch_mod  # noqa: E402

scratch_mod.bump()
shutil.rmtree(where)  # the source and any bytecode cache: nothing left to import
sys.path.remove(where)
teleporter.register_by_value("scratch_mod")

teleporter.teleport()
print("moved:", os.getpid() != START)
print("state kept:", counter.TOTAL, counter.total(), tally.items, type(tally) is counter.Tally)
print("same module:", sys.modules["helper_pkg.counter"] is counter, Tally is counter.Tally)
print("function globals:", counter.total.__globals__ is counter.__dict__)
print("import again:", importlib.import_module("helper_pkg.counter") is counter)
print("deleted module:", scratch_mod.bump(), importlib.import_module("scratch_mod") is scratch_mod)
