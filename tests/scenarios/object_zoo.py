import collections
import dataclasses
import enum
import functools
import itertools
import os
import sys
import typing
import weakref

import teleporter

START = os.getpid()


@dataclasses.dataclass
class Record:
    x: int
    tags: list = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class Frozen:
    a: int = 1


class Color(enum.Enum):
    RED = 1
    BLUE = 2

    def shout(self):
        return self.name.upper() + "!"


class Perm(enum.IntFlag):
    R = 4
    W = 2


class Pair(typing.NamedTuple):
    a: int
    b: str = "b"


Point = collections.namedtuple("Point", "x y")


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self):
        self.a, self.b = 1, 2


class Tagging(type):
    def __new__(mcs, name, bases, ns):
        ns["tag"] = name.lower()
        return super().__new__(mcs, name, bases, ns)


class Tagged(metaclass=Tagging):
    pass


class Outer:
    class Inner:
        def hello(self):
            return "inner"


class Base:
    def who(self):
        return "base"


class Child(Base):
    def who(self):
        return "child<" + super().who() + ">"

    @property
    def name(self):
        return "prop"


def add(a, b):
    return a + b


def make_counter():
    def step(n):
        return n + 1

    return step


keep = Child()
objs = {
    "record": Record(1),
    "frozen": Frozen(),
    "color": Color.BLUE,
    "perm": Perm.R | Perm.W,
    "pair": Pair(1),
    "point": Point(1, 2),
    "slotted": Slotted(),
    "tagged": Tagged(),
    "inner": Outer.Inner(),
    "partial": functools.partial(add, 10),
    "bound": keep.who,
    "weak": weakref.ref(keep),
    "count": itertools.count(5),
    "view": memoryview(bytearray(b"abcdef"))[1:4],
    "nested": make_counter(),
    "out": sys.stdout,
    # Types that builtins does not name (an isinstance check on a new type holds one)
    "iterator_types": [type(iter(b"")), type({}.keys()), type(iter(range(2**70)))],
}
next(objs["count"])
teleporter.teleport()
print("moved:", os.getpid() != START)
print(objs["record"], Record(2), dataclasses.fields(Record)[1].default is dataclasses.MISSING)
print(objs["frozen"], dataclasses.replace(objs["frozen"], a=3))
print(objs["color"] is Color.BLUE, Color(2).shout(), list(Color), int(objs["perm"]), Perm(6))
print(objs["pair"], Pair(5)._replace(b="z"), objs["point"], Point._make([3, 4]))
print(objs["slotted"].a, objs["slotted"].b, Tagged.tag, type(objs["tagged"]) is Tagged)
print(objs["inner"].hello(), Child().who(), keep.name, objs["partial"](5), objs["bound"]())
print(objs["weak"]() is keep, next(objs["count"]), bytes(objs["view"]), objs["nested"](1))
objs["view"][0] = ord("X")
print(objs["iterator_types"] == [type(iter(b"")), type({}.keys()), type(iter(range(2**70)))])
print("view writes through:", bytes(objs["view"].obj), objs["out"] is sys.stdout)
