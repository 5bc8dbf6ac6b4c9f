"""Exceptions keep their cause, context and traceback across a move: the one being
handled, one kept in a variable, one in a group, each printed by traceback as before; and
moves from a `with` statement's __exit__ taking the exception leaving its block (a class's
own, a contextmanager's whose generator handles it)."""

import os
import sys
import traceback
from contextlib import contextmanager

import teleporter

START = os.getpid()


def parse(text):
    return int(text)


def load(text):
    try:
        return parse(text)
    except ValueError as e:
        raise RuntimeError(f"cannot load {text!r}") from e


def lookup(table, key):
    try:
        return table[key]
    except KeyError:
        raise LookupError(key)  # implicitly chained: __context__


kept = None
try:
    load("x1")
except RuntimeError as e:
    kept = e

try:
    lookup({}, "k")
except LookupError as e:
    teleporter.teleport()
    print("handled:", repr(e), repr(e.__context__), e.__cause__, e.__suppress_context__)
    print("".join(traceback.format_exc()).replace(os.path.dirname(__file__), "<dir>"))

print("kept:", repr(kept), repr(kept.__cause__), kept.__suppress_context__)
print("".join(traceback.format_exception(kept)).replace(os.path.dirname(__file__), "<dir>"))
print("frames:", [(f.name, f.lineno) for f in traceback.extract_tb(kept.__cause__.__traceback__)])

try:
    raise ExceptionGroup("several", [ValueError("a"), TypeError("b")])
except* ValueError as group:
    teleporter.teleport()
    print("group:", repr(group), [e.__traceback__ is None for e in group.exceptions])
except* TypeError:
    print("type error handled")
print("in except:", sys.exception())


class Guard:
    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        teleporter.teleport()
        print("exit:", kind.__name__, repr(value), [f.name for f in traceback.extract_tb(tb)])
        return kind is KeyError


def fails(kind):
    raise kind("inside")


for kind in (KeyError, ValueError):
    try:
        with Guard():
            fails(kind)
        print("swallowed", kind.__name__)
    except ValueError as e:
        print("propagated:", repr(e), [f.name for f in traceback.extract_tb(e.__traceback__)])


@contextmanager
def recovering(log):
    try:
        yield
    except KeyError as e:
        teleporter.teleport()
        log.append(("recovered", repr(e), sys.exception() is e))


log = []
with recovering(log):
    fails(KeyError)
print("contextmanager:", log)
print("moved:", os.getpid() != START)
