"""A frame the interpreter entered from C to run a special method moves only when its
caller's instruction, made again at the destination, calls that very method before any
other Python code; otherwise the move is refused, naming the method and its caller, and
no Python code runs twice (tests/scenarios/special_methods.py has the moves)."""

import sys
import textwrap

from conftest import run_python

PROGRAM = textwrap.dedent(
    """
    import os, sys
    import teleporter

    pid = os.getpid()
    calls = []


    def move(tag):
        try:
            teleporter.teleport()
        except teleporter.TeleportError as e:
            print(tag, "refused:", e)
        else:
            print(tag, "moved", os.getpid() != pid)


    class Left:
        def __add__(self, other):  # runs first, gives way to the right operand
            calls.append("Left.__add__")
            return NotImplemented


    class Right:
        def __radd__(self, other):
            move("radd after a Python __add__")
            return "sum"


    class Base:
        def __add__(self, other):
            move("add under a subclass's __radd__")
            return "base"


    class Sub(Base):
        def __radd__(self, other):  # a subclass on the right: its method runs first
            calls.append("Sub.__radd__")
            return NotImplemented


    class Eq:
        def __eq__(self, other):
            move("eq under !=")
            return False


    class Rebinds:
        def __getitem__(self, key):
            if key == 40:
                key = 0  # the argument the interpreter passed is gone from this frame
                move("rebound key")
            return key


    print(Left() + Right(), calls)
    print(Base() + Sub(), calls)
    print(Eq() != Eq())
    r, total = Rebinds(), 0
    for i in range(50):
        total += r[i]
    print("total", total)
    import lazymod
    print("odd name", getattr(lazymod, "x\\udcff"))
    """
)

LAZY_MODULE = textwrap.dedent(
    """
    import teleporter


    def __getattr__(name):  # PEP 562
        teleporter.teleport()
        return len(name)
    """
)


def test_special_methods_move_only_when_made_again_they_run_first(tmp_path):
    path = tmp_path / "prog.py"
    path.write_text(PROGRAM)
    (tmp_path / "lazymod.py").write_text(LAZY_MODULE)
    r = run_python(str(path), timeout=60)
    out = r.stdout.decode()
    assert r.returncode == 0 and r.stderr == b"", r.stderr.decode()
    lines = out.splitlines()
    # Made again, the left operand's Python __add__ would run a second time: refused.
    assert lines[0].startswith(
        "radd after a Python __add__ refused: cannot teleport from code called by native "
        "code: `Right.__radd__` ("
    ), out
    assert "was called by the interpreter from `<module>` (" in lines[0], out
    assert lines[1] == "sum ['Left.__add__']", out
    assert lines[2].startswith(
        "add under a subclass's __radd__ refused: cannot teleport from code called by "
        "native code: `Base.__add__` ("
    ), out
    assert lines[3] == "base ['Left.__add__', 'Sub.__radd__']", out
    # != reaches __eq__ through object.__ne__: that is the method it runs first.
    assert lines[4:6] == ["eq under != moved True", "True"], out
    if sys.version_info[:2] in ((3, 11), (3, 12)):
        # These inline the warm __getitem__ call, handing it the operands: gone once the
        # frame rebinds them.
        assert lines[6].startswith(
            "rebound key refused: cannot teleport from `Rebinds.__getitem__` ("
        ), out
        assert "): it rebound an argument that `<module>` (" in lines[6], out
        assert "(BINARY_SUBSCR), needed to enter it again" in lines[6], out
    else:
        assert lines[6] == "rebound key moved True", out
    assert lines[7] == "total 1185", out
    # A module's __getattr__ under getattr() with a name that is no valid UTF-8.
    assert lines[8] == "odd name 2", out
