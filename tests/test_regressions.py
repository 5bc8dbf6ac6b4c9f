"""Defects found by moving real programs, each as the smallest program that showed it.

Every program runs as a real subprocess three ways: with the fork-based reference (the
program as it would run unmoved), moved by ``teleport()``, and checkpointed then resumed
(``teleport()`` replaced by a checkpoint that exits, then ``python -m teleporter resume``).
Output, stderr and exit code must be the reference's, and its expected lines must appear.
"""

import re
import subprocess
import sys
import textwrap

import pytest
from conftest import run_moved, run_program

PROGRAMS = {
    # A library class that its metaclass's __call__ completes on first use (pygments'
    # lexers compile their token tables then): rebuilt instances never make that call, so
    # the class arrived without them (AttributeError: no attribute '_tokens').
    "metaclass_completes_class": (
        """
        from pygments import highlight
        from pygments.formatters import NullFormatter
        from pygments.lexers import PythonLexer

        import teleporter

        lexer = PythonLexer()  # the metaclass compiles the class's token table now
        teleporter.teleport()
        print(highlight("x = 1\\n", lexer, NullFormatter()), end="")
        print([t for t, v in lexer.get_tokens("def f(): pass\\n")][:3])
        """,
        ["x = 1", "[Token.Keyword, Token.Text.Whitespace, Token.Name.Function]"],
    ),
    # Two buffers of 1 MiB or more: every section after the first was mapped at offset 0.
    "two_large_buffers": (
        """
        import numpy as np
        import teleporter

        X = np.arange(512 * 512, dtype=np.float64).reshape(512, 512)
        y = np.arange(300_000, dtype=np.int64) * 3
        blob = bytes(range(256)) * 8192
        teleporter.teleport()
        print(X.sum(), y.sum(), X[17, 300], y[-1], len(blob), blob[1000:1004])
        """,
        ["34359607296.0 134999550000 9004.0 899997 2097152 b'\\xe8\\xe9\\xea\\xeb'"],
    ),
    # An instance whose class has __getattr__ (tqdm's stream wrapper, any proxy).
    "getattr_proxy": (
        """
        import teleporter

        class Proxy:
            def __init__(self, wrapped):
                self._wrapped = wrapped

            def __getattr__(self, name):
                return getattr(self._wrapped, name)

        class Slotted:
            __slots__ = ("inner",)

            def __getattr__(self, name):
                return getattr(self.inner, name)

        p = Proxy([3, 1, 2])
        s = Slotted()
        s.inner = "text"
        teleporter.teleport()
        print(p.count(1), p._wrapped, s.upper())
        """,
        ["1 [3, 1, 2] TEXT"],
    ),
    # Module-level lru_cache/cache functions travel by value, with their caches.
    "lru_cache_functions": (
        """
        import functools
        import teleporter

        @functools.lru_cache(maxsize=4)
        def square(n):
            print("computing", n)
            return n * n

        @functools.cache
        def fib(n):
            return n if n < 2 else fib(n - 1) + fib(n - 2)

        @functools.lru_cache(maxsize=None, typed=True)
        def kw(a, *, b=1):
            print("kw", a, b)
            return a + b

        for n in (1, 2, 3, 1, 4, 5):
            square(n)
        fib(40)
        kw(1, b=2)
        kw(1.0, b=2)
        print(square.cache_info(), fib.cache_info(), kw.cache_info())
        teleporter.teleport()
        print(square(5), square(2), square(4))
        print(fib(41), kw(1, b=2), kw(1.0, b=2))
        print(square.cache_info(), fib.cache_info(), kw.cache_info())
        print(type(square).__name__, square.__wrapped__.__name__, square.cache_parameters())
        square.cache_clear()  # drops the rebuilt links (each owned by the list and the dict)
        for n in range(10):
            square(n % 6)
        print(square.cache_info())
        """,
        ["computing 2", "25 4 16", "165580141 3 3.0"],
    ),
    # type(None) and other singleton types (any `X | None` annotation holds one).
    "none_type": (
        """
        import types
        from typing import Optional
        import teleporter

        def scale(x: int | None = None, y: Optional[float] = None) -> float | None:
            return None if x is None else x * (y or 1.0)

        kinds = [type(None), type(NotImplemented), type(...), types.NoneType]
        teleporter.teleport()
        print(scale(3, 2.0), scale.__annotations__["x"], kinds[0] is type(None), kinds)
        """,
        [
            "6.0 int | None True [<class 'NoneType'>, <class 'NotImplementedType'>, "
            "<class 'ellipsis'>, <class 'NoneType'>]"
        ],
    ),
    # A by-value class whose __setstate__ uses a global of __main__ defined after it.
    "setstate_uses_globals": (
        """
        import teleporter

        SCALE = 10

        class Reading:
            def __init__(self, raw):
                self.raw = raw
                self.scaled = raw * SCALE

            def __getstate__(self):
                return {"raw": self.raw}

            def __setstate__(self, state):
                self.raw = state["raw"]
                self.scaled = self.raw * SCALE + helper()

        first = Reading(2)

        def helper():
            return OFFSET

        OFFSET = 0  # the rebuilt object must equal the original

        def main():
            local = Reading(3)
            teleporter.teleport()
            print(first.scaled, local.scaled)

        main()
        """,
        ["20 30"],
    ),
    # Attributes of by-reference modules that the program replaced with its own.
    "monkeypatched_module": (
        """
        import json
        import re
        import teleporter

        calls = []
        original = re.compile

        def recording(pattern, flags=0):
            calls.append(pattern)
            return original(pattern, flags)

        re.compile = recording
        json.dumps_sorted = lambda obj: json.dumps(obj, sort_keys=True)
        re.compile("a+")
        teleporter.teleport()
        re.compile("b+")
        print(calls, re.compile is recording, json.dumps_sorted({"b": 1, "a": 2}))
        """,
        ["['a+', 'b+'] True {\"a\": 2, \"b\": 1}"],
    ),
    # Deeply nested data.
    "deep_data": (
        """
        import sys
        import teleporter

        def nest(depth):
            root = node = []
            for i in range(depth):
                child = [i]
                node.append(child)
                node = child
            return root

        def depth_of(x):
            n = 0
            while len(x) > 1 or (x and isinstance(x[-1], list)):
                x = x[-1]
                n += 1
            return n

        deep = nest(3000)
        limit = sys.getrecursionlimit()
        teleporter.teleport()
        print(depth_of(deep), limit == sys.getrecursionlimit())
        """,
        ["3000 True"],
    ),
    # struct.Struct objects and their bound methods.
    "struct_objects": (
        """
        import struct
        import teleporter

        HEADER = struct.Struct("<IHh")
        pack = HEADER.pack
        teleporter.teleport()
        print(pack(1, 2, -3), HEADER.size, HEADER.format, HEADER.unpack(pack(7, 8, 9)))
        """,
        ["b'\\x01\\x00\\x00\\x00\\x02\\x00\\xfd\\xff' 8 <IHh (7, 8, 9)"],
    ),
    # Loops over a list and a tuple, moved mid-loop: from 3.15 on the loop's index is a
    # tagged integer on the value stack, not an iterator object; a class whose annotations
    # (3.14+: an annotate function with a cell holding the class's namespace) travel.
    "tagged_loop_index": (
        """
        import teleporter

        class Point:
            x: int
            y: "Point | None" = None

        seen = []
        items = [10, 20, 30]
        for a in items:
            for b in (1, 2):
                if a == 20 and b == 2:
                    teleporter.teleport()
                seen.append(a * b)
        print(seen, Point.__annotations__)
        """,
        ["[10, 20, 20, 40, 30, 60] {'x': <class 'int'>, 'y': 'Point | None'}"],
    ),
    # itertools.tee over a generator: CPython 3.12 crashed at exit after the move.
    "itertools_tee": (
        """
        import itertools
        import teleporter

        def numbers():
            n = 0
            while True:
                yield n
                n += 1

        a, b = itertools.tee(numbers())
        c, d = itertools.tee(iter(range(100_000)), 2)
        for _ in range(50):
            next(a), next(c)
        teleporter.teleport()
        print(next(a), next(b), next(c), next(d))
        """,
        ["50 0 50 0"],
    ),
    # Every itertools iterator, fresh, midway and spent, continues where it stood (3.14
    # dropped their pickling; teleporter reads their C fields). groupby's groups: the
    # current one still reads, a stale one is empty, as at the origin.
    "itertools_every_iterator": (
        """
        import itertools as it
        import operator
        import teleporter

        def gen(n):
            yield from range(n)

        def advanced(x, k):
            for _ in range(k):
                next(x)
            return x

        made = {
            "accumulate": advanced(it.accumulate(gen(10)), 3),
            "accumulate_mul": advanced(it.accumulate([1, 2, 3, 4], operator.mul), 1),
            "accumulate_initial": it.accumulate([5, 6], initial=100),
            "accumulate_none_total": advanced(it.accumulate([None, 1, 2], lambda a, b: (a, b)), 1),
            "chain": advanced(it.chain([1, 2], gen(3), "ab"), 3),
            "chain_between": advanced(it.chain([1, 2], [3]), 2),
            "chain_from": advanced(it.chain.from_iterable([[1], [2, 3], [4]]), 2),
            "combinations": advanced(it.combinations(range(5), 3), 4),
            "combinations_none": it.combinations(range(2), 3),
            "cwr": advanced(it.combinations_with_replacement("abc", 2), 2),
            "compress": advanced(it.compress(gen(10), it.cycle([1, 0, 1])), 2),
            "cycle_first_pass": advanced(it.cycle(gen(4)), 2),
            "cycle_later": advanced(it.cycle(gen(3)), 5),
            "cycle_empty": it.cycle([]),
            "dropwhile": advanced(it.dropwhile(lambda x: x < 3, gen(8)), 1),
            "dropwhile_fresh": it.dropwhile(lambda x: x < 3, [1, 5, 1]),
            "filterfalse": advanced(it.filterfalse(None, [0, 1, 0, 2, 0, 3]), 1),
            "islice": advanced(it.islice(gen(100), 5, 40, 7), 2),
            "islice_spent": advanced(it.islice([1], 1), 1),
            "permutations": advanced(it.permutations("abcd", 2), 5),
            "permutations_none": it.permutations("ab", 3),
            "product": advanced(it.product("ab", range(3), repeat=2), 7),
            "product_fresh": it.product([1, 2], [3]),
            "repeat": advanced(it.repeat("x", 5), 2),
            "repeat_forever": advanced(it.repeat(7), 2),
            "starmap": advanced(it.starmap(pow, [(2, 1), (2, 2), (2, 3)]), 1),
            "takewhile": advanced(it.takewhile(lambda x: x < 5, gen(10)), 2),
            "takewhile_stopped": it.takewhile(lambda x: x < 1, [0, 5, 0]),
            "zip_longest": advanced(it.zip_longest("ab", gen(4), [9], fillvalue="-"), 2),
        }
        if hasattr(it, "batched"):  # 3.12+
            made["batched"] = advanced(it.batched(gen(10), 3), 1)
            made["batched_spent"] = advanced(it.batched([1, 2], 2), 1)
            list(made["batched_spent"])
        list(made["takewhile_stopped"])
        # a result tuple the program keeps, and one it does not
        kept = next(made["product"])
        pairs = it.zip_longest("abc", "de")
        held = next(pairs)
        groups = it.groupby("aaabbcdd")
        key_a, group_a = next(groups)
        next(group_a)
        key_b, group_b = next(groups)
        next(group_b)

        teleporter.teleport()

        for name, x in made.items():
            print(name, type(x).__name__, list(it.islice(x, 12)))
        print("kept", kept, next(made["product"]) is kept)
        print("pairs", held, list(pairs))
        print("stale group", key_a, list(group_a))
        print("current group", key_b, list(group_b))
        print("groups", [(k, "".join(g)) for k, g in groups])
        """,
        [
            "cycle_later cycle [2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1]",
            "zip_longest zip_longest [('-', 2, '-'), ('-', 3, '-')]",
            "stale group a []",
            "current group b ['b']",
            "groups [('c', 'c'), ('d', 'dd')]",
        ],
    ),
    # np.memmap reopens its file and keeps writing to it.
    "numpy_memmap": (
        """
        import os
        import numpy as np
        import teleporter

        path = os.path.abspath("data.f32")
        out = np.memmap(path, dtype=np.float32, mode="w+", shape=(4, 256))
        out[0] = 1.5
        tail = out[2:]
        reader = np.memmap(path, dtype=np.float32, mode="r", offset=1024, shape=(256,))
        teleporter.teleport()
        out[1] = 2.5
        tail[1, :3] = 7
        out.flush()
        print(type(out).__name__, type(tail).__name__, out.filename == path, out.mode,
              tail.base is out, tail.filename == path)
        print(np.fromfile(path, dtype=np.float32).reshape(4, 256)[:, :2].tolist())
        print(float(reader[0]), reader.flags.writeable)
        os.remove(path)
        """,
        [
            "memmap memmap True w+ True True",
            "[[1.5, 1.5], [2.5, 2.5], [0.0, 0.0], [7.0, 7.0]]",
            "2.5 False",
        ],
    ),
    # Locks, conditions, queues, thread-locals, a finished executor, csv writers, sqlite3.
    "threading_objects": (
        """
        import csv
        import queue
        import sqlite3
        import threading
        from concurrent.futures import ThreadPoolExecutor
        import teleporter

        LOCK = threading.Lock()
        HELD = threading.Lock()
        HELD.acquire()
        CACHE_LOCK = threading.RLock()
        CACHE_LOCK.acquire()
        CACHE_LOCK.acquire()
        cond = threading.Condition()
        sem = threading.BoundedSemaphore(3)
        sem.acquire()
        ev = threading.Event()
        ev.set()
        barrier = threading.Barrier(1)
        q = queue.Queue()
        q.put(1)
        q.put(2)
        pq = queue.PriorityQueue()
        pq.put((2, "b"))
        pq.put((1, "a"))
        sq = queue.SimpleQueue()
        sq.put("x")
        sq.put("y")
        lq = queue.LifoQueue(maxsize=3)
        lq.put("first")
        lq.put("last")
        tl = threading.local()
        tl.value = 42

        class Context(threading.local):
            def __init__(self, n):
                self.n = n

        ctx = Context(7)
        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(abs, [-1, -2]))
        f = open("out.csv", "w", newline="")
        w = csv.writer(f, delimiter=";")
        w.writerow(["a", "b"])
        dw = csv.DictWriter(f, fieldnames=["x", "y"])
        mem = sqlite3.connect(":memory:")
        mem.execute("create table t(x)")
        mem.execute("insert into t values (5)")
        mem.commit()
        disk = sqlite3.connect("f.db")
        disk.row_factory = sqlite3.Row
        disk.execute("create table t(x)")
        disk.execute("insert into t values (6)")
        disk.commit()
        teleporter.teleport()
        print(LOCK.locked(), HELD.locked(), CACHE_LOCK._is_owned(), cond.acquire(), sem._value,
              ev.is_set(), barrier.parties)
        CACHE_LOCK.release()
        CACHE_LOCK.release()
        print(CACHE_LOCK._is_owned(), HELD.acquire(blocking=False))
        print(q.get(), q.qsize(), pq.get(), sq.get(), sq.qsize(), tl.value, ctx.n, results)
        print(lq.get(), lq.qsize(), lq.maxsize, lq.get(), lq.empty())
        w.writerow([1, 2])
        dw.writerow({"x": 3, "y": 4})
        f.close()
        print(open("out.csv").read().split())
        print(mem.execute("select x from t").fetchall(),
              dict(disk.execute("select x from t").fetchone()))
        """,
        [
            "False True True True 2 True 1",
            "False False",
            "1 1 (1, 'a') x 1 42 7 [1, 2]",
            "last 1 3 first True",
            "['a;b', '1;2', '3,4']",
            "[(5,)] {'x': 6}",
        ],
    ),
    # ABCs with registered virtual subclasses, itertools.pairwise, datetime64 arrays, an
    # in-memory sqlite3 database that SQLAlchemy inspected (a `temp` schema appears).
    "abc_pairwise_datetime": (
        """
        import abc
        import itertools
        import sqlite3
        import numpy as np
        import teleporter

        class Shape(abc.ABC):
            @abc.abstractmethod
            def area(self): ...

        class Square(Shape):
            def area(self):
                return 4

        class Other:
            pass

        Shape.register(Other)
        pairs = itertools.pairwise(iter(range(6)))
        next(pairs)
        done = itertools.pairwise(iter([]))
        list(done)
        fresh = itertools.pairwise([(1, 2), (3, 4), (5, 6)])
        days = np.array(["2024-01-01", "2024-02-01"], dtype="M8[D]")
        later = days[1:]
        db = sqlite3.connect(":memory:")
        db.execute("PRAGMA temp.table_info(x)").fetchall()
        teleporter.teleport()
        print(Square().area(), isinstance(Other(), Shape), list(pairs), list(done))
        print(list(fresh))
        print(days + np.timedelta64(1, "D"), later.base is days, db.execute("select 1").fetchone())
        try:
            Shape()
        except TypeError:
            print("still abstract")
        """,
        [
            "4 True [(1, 2), (2, 3), (3, 4), (4, 5)] []",
            "[((1, 2), (3, 4)), ((3, 4), (5, 6))]",
            "['2024-01-02' '2024-02-02'] True (1,)",
            "still abstract",
        ],
    ),
    # re.Match objects held by the program (a lexer's locals: Pygments, markdown-it-py):
    # a search's, later matches of a scan (pos and endpos kept), a match of a sub-range.
    "regex_matches": (
        """
        import re
        import teleporter

        word = re.compile(r"(?P<w>[a-z]+)(\\d*)")
        scan = list(word.finditer("ab1 cd ef22 gh", 2, 12))
        found = re.search(r"(x)?y", "zzy")
        ranged = word.match("..abc9..", 2, 5)
        teleporter.teleport()
        print([(m.group(), m.span(), m.pos, m.endpos, m.lastgroup) for m in scan])
        print(found.regs, found.lastindex, found.re.pattern, ranged.group(0), ranged.endpos)
        """,
        [
            "[('cd', (4, 6), 2, 12, None), ('ef22', (7, 11), 2, 12, None)]",
            "((2, 3), (-1, -1)) None (x)?y abc 5",
        ],
    ),
    # codecs' stream wrappers (Pygments writes its output through one): a writer with
    # its codec's state (UTF-16's BOM written once), a reader part-way through a file.
    "codec_streams": (
        """
        import codecs, io, sys
        import teleporter

        out = codecs.getwriter("utf-8")(sys.stdout.buffer)
        out.write("é before\\n")
        sink = io.BytesIO()
        w16 = codecs.getwriter("utf-16")(sink)
        w16.write("a")
        src = codecs.getreader("utf-8")(io.BytesIO("ligne 1\\nligne 2\\n".encode()))
        first = src.readline()
        teleporter.teleport()
        w16.write("b")
        out.write(f"é after {sink.getvalue()!r} {first!r} {src.readline()!r}\\n")
        """,
        [
            "é before",
            "é after b'\\xff\\xfea\\x00b\\x00' 'ligne 1\\n' 'ligne 2\\n'",
        ],
    ),
    # contextvars: the program's variables, a copied Context, Tokens (used or not).
    "context_tokens": (
        """
        import contextvars
        import teleporter

        user = contextvars.ContextVar("user", default="anon")
        request = contextvars.ContextVar("request")
        first = user.set("alice")
        second = request.set(1)
        third = user.set("bob")
        spent = request.set(2)
        request.reset(spent)
        gone = contextvars.ContextVar("gone")
        gone_token = gone.set(0)
        gone.reset(gone_token)
        snapshot = contextvars.copy_context()
        teleporter.teleport()
        print(user.get(), request.get(), gone.get("unset"), snapshot[user], len(snapshot))
        user.reset(third)
        print(user.get(), snapshot.run(user.get))
        user.reset(first)
        request.reset(second)
        print(user.get(), request.get("unset"))
        try:
            request.reset(spent)
        except RuntimeError:
            print("a used token stays used")
        """,
        ["bob 1 unset bob 2", "alice bob", "anon unset", "a used token stays used"],
    ),
    # pyplot's figures, held by no variable of the program, keep their numbers and order.
    "pyplot_figures": (
        """
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import teleporter

        plt.figure(1)
        plt.plot([1, 2])
        plt.plot([2, 3])
        plt.figure(2)
        plt.plot([0, 1])
        plt.figure(1)
        teleporter.teleport()
        plt.plot([3, 4])
        print(plt.get_fignums(), plt.gcf().number, len(plt.gca().lines),
              len(plt.figure(2).axes[0].lines))
        plt.savefig("out.png")
        """,
        ["[1, 2] 1 3 1"],
    ),
    # numpy views keep sharing memory with their base.
    "numpy_views": (
        """
        import numpy as np
        import teleporter

        data = np.arange(1000.0)
        train, test = data[:800], data[800:]
        grid = np.arange(24.0).reshape(4, 6)
        column, every_other = grid[:, 2], grid[::2, ::3]
        big = np.zeros(300_000)
        window = big[1000:2000]
        flat = grid.flat
        next(flat); next(flat)
        teleporter.teleport()
        data += 1
        grid[:, 2] = -1
        big[1500] = 7
        print(train[:3], test[-1], train.base is data, column, every_other.tolist())
        print(window[500], window.base is big, np.shares_memory(window, big))
        print(next(flat), flat.base is grid)
        """,
        [
            "[1. 2. 3.] 1000.0 True [-1. -1. -1. -1.] [[0.0, 3.0], [12.0, 15.0]]",
            "7.0 True True",
            "-1.0 True",
        ],
    ),
    # Pillow: an ImageDraw made before the move draws into its image after it (they share
    # one core); palettes, blending draws, exact pixels of every mode, file images.
    "pillow_images": (
        """
        from PIL import Image, ImageDraw
        import teleporter

        canvas = Image.new("RGB", (40, 30), (0, 0, 0))
        draw = ImageDraw.Draw(canvas)
        draw.rectangle([0, 0, 9, 9], fill=(255, 0, 0))
        draw.text((0, 12), "A", fill=(0, 255, 0))  # sets the draw's default font
        same = canvas
        exif = canvas.getexif()
        exif[0x010E] = "described"
        pal = Image.new("RGB", (8, 8), (10, 200, 30)).quantize(4)
        pal_draw = ImageDraw.Draw(pal)
        rgb = Image.new("RGB", (10, 10), (0, 0, 255))
        blend = ImageDraw.Draw(rgb, "RGBA")
        bits = Image.new("1", (9, 3))
        ImageDraw.Draw(bits).point((4, 1), fill=1)  # held as 1, not 255
        bits.putpixel((5, 1), 255)
        ints = Image.new("I", (3, 3))
        ints.putpixel((2, 2), -123456)
        floats = Image.new("F", (3, 3))
        floats.putpixel((0, 2), 2.5)
        i16 = Image.new("I;16", (3, 3))
        i16.putpixel((1, 0), 65000)
        Image.new("RGB", (6, 4), (1, 2, 3)).save("lazy.png")
        lazy = Image.open("lazy.png")  # not read yet
        Image.new("L", (5, 5), 77).save("mapped.pgm")
        mapped = Image.open("mapped.pgm")
        mapped.load()  # Pillow maps the file read-only
        with Image.open("lazy.png") as read:  # read, then its file closed
            read.load()
        with Image.open("lazy.png") as unread:  # closed before it read its pixels
            unread_size = unread.size
        closed = Image.new("L", (3, 2))
        closed.close()
        teleporter.teleport()
        draw.rectangle([20, 20, 29, 29], fill=(0, 0, 255))
        print("drawn", canvas.getpixel((25, 25)), canvas.getpixel((5, 5)), same is canvas,
              draw.im is canvas.im)
        pal_draw.point((3, 3), fill=(255, 255, 0))
        print("palette", pal.mode, pal.convert("RGB").getpixel((3, 3)),
              pal.convert("RGB").getpixel((0, 0)), pal_draw.palette is pal.palette)
        blend.rectangle([0, 0, 9, 9], fill=(255, 0, 0, 128))
        print("blend", rgb.getpixel((5, 5)))
        print("modes", [bits.getpixel((x, 1)) for x in (3, 4, 5)], ints.getpixel((2, 2)),
              floats.getpixel((0, 2)), i16.mode, i16.getpixel((1, 0)))
        print("lazy", lazy.format, lazy.size, lazy.getpixel((5, 3)), lazy.filename)
        ImageDraw.Draw(mapped).point((0, 0), fill=5)
        print("mapped", mapped.getpixel((0, 0)), mapped.getpixel((4, 4)))
        before = canvas.tobytes()
        draw.text((12, 0), "moved", fill=(255, 255, 255))
        print("text drawn", canvas.tobytes() != before)
        print("exif", canvas.getexif() is exif, canvas.getexif()[0x010E])
        print("read", read.getpixel((1, 1)), unread.size == unread_size, closed.size)
        for img in (unread, closed):
            try:
                img.getpixel((0, 0))
            except (AssertionError, ValueError) as e:
                print("closed", type(e).__name__, e)
        """,
        [
            "drawn (0, 0, 255) (255, 0, 0) True True",
            "palette P (255, 255, 0) (10, 200, 30) True",
            "blend (128, 0, 127)",
            "modes [0, 1, 255] -123456 2.5 I;16 65000",
            "lazy PNG (6, 4) (1, 2, 3) lazy.png",
            "mapped 5 77",
            "text drawn True",
            "exif True described",
            "read (1, 2, 3) True (3, 2)",
            "closed ValueError Operation on closed image",
        ],
    ),
    # SQLAlchemy declarative models of the program (DeclarativeBase and declarative_base()):
    # mapped again at the destination with the same MetaData and Tables, their instances
    # (detached, in a closed Session, loaded collections) and statements made before the
    # move still work; rows are written to a sqlite file after it.
    "sqlalchemy_models": (
        """
        import sqlalchemy
        from sqlalchemy import Column, ForeignKey, Integer, String, create_engine, select
        from sqlalchemy.orm import (
            DeclarativeBase, Mapped, Session, backref, declarative_base, mapped_column,
            relationship,
        )
        import teleporter

        class Base(DeclarativeBase):
            pass

        class Shelf(Base):
            __tablename__ = "shelf"
            id: Mapped[int] = mapped_column(primary_key=True)
            label: Mapped[str] = mapped_column(String(20))
            items: Mapped[list["Item"]] = relationship(back_populates="shelf", order_by="Item.sku")

            def __init__(self, **kw):
                super().__init__(**kw)
                self.note = "made"

        class Item(Base):
            __tablename__ = "item"
            id: Mapped[int] = mapped_column(primary_key=True)
            sku: Mapped[str] = mapped_column(String(20))
            qty: Mapped[int] = mapped_column("quantity", default=0)
            secret: Mapped[str] = mapped_column(deferred=True, default="s")
            shelf_id: Mapped[int] = mapped_column(ForeignKey("shelf.id"))
            shelf: Mapped[Shelf] = relationship(back_populates="items")

            def restock(self, n):
                self.qty += n
                return self.qty

            @property
            def label(self):
                return f"{self.sku}x{self.qty}"

        class Note(Base):
            __tablename__ = "note"
            id: Mapped[int] = mapped_column(primary_key=True)
            text: Mapped[str]
            item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
            item = relationship(Item, backref=backref("notes", order_by="Note.text"))

        Old = declarative_base()

        class Tag(Old):
            __tablename__ = "tag"
            id = Column(Integer, primary_key=True)
            name = Column("tag_name", String(10))
            weight = Column(Integer, default=1)

        engine = create_engine("sqlite:///shop.db")
        Base.metadata.create_all(engine)
        Old.metadata.create_all(engine)
        with Session(engine) as s:
            s.add(Shelf(label="A", items=[Item(sku="b2", qty=2), Item(sku="a1", qty=1)]))
            s.add(Tag(name="red"))
            s.commit()
            kept = s.scalars(select(Item).where(Item.sku == "a1")).one()
            shelf = s.scalars(select(Shelf)).one()
            print("loaded", [i.sku for i in shelf.items])
        closed = s
        stmt = select(Item).order_by(Item.sku)
        mapper = sqlalchemy.inspect(Item)
        teleporter.teleport()
        inspect = sqlalchemy.inspect
        print("detached", kept.sku, kept.qty, kept.label, kept.restock(3), inspect(kept).detached)
        print("collection", [i.sku for i in shelf.items], shelf.items[0].shelf_id == shelf.id)
        print("new", Shelf(label="n").note, closed.is_active, len(closed.identity_map))
        with Session(engine) as s:
            s.add(Item(sku="c3", qty=5, shelf_id=1, notes=[Note(text="z"), Note(text="y")]))
            s.add(Tag(name="blue"))
            s.add(Shelf(label="B", items=[Item(sku="z9")]))
            s.commit()
            print("rows", [(i.sku, i.qty, i.shelf.label) for i in s.scalars(stmt)])
            a = s.scalars(select(Shelf).where(Shelf.label == "A")).one()
            print("relationship", [i.sku for i in a.items], [n.text for n in a.items[-1].notes])
            print("tags", [(t.name, t.weight) for t in s.scalars(select(Tag).order_by(Tag.id))])
            print("deferred", s.get(Item, 1).secret, mapper is inspect(Item))
        print("tables", sorted(Base.metadata.tables), sorted(Old.metadata.tables))
        tables = Base.metadata.tables
        print("same", Item.__table__ is tables["item"], Note.registry is Base.registry)
        print("relationships", list(inspect(Item).relationships.keys()))
        print("attrs", list(inspect(Item).attrs.keys()), list(inspect(Tag).attrs.keys()))
        engine.dispose()
        """,
        [
            "loaded ['a1', 'b2']",
            "detached a1 1 a1x1 4 True",
            "collection ['a1', 'b2'] True",
            "new made True 0",
            "rows [('a1', 1, 'A'), ('b2', 2, 'A'), ('c3', 5, 'A'), ('z9', 0, 'B')]",
            "relationship ['a1', 'b2', 'c3'] ['y', 'z']",
            "tags [('red', 1), ('blue', 1)]",
            "deferred s True",
            "tables ['item', 'note', 'shelf'] ['tag']",
            "same True True",
            "relationships ['shelf', 'notes']",
            "attrs ['shelf', 'id', 'sku', 'qty', 'secret', 'shelf_id', 'notes'] "
            "['id', 'name', 'weight']",
        ],
    ),
}


def _source(name):
    return textwrap.dedent(PROGRAMS[name][0]).lstrip()


def _run(tmp_path, name, mode):
    tmp_path = tmp_path / mode  # each run in a directory of its own
    tmp_path.mkdir()
    env = {"TELEPORTER_CKPT": str(tmp_path / "run.ckpt")}
    return run_moved(tmp_path / f"{name}.py", _source(name), mode, env, tmp_path)


@pytest.mark.parametrize("mode", ["teleport", "checkpoint"])
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_moves_like_the_reference(tmp_path, name, mode):
    ref = _run(tmp_path, name, "reference")
    assert ref.returncode == 0 and ref.stderr == b"", ref.stderr.decode()
    moved = _run(tmp_path, name, mode)
    assert moved.stderr.decode() == ref.stderr.decode()
    assert moved.stdout.decode() == ref.stdout.decode()
    assert moved.returncode == ref.returncode
    for line in PROGRAMS[name][1]:
        assert line in moved.stdout.decode().splitlines(), (line, moved.stdout.decode())


REFUSAL_LEAVES_NOTHING = """
import gc, weakref, zlib
import teleporter

gc.disable()  # what is freed must be freed by reference counting alone

class Big:
    pass

big = Big()
ref = weakref.ref(big)
cache = weakref.WeakValueDictionary(entry=big)
bad = zlib.compressobj()

def attempt():
    local = [big]
    try:
        teleporter.teleport()
    except teleporter.TeleportError as e:
        print("refused:", e)

attempt()
del big
print("freed:", ref() is None, len(cache))
"""


def test_a_refusal_leaves_no_reference_behind(tmp_path):
    path = tmp_path / "refused.py"
    path.write_text(REFUSAL_LEAVES_NOTHING)
    r = run_program(path)
    assert r.returncode == 0 and r.stderr == b"", r.stderr.decode()
    out = r.stdout.decode().splitlines()
    assert out[0].startswith("refused: cannot teleport: global variable `bad` is a zlib.Compress")
    assert out[1] == "freed: True 0"


REBUILD_FAILS = """
import sys
import teleporter

class Fragile:
    def __setstate__(self, state):
        raise ValueError("cannot rebuild a Fragile here")

keep = Fragile()
keep.part = 1
try:
    teleporter.teleport()
except teleporter.TeleportError as e:
    print("refused:", e)
print("still running")
"""


def test_a_failure_at_the_destination_comes_back_as_one_line(tmp_path):
    path = tmp_path / "fragile.py"
    path.write_text(REBUILD_FAILS)
    r = run_program(path)
    assert r.returncode == 0 and r.stderr == b"", r.stderr.decode()
    assert r.stdout.decode().splitlines() == [
        "refused: the destination could not rebuild the program: cannot rebuild the "
        "program's state: ValueError: cannot rebuild a Fragile here",
        "still running",
    ]


SPECIALISED_INIT = """
import os
import teleporter

pids = [os.getpid()]

class Node:
    def __init__(self, value):
        self.value = value
        if value in (0, 2000):  # the first call, then the same call site warmed up
            teleporter.teleport()
            pids.append(os.getpid())
        self.twice = value * 2

def build(n):
    nodes = []
    for i in range(n):
        nodes.append(Node(i))
    return nodes

nodes = build(2001)
print(len(nodes), type(nodes[-1]).__name__, nodes[-1].value, nodes[-1].twice, nodes[0].twice)
print("moves:", len(set(pids)) - 1)
"""


def test_a_move_from_init_does_not_depend_on_specialisation(tmp_path):
    # A warmed-up `Node()` call site is specialised (3.13: CALL_ALLOC_AND_ENTER_INIT): the
    # move from __init__ works there exactly as at the first, unspecialised call, and the
    # class call gives back the object __init__ was filling (not __init__'s None).
    path = tmp_path / "init.py"
    path.write_text(SPECIALISED_INIT)
    r = run_program(path)
    assert r.returncode == 0 and r.stderr == b"", r.stderr.decode()
    assert r.stdout.decode().splitlines() == ["2001 Node 2000 4000 0", "moves: 2"]


def test_a_checkpoint_that_cannot_be_resumed_fails_at_checkpoint(tmp_path):
    ckpt = tmp_path / "run.ckpt"
    path = tmp_path / "fragile.py"
    path.write_text(
        REBUILD_FAILS.replace("teleporter.teleport()", f"teleporter.checkpoint({str(ckpt)!r})")
        + "import os\nprint('written:', os.path.exists("
        + repr(str(ckpt))
        + "))\n"
    )
    r = run_program(path)
    assert r.returncode == 0 and r.stderr == b"", r.stderr.decode()
    assert r.stdout.decode().splitlines() == [
        "refused: cannot checkpoint: the program cannot be rebuilt from it: cannot rebuild the "
        "program's state: ValueError: cannot rebuild a Fragile here",
        "still running",
        "written: False",
    ]
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left either


def test_checkpoint_metadata_uses_bounded_reprs(tmp_path):
    # The reprs `inspect` shows are bounded as they are made: a 2-million-item list is
    # never turned into a 15 MB string to be cut afterwards.
    import json

    ckpt = tmp_path / "run.ckpt"
    path = tmp_path / "big.py"
    path.write_text(
        "import teleporter\n"
        "numbers = list(range(2_000_000))\n"
        "nested = {'a': [numbers, 'y' * 1_000_000]}\n"
        f"teleporter.checkpoint({str(ckpt)!r})\n"
    )
    r = run_program(path)
    assert r.returncode == 0 and r.stderr == b"", r.stderr.decode()
    shown = subprocess.run(
        [sys.executable, "-m", "teleporter", "inspect", "--json", str(ckpt)], capture_output=True
    )
    meta = json.loads(shown.stdout)
    reprs = {g["name"]: g["repr"] for g in meta["meta"]["globals"]}
    assert reprs["numbers"] == "[0, 1, 2, 3, 4, 5, 6, 7, ...]"
    assert len(reprs["nested"]) <= 120 and reprs["nested"].startswith("{'a': [[0, 1, 2")


NAMED_REFUSALS = """
import multiprocessing, subprocess, sys, time
from concurrent.futures import ProcessPoolExecutor
import teleporter

fork = multiprocessing.get_context("fork")  # 3.14's default is forkserver


def work(seconds):
    time.sleep(seconds)


child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
try:
    teleporter.teleport()
except teleporter.TeleportError as e:
    print("refused:", e)
child.kill()
child.wait()
pool = ProcessPoolExecutor(2, mp_context=fork)
pool.submit(abs, 1).result()
try:
    teleporter.teleport()
except teleporter.TeleportError as e:
    print("refused:", e)
pool.shutdown()
fork.Process(target=work, args=(30,), name="unreferenced").start()
try:
    teleporter.checkpoint("unused.ckpt")
except teleporter.TeleportError as e:
    print("refused:", e)
for p in multiprocessing.active_children():
    p.terminate()
    p.join()
finished = subprocess.Popen([sys.executable, "-c", "pass"])
finished.wait()
ended = [fork.Process(target=work, args=(0,)) for _ in range(2)]
for p in ended:
    p.start()
for p in ended:
    p.join()
print("moves with finished children")
teleporter.teleport()
print("moved", finished.returncode, [p.exitcode for p in ended], p.is_alive(),
      multiprocessing.active_children())
"""


def test_what_cannot_move_is_named_by_what_the_program_made(tmp_path):
    path = tmp_path / "named.py"
    path.write_text(NAMED_REFUSALS)
    r = run_program(path, cwd=tmp_path)
    assert r.returncode == 0 and r.stderr == b"", r.stderr.decode()
    out = r.stdout.decode().splitlines()
    assert out[0].startswith(
        "refused: cannot teleport: global variable `child` is a subprocess.Popen that cannot be "
        "moved (TypeError: a running child process (pid "
    ), out[0]
    # Named by the pool, not by its manager thread; an unreferenced child, by its name.
    assert re.fullmatch(
        r"refused: cannot teleport: the program has 2 child processes of multiprocessing "
        r"running \(pid \d+, a worker of a ProcessPoolExecutor; pid \d+, a worker of a "
        r"ProcessPoolExecutor\): another process does not move with the program; end it "
        r"\(join it, or shut its pool down\) before the move",
        out[1],
    ), out[1]
    assert re.fullmatch(
        r"refused: cannot checkpoint: the program has a child process of multiprocessing "
        r"running \('unreferenced', pid \d+\): .*",
        out[2],
    ), out[2]
    assert out[3:] == ["moves with finished children", "moved 0 [0, 0] False []"]
    assert "0x" not in r.stdout.decode()
    assert not (tmp_path / "unused.ckpt").exists()


MAPPED_IMAGES = """
from PIL import Image
import teleporter

def attempt():
    try:
        teleporter.teleport()
    except teleporter.TeleportError as e:
        print("refused:", e)

pixels = bytearray(16)
view = Image.frombuffer("L", (4, 4), pixels, "raw", "L", 0, 1)
attempt()
pixels[5] = 200  # the image shows what is written to the memory it is mapped onto
print("still running", view.getpixel((1, 1)))
frozen = Image.frombuffer("L", (4, 4), bytes(16), "raw", "L", 0, 1)
del view
attempt()
copy = frozen.copy()
del frozen
px = copy.load()
attempt()
del px
frames = [Image.new("L", (4, 4), c) for c in (10, 100, 200)]
frames[0].save("anim.gif", save_all=True, append_images=frames[1:])
anim = Image.open("anim.gif")
anim.seek(1)
attempt()
print("frame", anim.tell(), anim.getpixel((0, 0)))
anim.close()
teleporter.teleport()
print("moved", copy.getpixel((1, 1)))
"""


def test_a_pillow_image_on_another_objects_memory_is_named(tmp_path):
    path = tmp_path / "mapped.py"
    path.write_text(MAPPED_IMAGES)
    r = run_program(path, cwd=tmp_path)
    assert r.returncode == 0 and r.stderr == b"", r.stderr.decode()
    mapped = (
        "that cannot be moved (TypeError: a Pillow image mapped onto another object's memory "
        "(Image.frombuffer) cannot be moved)"
    )
    assert r.stdout.decode().splitlines() == [
        f"refused: cannot teleport: global variable `view` is a PIL.Image.Image {mapped}",
        "still running 200",
        f"refused: cannot teleport: global variable `frozen`._im is a builtins.ImagingCore "
        f"{mapped}",
        "refused: cannot teleport: global variable `px` is a builtins.PixelAccess that cannot "
        "be moved (TypeError: a Pillow PixelAccess (img.load()) cannot be moved: nothing in "
        "it says which image it reads (let it go before the move and call load() again "
        "after))",
        "refused: cannot teleport: global variable `anim` is a PIL.GifImagePlugin.GifImageFile "
        "that cannot be moved (TypeError: a multi-frame Pillow image still reading its file "
        "(a GIF, TIFF, ... at frame 1) cannot be moved: copy the frames it needs (img.copy()) "
        "first)",
        "frame 1 (100, 100, 100)",
        "moved 0",
    ]


UNMAPPABLE_MODELS = """
from sqlalchemy import Column, Integer, Table, event
from sqlalchemy.orm import (
    DeclarativeBase, Mapped, MappedAsDataclass, column_property, mapped_column, registry,
    synonym,
)
import teleporter

def attempt():
    try:
        teleporter.teleport()
    except teleporter.TeleportError as e:
        print("refused:", e)

class Base(DeclarativeBase):
    pass

class Person(Base):
    __tablename__ = "person"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str]
    __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "person"}

class Engineer(Person):
    __mapper_args__ = {"polymorphic_identity": "engineer"}

attempt()
del Engineer

class Alias(Base):
    __tablename__ = "alias"
    id: Mapped[int] = mapped_column(primary_key=True)
    ident = synonym("id")

attempt()
del Alias

class Twice(Base):
    __tablename__ = "twice"
    id: Mapped[int] = mapped_column(primary_key=True)
    double = column_property(id * 2)

attempt()
del Twice

class DataBase(MappedAsDataclass, DeclarativeBase):
    pass

class Point(DataBase):
    __tablename__ = "point"
    id: Mapped[int] = mapped_column(primary_key=True)

attempt()
del Point, DataBase

reg = registry()

class Plain:
    pass

reg.map_imperatively(Plain, Table("plain", reg.metadata, Column("id", Integer, primary_key=True)))
attempt()
del Plain, reg

def stamp(mapper, connection, target):
    pass

event.listen(Person, "before_insert", stamp)
attempt()
event.remove(Person, "before_insert", stamp)
teleporter.teleport()
print("moved", sorted(Base.metadata.tables), Person(kind="person").kind)
"""


def test_sqlalchemy_classes_that_cannot_be_mapped_again_are_named(tmp_path):
    path = tmp_path / "unmappable.py"
    path.write_text(UNMAPPABLE_MODELS)
    r = run_program(path, cwd=tmp_path)
    assert r.returncode == 0 and r.stderr == b"", r.stderr.decode()
    intercept = "sqlalchemy.orm.decl_api.DeclarativeAttributeIntercept"
    refused = "that cannot be moved (TypeError: the SQLAlchemy declarative class"
    assert r.stdout.decode().splitlines() == [
        f"refused: cannot teleport: global variable `Engineer` is a {intercept} {refused} "
        "'Engineer' cannot be moved: it inherits from another mapped class)",
        f"refused: cannot teleport: global variable `Alias` is a {intercept} {refused} "
        "'Alias' cannot be moved: its attribute 'ident' is a Synonym)",
        f"refused: cannot teleport: global variable `Twice` is a {intercept} {refused} "
        "'Twice' cannot be moved: its attribute 'double' is a MappedSQLExpression)",
        "refused: cannot teleport: global variable `Point` is a "
        f"sqlalchemy.orm.decl_api.DCTransformDeclarative {refused} 'Point' cannot be moved: "
        "it is mapped as a dataclass)",
        f"refused: cannot teleport: global variable `Plain` is a builtins.type {refused} "
        "'Plain' cannot be moved: it is not mapped by a declarative base)",
        f"refused: cannot teleport: global variable `Person` is a {intercept} {refused} "
        "'Person' cannot be moved: the program listens to its 'before_insert' events)",
        "moved ['alias', 'person', 'twice'] person",
    ]


CALLBACK_FROM_A_LIBRARY = """
import json
import teleporter

def hook(obj):
    try:
        teleporter.teleport()
    except teleporter.TeleportError as e:
        print("refused:", e)
    return obj

def load(text):
    return json.loads(text, object_hook=hook)

print(load('{"a": 1}'))
"""


def test_a_native_callers_refusal_names_the_programs_own_call_site(tmp_path):
    path = tmp_path / "callback.py"
    path.write_text(CALLBACK_FROM_A_LIBRARY)
    r = run_program(path)
    assert r.returncode == 0 and r.stderr == b"", r.stderr.decode()
    refused, result = r.stdout.decode().splitlines()
    assert refused.startswith("refused: cannot teleport from code called by native code: `hook`")
    assert refused.endswith(f", in `load` ({path}:13)"), refused
    assert result == "{'a': 1}"


CHECKPOINT_REFUSALS = """
import sys, threading
import teleporter

def key(k):
    try:
        teleporter.checkpoint(sys.argv[1])
    except teleporter.TeleportError as e:
        print("refused:", e)
    return -k

print(sorted([1, 2], key=key))
stop = threading.Event()

def ones():
    while not stop.is_set():
        yield 1

def spin():
    sum(ones())  # never stands where it can be captured: inside a generator sum() drives

t = threading.Thread(target=spin, name="spinner")
t.start()
try:
    teleporter.checkpoint(sys.argv[1], safe_point_timeout=0.2)
except teleporter.TeleportError as e:
    print("refused:", e)
stop.set()
t.join()
class Profiler:  # a profile function that cannot travel
    def __call__(self, frame, event, arg):
        pass
    def __reduce__(self):
        raise TypeError("not this one")
sys.setprofile(Profiler())
try:
    teleporter.checkpoint(sys.argv[1])
except teleporter.TeleportError as e:
    print("refused:", e)
sys.setprofile(None)
bad = Profiler()
try:
    teleporter.checkpoint(sys.argv[1])
except teleporter.TeleportError as e:
    print("refused:", e)
"""


def test_checkpoint_refusals_say_checkpoint(tmp_path):
    # The capture's refusals are worded for the operation refused, the main thread's and
    # another's alike.
    path = tmp_path / "refusals.py"
    path.write_text(CHECKPOINT_REFUSALS)
    r = run_program(path, str(tmp_path / "c.ckpt"))
    assert r.returncode == 0 and r.stderr == b"", r.stderr.decode()
    first, second, result, third, fourth, fifth = r.stdout.decode().splitlines()
    assert first.startswith("refused: cannot checkpoint from code called by native code: `key`")
    assert second.startswith("refused: cannot checkpoint from code called by native code: `key`")
    assert result == "[2, 1]"
    assert third.startswith("refused: cannot checkpoint: the thread 'spinner' (running "), third
    assert "(cannot checkpoint from inside the generator or coroutine `ones` (" in third
    assert third.endswith("within 0.2 s; the program keeps running"), third
    assert fourth.startswith("refused: cannot checkpoint: the profile function"), fourth
    assert fifth.startswith("refused: cannot checkpoint: global variable `bad`"), fifth
    assert "teleport" not in r.stdout.decode().replace("teleporter", "")


def test_two_large_buffers_move_through_fork(tmp_path):
    # fork() reads the memory file as teleport() does: each copy maps every section at
    # its own offset (only the first one mapped before, the copies then failed).
    path = tmp_path / "forked.py"
    path.write_text(
        textwrap.dedent(
            """
            import sys
            import numpy as np
            import teleporter

            X = np.arange(512 * 512, dtype=np.float64).reshape(512, 512)
            y = np.arange(300_000, dtype=np.int64) * 3
            i = teleporter.fork(2)
            sys.stdout.write(f"{i} {X.sum()} {y.sum()} {X[17, 300]} {y[-1]}\\n")  # one write
            """
        )
    )
    r = run_program(path, timeout=120)
    assert r.returncode == 0 and r.stderr == b"", r.stderr.decode()
    assert sorted(r.stdout.decode().splitlines()) == [
        f"{i} 34359607296.0 134999550000 9004.0 899997" for i in (0, 1)
    ]
