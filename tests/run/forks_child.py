"""A child forked by the program ends on SIGTERM as by default: the signal does not
checkpoint the program (the parent goes on, nothing is written)."""

import os
import signal
import time

for i in range(6):
    print(f"step {i}", flush=True)
    time.sleep(0.02)
pid = os.fork()
if pid == 0:
    time.sleep(30)
    os._exit(3)
os.kill(pid, signal.SIGTERM)
_, status = os.waitpid(pid, 0)
print("child ended by", os.WTERMSIG(status) if os.WIFSIGNALED(status) else status)
print("result")
