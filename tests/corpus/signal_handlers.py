"""A long-running worker with signal handlers: SIGUSR1 asks for a status report, SIGTERM
for a graceful stop. After the move the worker signals itself; the handlers installed
before the move must run."""

import os
import signal
import sys

import teleporter

state = {"processed": 0, "reports": 0, "stop": False, "checksum": 0}


def on_usr1(signum, frame):
    state["reports"] += 1
    print(f"status: processed={state['processed']} checksum={state['checksum']} (report {state['reports']})")


def on_term(signum, frame):
    print("SIGTERM received: finishing current item and stopping")
    state["stop"] = True


signal.signal(signal.SIGUSR1, on_usr1)
signal.signal(signal.SIGTERM, on_term)
previous_int = signal.getsignal(signal.SIGINT)

item = 0
while not state["stop"]:
    item += 1
    state["checksum"] = (state["checksum"] * 31 + item * item) % 1_000_003
    state["processed"] += 1
    if item == 50:
        os.kill(os.getpid(), signal.SIGUSR1)
    if item == 100:
        sys.stdout.flush()
        teleporter.teleport()
        print("handlers:", signal.getsignal(signal.SIGUSR1) is on_usr1, signal.getsignal(signal.SIGTERM) is on_term)
        os.kill(os.getpid(), signal.SIGUSR1)
    if item == 150:
        os.kill(os.getpid(), signal.SIGTERM)
    if item > 10_000:
        print("never stopped: the SIGTERM handler did not run")
        sys.exit(9)

print("stopped after", state["processed"], "items, reports:", state["reports"], "checksum:", state["checksum"])
print("SIGINT handler unchanged:", signal.getsignal(signal.SIGINT) is previous_int)
signal.signal(signal.SIGTERM, signal.SIG_DFL)
