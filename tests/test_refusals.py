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
    "eq_in_list_search": (
        r"cannot teleport from code called by native code: `Key\.__eq__` \(.*\) was called "
        r"by the interpreter from `<module>` \(.*eq_in_list_search\.py:19\) \(the frame is "
        r"inside CONTAINS_OP, not a call\)",
        "True",
    ),
    "thread_in_socket": (
        r"cannot teleport the thread 'reader' \(running __main__\.read\): it waits in "
        r"socket\.recv at .*thread_in_socket\.py:13 in `read`, a call that cannot be made "
        r"again elsewhere",
        "[b'hello'] still running",
    ),
    "thread_native_only": (
        r"cannot teleport a thread started with _thread: it has no Python frame \(it runs "
        r"native code only\)",
        "still running",
    ),
    "thread_no_safe_point": (
        r"cannot teleport: the thread 'hasher' \(running __main__\.digest\), at "
        r".*thread_no_safe_point\.py:16 in `digest`, did not reach a point where it can be "
        r"captured within 0\.01 s; the program keeps running",
        "still running",
    ),
    "in_generator": (
        r"cannot teleport from inside the generator or coroutine `gen` \(.*in_generator\.py:4\): "
        r"it is driven by `list` \(type\), called from `<module>` \(.*in_generator\.py:12\), "
        r"whose progress cannot be carried$",
        "[1]",
    ),
    "async_generator_awaited": (
        r"cannot teleport: global variable `agen` is a builtins\.async_generator that cannot "
        r"be moved \(TypeError: cannot move the async generator `ticks`: the "
        r"async generator is being awaited \(an __anext__, asend or athrow of it is in "
        r"progress\)\)",
        "still running",
    ),
    "for_iterator": (
        r"cannot teleport: in `<module>` \(.*for_iterator\.py:23\), the iterator of a `for` "
        r"loop \(its \.compressor\) is a zlib\.Compress that cannot be moved",
        "still running",
    ),
    # A culprit 1,000 levels down is named with the middle of its path elided.
    "deep_culprit": (
        r"^refused: cannot teleport: global variable `root`(\[0\]){8}\.\.\.\(993 steps\)\.\.\."
        r"(\[0\]){4} is a zlib\.Compress that cannot be moved \(TypeError: cannot "
        r"pickle 'zlib\.Compress' object\)$",
        "still running",
    ),
    "sqlite_transaction": (
        r"global variable `conn` is a sqlite3\.Connection that cannot be moved \(TypeError: an "
        r"sqlite3 connection inside an open transaction cannot move \(commit or roll back "
        r"before the move\)\)",
        "1",
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
    # key() runs 3 times
    assert len(refused) == {"sorted_key": 3}.get(name, 1), out
    assert re.search(pattern, "\n".join(refused)), refused
    assert out[-1] == after
