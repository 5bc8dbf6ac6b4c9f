"""A thread waits for a lock that is let go while the program is being read (here by an
object's __reduce__, as the lock's owner could have just before the move): the thread
takes it at that moment and goes on. The move must carry what happened, not a thread
still waiting for a lock that is already its own (it would wait forever)."""

import threading
import time

import teleporter

lock = threading.Lock()
lock.acquire()


class LetGoWhileRead:
    done = False

    def __reduce__(self):
        if not LetGoWhileRead.done:
            LetGoWhileRead.done = True
            lock.release()
            time.sleep(0.05)  # the waiting thread takes the lock meanwhile (no GIL needed)
        return (LetGoWhileRead, ())


marker = LetGoWhileRead()
got = []


def waiter():
    lock.acquire()
    got.append("got the lock")


t = threading.Thread(target=waiter, name="waiter")
t.start()
time.sleep(0.1)  # it waits in lock.acquire()
teleporter.teleport()
if not LetGoWhileRead.done:  # nothing was read: let it go now
    LetGoWhileRead.done = True
    lock.release()
t.join(10)
print("waiter ended:", not t.is_alive(), got, "lock held:", lock.locked())
