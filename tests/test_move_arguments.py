"""env=, cwd= and python= are checked before any process starts: a bad one is one
TeleportError naming it, and the program keeps running; every good value arrives
exactly, through a launcher's shell line too."""

import os
import textwrap

import pytest
from conftest import run_program

# (the call's keyword arguments, as source; the refusal)
BAD = [
    ("env={'A=B': '1'}", "env: 'A=B' is not a valid variable name"),
    ("env={'': '1'}", "env: '' is not a valid variable name"),
    ("env={'CAFÉ': '1'}", "env: 'CAFÉ' is not a valid variable name"),
    ("env={'1A': '1'}", "env: '1A' is not a valid variable name"),
    ("env={'A B': '1'}", "env: 'A B' is not a valid variable name"),
    ("env={b'A': '1'}", "env: b'A' is not a valid variable name"),
    ("env={'X': 1}", "env: the value of 'X' is not a string (int)"),
    ("env={'X': b'v'}", "env: the value of 'X' is not a string (bytes)"),
    ("env={'X': pathlib.Path('/p')}", "env: the value of 'X' is not a string (PosixPath)"),
    ("env={'X': None}", "env: the value of 'X' is not a string (NoneType)"),
    ("env={'OK': 'y', 'X': 'a\\0b'}", "env: the value of 'X' contains a NUL byte"),
    ("env=[('A', '1')]", "env: expected a mapping of names to values, not list"),
    ("cwd=1", "cwd: expected a str or an os.PathLike of str, not int"),
    ("cwd=b'/tmp'", "cwd: expected a str or an os.PathLike of str, not bytes"),
    ("cwd='/tm\\0p'", "cwd: '/tm\\x00p' contains a NUL byte"),
    ("cwd=pathlib.Path('/tm\\0p')", "cwd: '/tm\\x00p' contains a NUL byte"),
    ("python=pathlib.Path('/usr/bin/python3')", "python: expected a str, not PosixPath"),
    ("python='/usr/bin/py\\0'", "python: '/usr/bin/py\\x00' contains a NUL byte"),
]

PROGRAM = """
    import os, pathlib, sys, teleporter
    # Every way teleporter starts a process, recorded: a refusal must come before any.
    started = []
    for name in ("posix_spawn", "posix_spawnp", "fork"):
        def record(*args, real=getattr(os, name), name=name, **kwargs):
            started.append(name)
            return real(*args, **kwargs)
        setattr(os, name, record)
    origin = os.getpid()
    for call in CALLS:
        try:
            eval(call)
        except teleporter.TeleportError as e:
            print(e)
    print("still here", os.getpid() == origin, "started", started)
"""


def run_calls(tmp_path, calls):
    prog = tmp_path / "prog.py"
    prog.write_text(textwrap.dedent(PROGRAM).replace("CALLS", repr(calls)))
    r = run_program(prog)
    assert r.returncode == 0 and r.stderr == b"", r.stderr.decode()
    return r.stdout.decode().splitlines()


@pytest.mark.parametrize("via", ["local", "launcher"])
def test_bad_arguments_are_refused_before_anything_starts(tmp_path, via):
    command = "" if via == "local" else "'bash', '-c', "
    calls = [f"teleporter.teleport({command}{kwargs})" for kwargs, _ in BAD]
    calls += [f"teleporter.fork(2, {command}{kwargs})" for kwargs, _ in BAD]
    out = run_calls(tmp_path, calls)
    assert out == [why for _, why in BAD] * 2 + ["still here True started []"]


@pytest.mark.parametrize("via", ["local", "launcher"])
def test_any_value_arrives_exactly(tmp_path, via):
    """Newlines, quotes, $(...), backquotes, backslashes and non-ASCII text are fine in a
    value; a Path is fine as cwd."""
    value = "a\nb 'q' \"d\" $(echo x) `echo y` $HOME \\ é ;|&*"
    where = tmp_path / "there"
    where.mkdir()
    prog = tmp_path / "prog.py"
    command = "" if via == "local" else "'bash', '-c', "
    prog.write_text(
        textwrap.dedent(
            f"""
            import os, pathlib, teleporter
            origin = os.getpid()
            teleporter.teleport({command}env={{"V": {value!r}, "_x9": ""}},
                                cwd=pathlib.Path({str(where)!r}))
            print(os.getpid() != origin, repr(os.environ["V"]), repr(os.environ["_x9"]))
            print(os.getcwd())
            """
        )
    )
    r = run_program(prog)
    assert r.returncode == 0 and r.stderr == b"", r.stderr.decode()
    assert r.stdout.decode().splitlines() == [f"True {value!r} ''", str(where)]
    assert os.getcwd() != str(where)
