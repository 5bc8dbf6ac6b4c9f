"""teleport() inside Python signal handlers, wherever the interpreter ran them: after a
backward jump, at a function's RESUME, at the end of a call that returned, inside a call
that runs handlers itself (os.kill: it gives None; time.sleep: it is made again). At the
destination the handler returns and the interrupted code goes on where it was, with its
value stack; the handler's `frame` is the interrupted frame's own object there."""

import _thread
import os
import signal
import sys
import time
import traceback

import teleporter

origin = os.getpid()
seen = []


def moved():
    return os.getpid() != origin


def on_signal(signum, frame):
    seen.append(signal.Signals(signum).name)
    teleporter.teleport()
    # The interrupted frame as the handler sees it: where it stands (the line and the
    # instruction), and that it is the handler's caller.
    print("  handler moved:", moved(), frame.f_code.co_name, frame is sys._getframe(1))
    print("  standing at", frame.f_lineno, frame.f_lasti)


def spin(state):
    state["go"] = True
    while not state["done"]:  # no call in the loop: the handler runs at its jump
        pass
    return "spun"


def pending_result():
    return (40, 2, _thread.interrupt_main(signal.SIGUSR1))  # handled when the call returns


def after_kill(k):
    return [k, os.kill(os.getpid(), signal.SIGUSR2), k + 1]  # handled inside os.kill


def dozing():
    time.sleep(0.3)  # handled inside the sleep, which is made again
    return "slept"


def marker():
    return "marked"


def on_alarm(signum, frame):
    state["done"] = True
    on_signal(signum, frame)


signal.signal(signal.SIGUSR1, on_signal)
signal.signal(signal.SIGUSR2, on_signal)
signal.signal(signal.SIGALRM, on_alarm)

print("jump")
state = {"done": False}
signal.setitimer(signal.ITIMER_REAL, 0.05)
print(" ", spin(state))

print("returned call")
print(" ", pending_result())

print("inside os.kill")
print(" ", after_kill(7))

print("inside time.sleep")
signal.setitimer(signal.ITIMER_REAL, 0.05)
print(" ", dozing())

print("function entry")
big = [0] * 5_000_000
signal.setitimer(signal.ITIMER_REAL, 0.005)
found = -1 in big, -1 in big, -1 in big, -1 in big  # no eval breaker inside: marker's RESUME
print(" ", found, marker())
del big


class Stop(Exception):
    pass


def raising(signum, frame):
    teleporter.teleport()
    raise Stop(f"raised after the move: {moved()}")


signal.signal(signal.SIGUSR1, raising)


def interrupted():
    total = 0
    for i in range(5):
        total += i
        if i == 3:
            _thread.interrupt_main(signal.SIGUSR1)
    return total


print("raised by the handler")
try:
    interrupted()
except Stop as e:
    print(" ", e)
    traceback.print_exc(file=sys.stdout)


def keeps_its_frame():
    me = sys._getframe()  # a frame object of a moving frame, held in a local
    teleporter.teleport()
    return me is sys._getframe(), me.f_code.co_name, me.f_back.f_code.co_name


print("own frame", keeps_its_frame())
print("seen", seen)
print("moved:", moved())
