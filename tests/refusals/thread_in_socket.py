# A thread waiting in a socket's recv cannot wait there elsewhere: the move is refused by
# its name, what it runs and where it waits; the origin keeps running with its threads.
import socket
import threading

import teleporter

a, b = socket.socketpair()
got = []


def read():
    got.append(a.recv(10))


reader = threading.Thread(target=read, name="reader")
reader.start()
try:
    teleporter.teleport()
except teleporter.TeleportError as e:
    print("refused:", e)
b.send(b"hello")
reader.join()
print(got, "still running")
