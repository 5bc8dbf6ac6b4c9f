"""The C++ static stack-depth analysis agrees with an independent one written on `dis`,
over every code object of a broad slice of the standard library."""

import dis
import importlib
import opcode
import types

import pytest

from teleporter import _teleporter_impl as impl

MODULES = [
    "argparse",
    "ast",
    "asyncio.base_events",
    "asyncio.tasks",
    "collections",
    "dataclasses",
    "dis",
    "email.message",
    "enum",
    "functools",
    "inspect",
    "json.decoder",
    "logging",
    "pathlib",
    "pickle",
    "re._parser",
    "subprocess",
    "tarfile",
    "typing",
    "unittest.case",
    "zipfile",
]
TERMINAL = {
    "RETURN_VALUE",
    "RETURN_CONST",
    "RAISE_VARARGS",
    "RERAISE",
    "JUMP_FORWARD",
    "JUMP_BACKWARD",
    "JUMP_BACKWARD_NO_INTERRUPT",
}


def all_code(obj):
    for c in obj.co_consts:
        if isinstance(c, types.CodeType):
            yield c
            yield from all_code(c)


def corpus():
    for name in MODULES:
        mod = importlib.import_module(name)
        src = mod.__loader__.get_code(name)
        yield src
        yield from all_code(src)


def oracle(code):
    instrs = {i.offset: i for i in dis.get_instructions(code)}
    depth = {}
    work = [(0, 0)]
    for entry in dis._parse_exception_table(code):
        work.append((entry.target, entry.depth + int(entry.lasti) + 1))
    order = sorted(instrs)
    nxt = {a: b for a, b in zip(order, order[1:])}
    while work:
        off, d = work.pop()
        if off in depth:
            assert depth[off] == d, (code, off)
            continue
        depth[off] = d
        ins = instrs[off]
        arg = ins.arg if ins.opcode >= opcode.HAVE_ARGUMENT else None
        if ins.opname == "RETURN_GENERATOR":  # the generator stays on the stack on resume
            effect = 1
        else:
            effect = dis.stack_effect(ins.opcode, arg, jump=False)
        if ins.opname not in TERMINAL and off in nxt:
            work.append((nxt[off], d + effect))
        if ins.opcode in dis.hasjrel:
            target = getattr(ins, "jump_target", None) or ins.argval
            work.append((target, d + dis.stack_effect(ins.opcode, arg, jump=True)))
    return {off: d for off, d in depth.items() if instrs[off].opname != "EXTENDED_ARG"}


CODES = list(corpus())


def test_corpus_is_broad():
    assert len(CODES) > 2000


@pytest.mark.parametrize("chunk", range(8))
def test_depths_match_the_dis_oracle(chunk):
    for code in CODES[chunk::8]:
        ours = {off: d for off, d in impl.stack_depths(code).items() if d >= 0}
        assert ours == oracle(code), code


def test_depth_below_a_pending_call():
    def f(a, b):
        return [a, (b, len("xy"), g(a, b=b))]

    def g(a, b):
        return a

    depths = impl.stack_depths(f.__code__)
    # The call sequence starts at PRECALL on 3.11 (whose compiler model already pops the
    # arguments there), at CALL/CALL_KW after.
    calls = [i for i in dis.get_instructions(f) if i.opname in ("PRECALL", "CALL", "CALL_KW")]
    # Pending below the call to g: a, b and len's result; then NULL and the callable, and
    # both arguments (3.13 adds the keyword-names tuple).
    start = calls[-2] if calls[-2].opname == "PRECALL" else calls[-1]
    pending = depths[start.offset]
    assert pending == 3 + 2 + 2 + (1 if calls[-1].opname == "CALL_KW" else 0)


def test_rejects_non_code():
    with pytest.raises(TypeError):
        impl.stack_depths("not code")
