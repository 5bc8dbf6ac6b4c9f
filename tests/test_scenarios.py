"""Each scenario program runs as a real subprocess twice: once with teleporter, once with
a stand-in whose teleport() is os.fork() (the child simply carries on, which is what a
move must look like). Output, tracebacks and exit code must be identical, and each
scenario's own expectations must hold, so both cannot be wrong together."""

import shutil

import pytest
from conftest import SCENARIOS, run_program

# scenario -> (args, expected exit code, lines that must appear in stdout)
EXPECT = {
    "module_level": ((), 0, ["moved: True", "42 ['a', 'b'] __main__"]),
    "nested_pending": (
        (),
        0,
        ["result: ({'k': 1}, ['middle', (7, 'g-result', 3, 9), 'tail'], 2)", "moved: True"],
    ),
    "loops": (
        (),
        0,
        [
            "['0x1a', '0x1b', '1y2a', '1y2b', '2z3a', '2z3b', 'for-else', 'while-else 5', 5]",
            "(2, 'z')",
            "moved: True",
        ],
    ),
    "closures": ((), 0, ["((2, [1, 2]), True)", "15", "moved: True"]),
    "try_with": (
        (),
        0,
        [
            "inside try, holding outer",
            "inner finally",
            "else branch",
            "exit outer None",
            "exit second KeyError",
            "caught KeyError('after move')",
            "moved: True",
        ],
    ),
    "in_except": (
        (),
        0,
        [
            "exc_info: ValueError original problem",
            "exception(): ValueError('original problem')",
            "re-raised: ValueError('original problem')",
            "innermost sees IndexError('inner')",
            "outer handler sees KeyError('outer')",
            "after both: None",
            "moved: True",
        ],
    ),
    "unwind_after_move": (
        (),
        0,
        [
            "recovered ['mid finally', 'top caught raised after the move', 'top finally']",
            "moved: True",
        ],
    ),
    "uncaught": ((), 1, ["moved: True"]),
    "deep_recursion": ((), 0, ["4 down", "moved: True"]),
    "headroom": ((), 0, ["moved: True"]),
    "init_moved_twice": ((), 0, ["Box 1 2", "moved: True"]),
    "calls": (
        (),
        0,
        ["('wrapped', 20)", "('wrapped', 10)", "5", "('deco', (1, 2, 3))", "moved: True"],
    ),
    "comprehensions": (
        (),
        0,
        ["[0, 1, 4, 9] {0: [], 1: [0], 2: [0, 1], 3: [0, 1, 4]} [0, 1]", "moved: True"],
    ),
    "globals_identity": (
        (),
        0,
        [
            "rebound before rebound after",
            "type(p) is Point: True True",
            "alias: True cycle: True shared: True",
            "globals: True True",
            "module: __main__ __main__ __main__",
            "moved: True",
        ],
    ),
    "exit_code": ((), 7, ["moved: True"]),
    "stdin_echo": ((), 0, ["before: one", "after: two", "rest: ['three', 'four']", "moved: True"]),
    "twice": ((), 0, ["distinct processes: 3"]),
    "interpreter_state": (
        ("alpha", "beta"),
        0,
        [
            "argv: ['alpha', 'beta']",
            "random: 0.4407325991753527",
            "limit: 4321",
            "path tail: /nonexistent/extra",
            "cwd kept: True",
            "moved: True",
        ],
    ),
    "seed_names": ((), 0, ["env: from-env", "processes: 5"]),
    "frame_chain": (
        (),
        0,
        [
            "(None, [('chain', 12), ('inner', 19), ('middle', 23), ('outer', 27), "
            "('<module>', 30)])",
            "moved: True",
        ],
    ),
    "killed_by_signal": ((), 128 + 15, ["moved: True"]),
    "in_signal_handler": (
        (),
        0,
        [
            "  handler moved: True spin False",
            "  spun",
            "  handler moved: True pending_result True",
            "  (40, 2, None)",
            "  handler moved: True after_kill True",
            "  [7, None, 8]",
            "  handler moved: True dozing False",
            "  slept",
            "  handler moved: True marker False",
            "  (False, False, False, False) marked",
            "  raised after the move: True",
            "Stop: raised after the move: True",
            "own frame (True, 'keeps_its_frame', '<module>')",
            "seen ['SIGALRM', 'SIGUSR1', 'SIGUSR2', 'SIGALRM', 'SIGALRM']",
            "moved: True",
        ],
    ),
    "object_zoo": (
        (),
        0,
        [
            "moved: True",
            "Record(x=1, tags=[]) Record(x=2, tags=[]) True",
            "Frozen(a=1) Frozen(a=3)",
            "True BLUE! [<Color.RED: 1>, <Color.BLUE: 2>] 6 6",
            "Pair(a=1, b='b') Pair(a=5, b='z') Point(x=1, y=2) Point(x=3, y=4)",
            "1 2 tagged True",
            "inner child<base> prop 15 child<base>",
            "True 6 b'bcd' 2",
            "view writes through: b'aXcdef' True",
        ],
    ),
    "async_generators": (
        (),
        0,
        [
            "first: (10, 10) (11, 121)",
            "guarded first: a",
            "done exhausted",
            "moved: True",
            "fresh: [(0, 0), (1, 1), (2, 3)]",
            "started: [(12, 133), (13, 146)]",
            "identity: True",
            "guarded next: b",
            "guarded closed",
            "done: []",
        ],
    ),
    "generators": (
        (),
        0,
        [
            "[(0, 0), (1, 1), (2, 3), (3, 6)]",
            "moved: True",
            "fresh: [(0, 0), (1, 1)]",
            "started: (2, 13) (3, 116) [(4, 120)]",
            "identity: True True",
            "done: [] None",
            "delegate: [(1, 1), (2, 3), ('sub returned', 3)]",
            "guarded: KeyError('inside') None",
            "coroutine returned 42",
            "pipeline: [1, 6, 18]",
        ],
    ),
    "exception_chains": (
        (),
        0,
        [
            "handled: LookupError('k') KeyError('k') None False",
            "    raise LookupError(key)  # implicitly chained: __context__",
            'kept: RuntimeError("cannot load \'x1\'") ValueError("invalid literal for int() '
            "with base 10: 'x1'\") True",
            "The above exception was the direct cause of the following exception:",
            "frames: [('load', 22), ('parse', 17)]",
            "group: ExceptionGroup('several', [ValueError('a')]) [True]",
            "type error handled",
            "in except: None",
            "exit: KeyError KeyError('inside') ['<module>', 'fails']",
            "swallowed KeyError",
            "exit: ValueError ValueError('inside') ['<module>', 'fails']",
            "propagated: ValueError('inside') ['<module>', 'fails']",
            "contextmanager: [('recovered', \"KeyError('inside')\", True)]",
            "moved: True",
        ],
    ),
    "special_methods": (
        (),
        0,
        [
            "add chain ['__add__', '<module>']",
            "add Num(5)",
            "radd Num(302)",
            "iadd Num(5)",
            "lt, ne (True, True)",
            "getitem, slice, contains, len (2, ['a'], True, 2)",
            "raised after the move KeyError('missing') ['<module>', '__getitem__']",
            "after del ['b'] ['b']",
            "iterables ['a', 'b'] 3 ['a', 'b']",
            "neg, invert, abs (Num(-3), Num(-4), Num(4))",
            "truth ('yes', True, 'empty')",
            "property (10, 45, 'missing other')",
            "set 5",
            "deleted (0, 0, True)",
            "watched (8, 42)",
            "format ('   7!', 'shown', 'shown', 'Shown()', '009!')",
            "builtins ('Shown()', 'shown', 1, 'ANSWER')",
            "warm 2500",
            "with inside Guard",
            "lazy made [('answer', True)]",
            "all moved True 43 ['__add__', '__radd__', '__iadd__', '__lt__', '__eq__', "
            "'__setitem__', '__getitem__', '__getitem__', '__contains__', '__len__', "
            "'__getitem__', '__delitem__', '__iter__', '__iter__ by a builtin', "
            "'__iter__ by a builtin', '__iter__ by a builtin', '__neg__', '__invert__', "
            "'__abs__', '__bool__', '__bool__', '__len__ as truth', 'property get', "
            "'cached_property', '__getattr__', 'property set', 'property del', 'property get', "
            "'__getattr__', '__setattr__', '__getattribute__', 'descriptor __get__', "
            "'__format__', '__str__', '__str__', '__repr__', '__format__', '__repr__', "
            "'__str__', '__len__', 'warm property', 'warm __getitem__', '__exit__']",
        ],
    ),
    "running_generators": (
        (),
        0,
        [
            "for [0, 1, 2, 3]",
            "for-loop [0, 1, 2, 3, 4]",
            "next [0, 1, 2, 3]",
            "send [0, 1, 2, 3] False",
            "handled inside KeyError('k') KeyError('k')",
            "throw 1 2 3 None",
            "yield-from ['a', 'inner-result', 'done']",
            "genexpr [0, 10, 20]",
            "coroutine coro-value",
            "with cm",
            "iterator [3, 2, 1, 0]",
            "init Node 21 42",
            "call 42",
            "partial 42",
            "context req-1 none req-1 req-1",
            "all moved True ['for-comprehension', 'for-loop', 'next', 'send', 'throw', "
            "'yield-from', 'genexpr', 'coroutine', 'cm-enter', 'cm-exit', '__next__', "
            "'__init__', '__call__', 'partial', 'Context.run']",
        ],
    ),
    "user_modules": (
        (),
        0,
        [
            "moved: True",
            "state kept: 12 12 [5, 7] True",
            "same module: True True",
            "function globals: True",
            "import again: True",
            "deleted module: 3 True",
        ],
    ),
    "files": (
        (),
        0,
        [
            "moved: True",
            "reader: 'line one\\n' 'line two\\n' 'line three\\n'",
            "alias: True",
            "binary: [3, 4, 5, 6] 7",
            "both: b'0123XY6789'",
            "closed: True TextIOWrapper",
            "log.txt b'before the move\\nafter the move\\n'",
            "append.txt b'A\\nB\\n'",
            "raw.bin b'raw-more'",
        ],
    ),
    "custom_reducer": ((), 0, ["moved: True value: 42 lock"]),
    "logging_config": (
        (),
        0,
        [
            "INFO app: before the move",
            "moved: True",
            "DEBUG app: after the move",
            "INFO other: root config kept",
            "['[file] before the move', '[file] after the move']",
        ],
    ),
    "ten_thousand_frames": ((), 0, ["10000 12000", "moved: True"]),
    "large_array": (
        (),
        0,
        [
            "moved: True",
            "intact: True (6144, 1024) float64",
            "writable: True identity: True",
            "sum: 19791206154239.0 1048576",
            "after fork: 1.0 19791206154239.0",
            "via launcher: 19791206154239.0 True",
            "lifted: bytes bytearray True True",
            "bytearray stays mutable: 255 0",
            "lifted via launcher: True bytearray(b'\\xff\\x01') 2097152 4071163044",
        ],
    ),
}


def test_every_scenario_has_expectations():
    assert sorted(p.stem for p in SCENARIOS.glob("*.py")) == sorted(EXPECT)


def _check(name, path, env=None):
    args, code, lines = EXPECT[name]
    stdin_file = path.with_suffix(".stdin")
    stdin = stdin_file.read_bytes() if stdin_file.exists() else b""
    moved = run_program(path, *args, stdin=stdin, env=env)
    ref = run_program(path, *args, stdin=stdin, reference=True, env=env)
    out = moved.stdout.decode()
    assert moved.stderr.decode() == ref.stderr.decode()
    assert out == ref.stdout.decode()
    assert moved.returncode == ref.returncode == code, moved.stderr.decode()
    for line in lines:
        assert line in out.splitlines(), (line, out)


@pytest.mark.parametrize("name", sorted(EXPECT))
def test_scenario(name):
    _check(name, SCENARIOS / f"{name}.py")


# The same programs, each teleport() going through ssh to a real sshd on loopback. A
# remote destination keeps its own environment: the variable naming the way goes along.
_WAY = '__import__("os").environ["TELEPORTER_TEST_VIA"]'
VIA = f"teleporter.teleport(*{_WAY}.split(), env={{'TELEPORTER_TEST_VIA': {_WAY}}})"


@pytest.fixture(scope="module")
def ssh_scenarios(tmp_path_factory):
    dest = tmp_path_factory.mktemp("ssh_scenarios")
    shutil.copytree(
        SCENARIOS, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__")
    )
    for path in dest.glob("*.py"):
        text = path.read_text()
        path.write_text(text.replace("teleporter.teleport()", VIA))
    return dest


@pytest.mark.parametrize("name", sorted(EXPECT))
def test_scenario_over_ssh(name, sshd, ssh_scenarios):
    _check(
        name, ssh_scenarios / f"{name}.py", env={"TELEPORTER_TEST_VIA": " ".join(sshd.command())}
    )


def test_uncaught_traceback_is_the_programs_own():
    path = SCENARIOS / "uncaught.py"
    err = run_program(path).stderr.decode()
    assert err.startswith("Traceback (most recent call last):\n")
    assert "teleporter" not in err.replace(str(path), "")
    frames = [ln.strip() for ln in err.splitlines() if ln.strip().startswith("File ")]
    assert [f.rsplit(", in ", 1)[1] for f in frames] == ["<module>", "run", "compute", "divide"]
    assert err.rstrip().endswith("ZeroDivisionError: division by zero")
