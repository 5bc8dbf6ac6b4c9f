import os

import teleporter

START = os.getpid()
pids = {os.getpid()}
teleporter.tp_dummy()
pids.add(os.getpid())
teleporter.tp_bash("bash", "-c")
pids.add(os.getpid())
teleporter.tp_shell("sh", "-c")
pids.add(os.getpid())
teleporter.teleport("bash", "-c", env={"TP_SCENARIO_VAR": "from-env"})
pids.add(os.getpid())
print("env:", os.environ.get("TP_SCENARIO_VAR"))
print("processes:", len(pids))
