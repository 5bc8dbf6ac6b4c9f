"""itertools' iterators read and rebuilt field by field (csrc/stdlib/itertools_iters.cpp):
every state the rebuild is given is checked before it is written, so a damaged one is an
error, never an iterator that reads out of range. The moves themselves are run as programs
in test_regressions (itertools_every_iterator)."""

import itertools as it
import pickle
import sys
import warnings

import pytest

from teleporter import _teleporter_impl as impl

NEW = sys.version_info >= (3, 14)  # where pickle no longer handles them and teleporter does


def _read_here(name):
    return NEW or name == "accumulate" or (name == "batched" and hasattr(it, "batched"))


def _copy(x):
    if _read_here(type(x).__name__):
        return impl.iter_make(type(x), *impl.iter_state(x))
    with warnings.catch_warnings():  # 3.12 and 3.13 deprecate it
        warnings.simplefilter("ignore", DeprecationWarning)
        return pickle.loads(pickle.dumps(x))


def _advanced(x, k):
    for _ in range(k):
        next(x)
    return x


@pytest.mark.parametrize(
    "make, k",
    [
        (lambda: it.product("abc", range(3), repeat=2), 11),
        (lambda: it.combinations(range(6), 3), 7),
        (lambda: it.combinations_with_replacement("abcd", 3), 9),
        (lambda: it.permutations(range(5), 3), 13),
        (lambda: it.permutations(range(3)), 0),
        (lambda: it.cycle([1, 2, 3]), 5),
        (lambda: it.repeat("x", 4), 1),
    ],
)
def test_a_copy_continues_where_the_original_stands(make, k):
    # These share nothing a step changes, so a copy in this process must step alike
    # (before 3.14 the copy is pickle's: teleporter leaves them to it there).
    x = _advanced(make(), k)
    y = _copy(x)
    assert type(y) is type(x)
    assert list(it.islice(y, 50)) == list(it.islice(x, 50))


def test_accumulate_and_batched_are_rebuilt_on_every_version():
    a = _advanced(it.accumulate([None, 1, 2], lambda t, v: (t, v)), 1)
    args, state = impl.iter_state(a)
    assert state[0] == (None,)  # a running total of None is not "no total yet"
    assert type(_copy(a)) is it.accumulate
    if sys.version_info >= (3, 12):
        b = _advanced(it.batched(range(7), 3), 1)
        assert list(_copy(b)) == [(3, 4, 5), (6,)]


BAD = [
    ("cycle", ((),), (1, 2)),  # wrong shape
    ("cycle", ((),), (None, [], -1)),  # first pass without an iterator
    ("cycle", ((),), (iter(()), "saved", 0)),
    ("cycle", ((),), (None, [1, 2], 5)),
    ("islice", ((), 0), (iter(()), -5, -1, 1, 0)),
    ("islice", ((), 0), (iter(()), 0, -1, 0, 0)),  # step 0
    ("dropwhile", (None, ()), (None, 42, 0)),  # not an iterator
    ("takewhile", (None, ()), (None, iter(()), 2)),
    ("compress", ((), ()), ([1], iter(()))),
    ("chain", (), (iter(()), 7)),
    ("product", ((1, 2), (3,)), ((5, 0), None, 0)),
    ("product", ((1, 2), (3,)), ((0,), None, 0)),
    ("product", ((1, 2), (3,)), ((0, 0), (1,), 0)),  # a result of the wrong size
    ("combinations", ((1, 2, 3), 2), ((0, 3), None, 0)),
    ("combinations", ((1,), 2), ((0, 1), None, 0)),  # cannot yield, yet not stopped
    ("combinations_with_replacement", ((1, 2), 2), ((0, 2), None, 0)),
    ("permutations", ((1, 2, 3), 2), ((0, 0, 1), (3, 2), None, 0)),
    ("permutations", ((1, 2, 3), 2), ((0, 1, 2), (4, 2), None, 0)),
    ("permutations", ((1, 2, 3), 2), ((0, 1, 2), (3, 2), (1, 2, 3), 0)),
    ("accumulate", ((),), ((), 5, None, None)),
    ("accumulate", ((),), ((1, 2), iter(()), None, None)),
    ("zip_longest", ((), ()), ((iter(()), None), 2, (None, None), None)),
    ("zip_longest", ((), ()), ((iter(()),), 1, (None, None), None)),
    ("zip_longest", ((), ()), ((iter(()), None), 1, None, None)),
    ("batched", ((), 1), (None, 3, 0)),
    ("batched", ((), 1), (iter(()), 0, 0)),
    ("groupby", ((),), (iter(()), None, (1, 2), (), ())),
    ("groupby", ((),), (5, None, (), (), ())),
]


@pytest.mark.parametrize("name, args, state", BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_a_damaged_state_is_refused_before_it_is_written(name, args, state):
    kind = getattr(it, name, type(None))  # batched before 3.12
    if not _read_here(name):  # pickle carries it: its layout here is not read at all
        with pytest.raises(TypeError, match="not one of the itertools iterators read here"):
            impl.iter_make(kind, args, state)
        return
    with pytest.raises(ValueError, match="itertools"):
        impl.iter_make(kind, args, state)


def test_only_itertools_own_types_are_made():
    read_here = "not one of the itertools iterators read here"
    with pytest.raises(TypeError, match=read_here):
        impl.iter_make(list, (), ())
    with pytest.raises(TypeError, match=read_here):
        impl.iter_state(iter([]))

    class Mine(it.accumulate):
        pass

    with pytest.raises(TypeError, match=read_here):
        impl.iter_state(Mine([]))


def test_a_rebuilt_group_reads_only_while_it_is_its_parents_current_one():
    groups = it.groupby("aabb")
    _, first = next(groups)
    if not NEW:  # pickle's reduce of a group, which teleporter leaves to it there
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            assert type(first).__reduce__(first)[0] is type(first)
        return
    stale = impl.iter_make(type(first), (groups, "a"), (False,))
    current = impl.iter_make(type(first), (groups, "a"), (True,))
    assert list(stale) == []
    assert list(first) == []  # no longer its parent's current group
    assert list(current) == ["a", "a"]
    with pytest.raises(ValueError, match="itertools"):
        impl.iter_make(type(first), ([], "a"), (True,))
