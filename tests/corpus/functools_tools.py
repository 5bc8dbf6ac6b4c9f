"""Memoised dynamic programming and function composition with functools: lru_cache
(cache contents survive the move), partial, reduce, singledispatch, cached_property,
total_ordering, wraps."""

import functools
import operator

import teleporter


@functools.lru_cache(maxsize=None)
def edit_distance(a, b):
    if not a:
        return len(b)
    if not b:
        return len(a)
    return min(edit_distance(a[1:], b) + 1, edit_distance(a, b[1:]) + 1,
               edit_distance(a[1:], b[1:]) + (a[0] != b[0]))


@functools.lru_cache(maxsize=64)
def partitions(n, k):
    if n == 0:
        return 1
    if n < 0 or k == 0:
        return 0
    return partitions(n - k, k) + partitions(n, k - 1)


def traced(fn):
    calls = []

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        calls.append(args)
        return fn(*args, **kwargs)
    wrapper.calls = calls
    return wrapper


@functools.total_ordering
class Version:
    def __init__(self, text):
        self.parts = tuple(int(p) for p in text.split("."))

    def __eq__(self, other):
        return self.parts == other.parts

    def __lt__(self, other):
        return self.parts < other.parts

    @functools.cached_property
    def label(self):
        return "v" + ".".join(map(str, self.parts))


@functools.singledispatch
def describe(x):
    return f"object {x!r}"


@describe.register
def _(x: int):
    return f"int {x}"


@describe.register(list)
def _(x):
    return f"list of {len(x)}"


words = ["kitten", "sitting", "saturday", "sunday", "rosettacode", "raisethysword"]
print("d(kitten, sitting) =", edit_distance("kitten", "sitting"))
print("p(40) =", partitions(40, 40), partitions.cache_info())
scale = functools.partial(operator.mul, 3)
compose = traced(lambda *fs: functools.reduce(lambda f, g: lambda x: g(f(x)), fs))
pipeline = compose(scale, abs, functools.partial(pow, exp=2))
versions = [Version(v) for v in ("1.10.0", "1.2.3", "1.2.10", "0.9")]
print("label cached:", versions[0].label, "label" in vars(versions[0]))
info_before = edit_distance.cache_info()

teleporter.teleport()

print("cache kept:", edit_distance.cache_info() == info_before, edit_distance.cache_info().currsize > 0)
print("d(saturday, sunday) =", edit_distance("saturday", "sunday"))
print("d(rosettacode, raisethysword) =", edit_distance("rosettacode", "raisethysword"))
print("p(60) =", partitions(60, 60), partitions.cache_info().maxsize)
print("pipeline:", [pipeline(x) for x in (-3, 2, 5)], "compose calls:", len(compose.calls), compose.__name__)
print("sorted versions:", [v.label for v in sorted(versions)], max(versions).label)
print("total:", functools.reduce(operator.add, range(101)))
print([describe(x) for x in (7, [1, 2], "s")])
edit_distance.cache_clear()
print("after clear:", edit_distance.cache_info().currsize)
