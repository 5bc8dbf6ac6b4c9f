import os
import tempfile

import teleporter

START = os.getpid()
where = tempfile.mkdtemp()
path = lambda name: os.path.join(where, name)  # noqa: E731

with open(path("in.txt"), "w") as f:
    f.write("line one\nline two\nline three\n")
with open(path("data.bin"), "wb") as f:
    f.write(bytes(range(10)))

reader = open(path("in.txt"))
first = reader.readline()
log = open(path("log.txt"), "w")
log.write("before the move\n")  # still in the buffer: must not be lost
binary = open(path("data.bin"), "rb")
binary.read(3)
appender = open(path("append.txt"), "a")
appender.write("A\n")
both = open(path("both.bin"), "w+b")
both.write(b"0123456789")
both.seek(4)
raw = open(path("raw.bin"), "wb", buffering=0)
raw.write(b"raw")
closed = open(path("in.txt"))
closed.close()
alias = log

teleporter.teleport()
print("moved:", os.getpid() != START)
print("reader:", repr(first), repr(reader.readline()), repr(reader.read()))
log.write("after the move\n")
print("alias:", alias is log)
print("binary:", list(binary.read(4)), binary.tell())
appender.write("B\n")
both.write(b"XY")
both.seek(0)
print("both:", both.read())
raw.write(b"-more")
print("closed:", closed.closed, type(closed).__name__)
for f in (reader, log, binary, appender, both, raw):
    f.close()
for name in ("log.txt", "append.txt", "raw.bin"):
    with open(path(name), "rb") as f:
        print(name, f.read())
for name in os.listdir(where):
    os.remove(path(name))
os.rmdir(where)
