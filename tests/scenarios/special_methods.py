"""Moves from special methods the interpreter calls through native code: operators,
comparisons, `in`, subscripts, attribute access (properties, __getattr__, descriptors, a
module's __getattr__), truth tests, iter(), f-strings, a `with` statement's __exit__, and
builtins that call one special method first (len, repr, getattr, list...). Each
continues inside the expression that called it; the program sees the same values."""

import functools
import os
import sys
import traceback

from helper_pkg import lazy

import teleporter

moves = []


def move(tag):
    pid = os.getpid()
    teleporter.teleport()
    moves.append((tag, os.getpid() != pid))


def callers():
    """The frames from the special method out to the module, by name."""
    f, names = sys._getframe(1), []
    while f and f.f_code.co_filename == __file__:
        names.append(f.f_code.co_name)
        f = f.f_back
    return names


class Num:
    def __init__(self, v):
        self.v = v

    def __repr__(self):
        return f"Num({self.v})"

    def __add__(self, other):
        move("__add__")
        print("add chain", callers())
        return Num(self.v + (other.v if isinstance(other, Num) else other))

    def __radd__(self, other):
        move("__radd__")
        return Num(other * 100 + self.v)

    def __iadd__(self, other):
        move("__iadd__")
        self.v += other
        return self

    def __lt__(self, other):
        move("__lt__")
        return self.v < other.v

    def __eq__(self, other):
        move("__eq__")
        return isinstance(other, Num) and self.v == other.v

    __hash__ = None

    def __neg__(self):
        move("__neg__")
        return Num(-self.v)

    def __invert__(self):
        move("__invert__")
        return Num(~self.v)

    def __abs__(self):
        move("__abs__")
        return Num(abs(self.v))

    def __bool__(self):
        move("__bool__")
        return self.v != 0

    def __format__(self, spec):
        move("__format__")
        return format(self.v, spec) + "!"


class Table:
    def __init__(self):
        self.data = {"a": 1}

    def __getitem__(self, key):
        move("__getitem__")
        if key == "missing":
            raise KeyError(key)
        if isinstance(key, slice):
            return sorted(self.data)[key]
        return self.data[key]

    def __setitem__(self, key, value):
        move("__setitem__")
        self.data[key] = value

    def __delitem__(self, key):
        move("__delitem__")
        del self.data[key]

    def __contains__(self, key):
        move("__contains__")
        return key in self.data

    def __len__(self):
        move("__len__")
        return len(self.data)

    def __iter__(self):
        move("__iter__")
        return iter(sorted(self.data))


class Letters:
    def __init__(self, items):
        self.items = items

    def __iter__(self):
        move("__iter__ by a builtin")
        return iter(self.items)


class Sized:
    def __len__(self):
        move("__len__ as truth")
        return 0


class Shown:
    def __str__(self):
        move("__str__")
        return "shown"

    def __repr__(self):
        move("__repr__")
        return "Shown()"


class Record:
    def __init__(self):
        self._x = 1

    @property
    def x(self):
        move("property get")
        return self._x * 10

    @x.setter
    def x(self, value):
        move("property set")
        self._x = value

    @x.deleter
    def x(self):
        move("property del")
        self._x = 0

    @functools.cached_property
    def expensive(self):
        move("cached_property")
        return sum(range(10))

    def __getattr__(self, name):
        move("__getattr__")
        return f"missing {name}"


class Watched:
    def __setattr__(self, name, value):
        move("__setattr__")
        object.__setattr__(self, name, value * 2)

    def __getattribute__(self, name):
        if name == "seen":
            move("__getattribute__")
        return object.__getattribute__(self, name)


class Twice:
    """A descriptor class of the program's own."""

    def __get__(self, obj, owner=None):
        move("descriptor __get__")
        return obj.base * 2


class UsesTwice:
    doubled = Twice()
    base = 21


class Guard:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        move("__exit__")
        return False


total = Num(2) + 3
print("add", total)
total = 3 + Num(2)
print("radd", total)
n = Num(1)
n += 4
print("iadd", n)
order = Num(1) < Num(2), Num(1) != Num(2)
print("lt, ne", order)
t = Table()
t["b"] = 2
got = t["b"], t[0:1], "a" in t, len(t)
print("getitem, slice, contains, len", got)
try:
    t["missing"]
except KeyError as e:
    print("raised after the move", repr(e), [f.name for f in traceback.extract_tb(e.__traceback__)])
del t["a"]
left = [k for k in t]
print("after del", left, sorted(t.data))
print("iterables", list(Letters("ab")), sum(Letters((1, 2))), sorted(Letters("ba")))
signs = -Num(3), ~Num(3), abs(Num(-4))
print("neg, invert, abs", signs)
truths = "yes" if Num(1) else "no", not Num(0), bool(Sized()) or "empty"
print("truth", truths)
r = Record()
got = r.x, r.expensive, r.other
print("property", got)
r.x = 5
print("set", r._x)
del r.x
got = r._x, getattr(r, "x"), hasattr(r, "gone")
print("deleted", got)
w = Watched()
w.seen = 4
got = w.seen, UsesTwice().doubled
print("watched", got)
formatted = f"{Num(7):>4}", f"{Shown()}", f"{Shown()!s}", f"{Shown()!r}", format(Num(9), "03")
print("format", formatted)
shown = repr(Shown()), str(Shown()), len(Table()), lazy.answer
print("builtins", shown)
# Warm: the interpreter may have specialised these instructions by the time they move.
class Warm:
    calls = 0

    @property
    def value(self):
        Warm.calls += 1
        if Warm.calls == 40:
            move("warm property")
        return Warm.calls

    def __getitem__(self, i):
        if i == 40:
            move("warm __getitem__")
        return i


def warm_loop():
    warm, seen = Warm(), 0
    for i in range(50):
        seen += warm.value + warm[i]
    return seen


print("warm", warm_loop())
with Guard() as g:
    inside = "inside"
print("with", inside, type(g).__name__)
print("lazy made", lazy.made)
print("all moved", all(m for _, m in moves), len(moves), [t for t, _ in moves])
