"""A frame the interpreter entered from C to run a special method moves only when its
caller's instruction, made again at the destination, calls that very method before any
other Python code; otherwise the move is refused, naming the method and its caller, and
no Python code runs twice (tests/scenarios/special_methods.py has the moves)."""

import sys
import textwrap

from conftest import CHECKPOINT, run_python

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


# A library class's property (the module travels by reference: the destination imports
# it): the getter at the destination is the library's own function there, while the
# travelling copy of it (pickle cannot find a getter by its name) has the origin's code.
LIBRARY = textwrap.dedent(
    """
    import teleporter


    class State:
        def __init__(self):
            self._pending = "a"
            self._buffer = [" b", " c"]

        @property
        def pending(self):  # markdown-it's StateInline.pending, in short
            buffer = self._buffer
            if buffer:
                text = self._pending
                self._pending = ""
                text += "".join(buffer)
                buffer.clear()
                MOVE
                self._pending = text
            return self._pending
    """
)

LIBRARY_USER = textwrap.dedent(
    """
    import os, pathlib, sys
    import teleporter
    import teleporter.policy

    teleporter.policy.register_by_reference("library")
    import library

    if len(sys.argv) > 1:  # the destination imports another release of the library
        path = pathlib.Path(library.__file__)
        path.write_text("# another release" + chr(10) + path.read_text())
    state = library.State()
    if state.pending:
        print("pending", repr(state._pending))
    print("end", repr(state._pending))
    """
)


def _library_program(tmp_path, move):
    (tmp_path / "library.py").write_text(LIBRARY.replace("MOVE", move))
    path = tmp_path / "user.py"
    path.write_text(LIBRARY_USER)
    return path


def test_a_library_property_getter_moves(tmp_path):
    # Its frame was never re-entered: the getter ran afresh at the destination and the
    # program went on with an empty text (markdown-it lost words under `teleporter run`).
    for move in ["teleporter.teleport()", CHECKPOINT]:
        path = _library_program(tmp_path, move)
        ckpt = tmp_path / "p.ckpt"
        env = {"TELEPORTER_CKPT": str(ckpt)}
        first = run_python(str(path), env=env, timeout=60)
        assert first.stderr == b"", first.stderr.decode()
        if move == CHECKPOINT:
            assert first.stdout == b""
            first = run_python("-m", "teleporter", "resume", str(ckpt), env=env, timeout=60)
            assert first.stderr == b"", first.stderr.decode()
        assert first.returncode == 0
        assert first.stdout.decode() == "pending 'a b c'\nend 'a b c'\n", move


def test_another_release_at_the_destination_stops_the_program_in_one_line(tmp_path):
    path = _library_program(tmp_path, "teleporter.teleport()")
    r = run_python(str(path), "other release", timeout=60)
    assert r.stdout == b"", r.stdout.decode()  # nothing ran on with the getter's frame lost
    assert r.returncode == 1
    assert r.stderr.decode() == (
        "teleporter: the destination could not rebuild the program: `State.pending` has "
        "other code here than at the origin (another release of its module?)\n"
    )
