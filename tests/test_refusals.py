"""Every refusal raises TeleportError in the original process, which keeps running, and
names the culprit."""

import re

import pytest
from conftest import REFUSALS, run_program

# program -> pattern the refusal message must match, and what it prints afterwards
EXPECT = {
    "unpicklable_local": (
        r"cannot teleport: in `work` \(.*unpicklable_local\.py:14\), local variable "
        r"`cfg`\.parts\['guard'\]\[1\] is a zlib\.Compress that cannot be moved",
        "still running",
    ),
    "unpicklable_global": (
        r"cannot teleport: global variable `conn` is a socket\.socket that cannot be moved",
        "still running",
    ),
    "sorted_key": (
        r"cannot teleport from code called by native code: `key` \(.*\) was called by "
        r"`sorted` \(builtin_function_or_method\), called from `<module>` "
        r"\(.*sorted_key\.py:12\)",
        "[3, 2, 1]",
    ),
    "operator_dunder": (
        r"cannot teleport from code called by native code: `Num\.__add__` \(.*\) was called "
        r"by the interpreter from `<module>` \(.*operator_dunder\.py:13\)",
        "5",
    ),
    "threads_alive": (
        r"cannot teleport while other threads are running .*: 'worker-1'",
        "still running",
    ),
    "threads_daemon_and_raw": (
        r"cannot teleport while other threads are running .*: a thread started with _thread "
        r"\(running beat at .*threads_daemon_and_raw\.py:9\), 1 thread\(s\) started with "
        r"_thread, running native code\n"
        r"refused: cannot teleport while other threads are running .*: 'heartbeat' \(running "
        r"__main__\.beat\), a thread started with _thread \(running beat",
        "still running",
    ),
    "in_generator": (
        r"cannot teleport from inside the generator or coroutine `gen` \(.*in_generator\.py",
        "[1]",
    ),
    "async_generator_awaited": (
        r"cannot teleport: global variable `agen` is a builtins\.async_generator that cannot "
        r"be moved \(TypeError: cannot move the async generator `ticks`: the "
        r"async generator is being awaited \(an __anext__, asend or athrow of it is in "
        r"progress\)\)",
        "still running",
    ),
    "class_body": (r"cannot teleport from inside a class body: `Holder`", "still running"),
    "c_callback": (
        r"cannot teleport from code called by native code: `compare` \(.*c_callback\.py:11\) "
        r"was called by `qsort` \(_FuncPtr\), called from `<module>` \(.*c_callback\.py:22\)",
        "[1, 2, 3]",
    ),
}


def test_every_refusal_program_is_checked():
    assert sorted(p.stem for p in REFUSALS.glob("*.py")) == sorted(EXPECT)


@pytest.mark.parametrize("name", sorted(EXPECT))
def test_refusal(name):
    pattern, after = EXPECT[name]
    r = run_program(REFUSALS / f"{name}.py")
    out = r.stdout.decode().splitlines()
    assert r.returncode == 0, r.stderr.decode()
    assert r.stderr == b""
    refused = [ln for ln in out if ln.startswith("refused: ")]
    # key() runs 3 times; the threads program tries twice
    assert len(refused) == {"sorted_key": 3, "threads_daemon_and_raw": 2}.get(name, 1), out
    assert re.search(pattern, "\n".join(refused)), refused
    assert out[-1] == after
