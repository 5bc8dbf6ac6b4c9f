"""Interpreter and library state that a program sets at run time travels with it
(teleporter._process_state).

Each program runs as a real subprocess three ways, as in test_regressions: with the
fork-based reference, moved by ``teleport()``, and checkpointed then resumed. It prints
the state after the move; output, stderr and exit code must be the reference's and its
expected lines must appear. A program marked ``reference=False`` holds state that a fork
does not keep (interval timers): only its expected lines count. Programs are named after
the carrier they need (``<carrier>`` or ``<carrier>_<what>``).
"""

import sys
import textwrap

import pytest
from conftest import run_moved, run_program

# name -> (source, expected lines, compared with the reference)
PROGRAMS = {
    "numpy": (
        """
        import numpy as np
        import teleporter

        np.random.seed(1234)
        np.random.rand(5)
        np.random.standard_normal()  # leaves a cached gaussian in the state
        np.seterr(divide="raise", over="ignore", invalid="call")
        np.setbufsize(16384)
        np.set_printoptions(precision=3, suppress=True, linewidth=40)

        def on_error(kind, flag):
            print("errcall:", kind)

        np.seterrcall(on_error)
        teleporter.teleport()
        print(round(float(np.random.rand()), 12), round(float(np.random.standard_normal()), 12))
        print(sorted(np.geterr().items()), np.getbufsize(), np.geterrcall() is on_error)
        print(np.array([1 / 3, 2 / 3, 1e-9]))
        try:
            np.array([1.0]) / np.array([0.0])
        except FloatingPointError as e:
            print("raised:", e)
        np.sqrt(np.array([-1.0]))
        """,
        [
            "0.801872177535 -0.956584278117",
            "[('divide', 'raise'), ('invalid', 'call'), ('over', 'ignore'), "
            "('under', 'ignore')] 16384 True",
            "[0.333 0.667 0.   ]",
            "raised: divide by zero encountered in divide",
            "errcall: invalid value",
        ],
        True,
    ),
    "numpy_threads": (
        """
        import threading
        import numpy as np
        import teleporter

        ready, go = threading.Barrier(3), threading.Event()
        lines = {}

        def worker(name, **err):
            np.seterr(**err)
            np.set_printoptions(precision=2)
            with np.errstate(under="raise"):
                ready.wait()
                go.wait()
                try:
                    np.array([1.0]) / np.array([0.0])
                    result = "no error"
                except FloatingPointError as e:
                    result = str(e)
                lines[name] = (name, np.geterr()["divide"], np.geterr()["under"],
                               str(np.array([1 / 3])), result)

        threads = [threading.Thread(target=worker, args=("raising",), kwargs={"divide": "raise"}),
                   threading.Thread(target=worker, args=("ignoring",), kwargs={"divide": "ignore"})]
        for t in threads:
            t.start()
        ready.wait()
        teleporter.teleport()
        go.set()
        for t in threads:
            t.join()
        for name in sorted(lines):
            print(*lines[name])
        print("main", np.geterr()["divide"], np.array([1 / 3]))
        """,
        [
            "ignoring ignore raise [0.33] no error",
            "raising raise raise [0.33] divide by zero encountered in divide",
            "main warn [0.33333333]",
        ],
        False,
    ),
    "decimal": (
        """
        import decimal
        import threading
        import teleporter

        ctx = decimal.getcontext()
        ctx.prec = 6
        ctx.rounding = decimal.ROUND_DOWN
        ctx.traps[decimal.DivisionByZero] = False
        decimal.Decimal(1) / decimal.Decimal(7)  # raises the Inexact and Rounded flags
        decimal.DefaultContext.prec = 12
        decimal.BasicContext.rounding = decimal.ROUND_CEILING
        decimal.ExtendedContext.Emax = 99
        teleporter.teleport()
        c = decimal.getcontext()
        print(c is ctx, c.prec, c.rounding, sorted(k.__name__ for k, v in c.flags.items() if v))
        print(decimal.Decimal(2) / decimal.Decimal(3), decimal.Decimal(1) / decimal.Decimal(0))
        print(decimal.DefaultContext.prec, decimal.BasicContext.rounding,
              decimal.ExtendedContext.Emax)
        ctx.prec = 3  # the program's reference is still the current context
        print(decimal.Decimal(2) / decimal.Decimal(3))
        t = threading.Thread(target=lambda: print("thread:", decimal.getcontext().prec))
        t.start()
        t.join()
        """,
        [
            "True 6 ROUND_DOWN ['Inexact', 'Rounded']",
            "0.666666 Infinity",
            "12 ROUND_CEILING 99",
            "0.666",
            "thread: 12",
        ],
        True,
    ),
    "warnings": (
        """
        import functools
        import warnings
        import teleporter

        class Mine(UserWarning):
            pass

        warnings.simplefilter("error", Mine)
        warnings.filterwarnings("ignore", message="quiet")
        warnings.defaultaction = "always"

        def show(label, message, category, filename, lineno, file=None, line=None):
            print(label, category.__name__, message)

        warnings.showwarning = functools.partial(show, "shown:")
        teleporter.teleport()
        warnings.warn("quiet please")
        warnings.warn("loud")
        try:
            warnings.warn("bad", Mine)
        except Mine as e:
            print("raised:", type(e).__name__, e)
        print(warnings.filters[0][:1], warnings.filters[0][2] is Mine, warnings.defaultaction)
        """,
        ["shown: UserWarning loud", "raised: Mine bad", "('ignore',) False always"],
        True,
    ),
    "warnings_catch": (
        """
        import warnings
        import teleporter

        def main():
            with warnings.catch_warnings(record=True) as log:
                warnings.simplefilter("always")
                warnings.warn("before")
                teleporter.teleport()
                warnings.warn("after")
            print([str(w.message) for w in log])
            warnings.simplefilter("error")
            try:
                warnings.warn("now an error")
            except UserWarning as e:
                print("raised:", e)

        original = warnings.filters
        main()
        print(warnings.filters is original)
        """,
        ["['before', 'after']", "raised: now an error", "True"],
        True,
    ),
    "signals": (
        """
        import os
        import signal
        import teleporter

        def on_usr1(signum, frame):
            print("usr1 handled by", frame.f_code.co_name)

        class OnTerm:
            def __init__(self, label):
                self.label = label

            def __call__(self, signum, frame):
                print(self.label, signal.Signals(signum).name)

        handler = OnTerm("term handled:")
        signal.signal(signal.SIGUSR1, on_usr1)
        signal.signal(signal.SIGUSR2, signal.SIG_IGN)
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, handler)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})

        def after():
            os.kill(os.getpid(), signal.SIGUSR1)
            os.kill(os.getpid(), signal.SIGUSR2)  # ignored
            print(signal.getsignal(signal.SIGPIPE), signal.getsignal(signal.SIGUSR2))
            print(signal.getsignal(signal.SIGTERM) is handler)
            os.kill(os.getpid(), signal.SIGTERM)
            print("pending:", sorted(s.name for s in signal.sigpending()))
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
            print("done")

        teleporter.teleport()
        after()
        """,
        [
            "usr1 handled by after",
            "0 1",  # SIG_DFL, SIG_IGN
            "True",
            "pending: ['SIGTERM']",
            "term handled: SIGTERM",
            "done",
        ],
        True,
    ),
    "signals_sigint": (
        """
        import os
        import signal
        import time
        import teleporter

        signal.signal(signal.SIGINT, signal.SIG_IGN)
        teleporter.teleport()
        print(signal.getsignal(signal.SIGINT))
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)
        except KeyboardInterrupt:
            print("KeyboardInterrupt")
        """,
        ["1", "KeyboardInterrupt"],  # SIG_IGN
        True,
    ),
    # A fork does not keep interval timers: only the expected lines count.
    "signals_timers": (
        """
        import signal
        import time
        import teleporter

        fired = []
        signal.signal(signal.SIGALRM, lambda s, f: fired.append(s))
        signal.setitimer(signal.ITIMER_REAL, 1.5)
        signal.setitimer(signal.ITIMER_VIRTUAL, 30.0, 5.0)
        signal.setitimer(signal.ITIMER_PROF, 40.0)
        teleporter.teleport()
        real = signal.getitimer(signal.ITIMER_REAL)[0]
        virtual, interval = signal.getitimer(signal.ITIMER_VIRTUAL)
        print("real armed:", 0.5 < real <= 1.6)  # timers round up to the clock's tick
        print("virtual:", 25 < virtual <= 30.1, interval)
        print("prof:", 35 < signal.getitimer(signal.ITIMER_PROF)[0] <= 40.1)
        deadline = time.monotonic() + 10
        while not fired and time.monotonic() < deadline:
            time.sleep(0.05)
        # (A local move's origin still forwards its own timer's SIGALRM: it may come twice.)
        print("alarm fired:", bool(fired) and set(fired) == {signal.SIGALRM})
        """,
        ["real armed: True", "virtual: True 5.0", "prof: True", "alarm fired: True"],
        False,
    ),
    "signals_alarm": (
        """
        import signal
        import teleporter

        signal.alarm(60)
        teleporter.teleport()
        print("alarm left:", 58 <= signal.alarm(0) <= 60)
        """,
        ["alarm left: True"],
        False,
    ),
    "atexit": (
        """
        import atexit
        import os
        import sys
        import teleporter

        # A library's own daemon thread, as tqdm's monitor: stopped at exit, left behind
        # (the library, imported afresh at the destination, starts it again if needed).
        here = os.path.dirname(os.path.abspath(__file__))
        with open(os.path.join(here, "monitorlib.py"), "w") as f:
            f.write(
                "import atexit, threading\\n"
                "class Monitor(threading.Thread):\\n"
                "    def __init__(self):\\n"
                "        super().__init__(daemon=True)\\n"
                "        self.stopped = threading.Event()\\n"
                "        atexit.register(self.stop)\\n"
                "        self.start()\\n"
                "    def run(self):\\n"
                "        self.stopped.wait()\\n"
                "    def stop(self):\\n"
                "        self.stopped.set()\\n"
            )
        sys.path.insert(0, here)
        teleporter.register_by_reference("monitorlib")
        from monitorlib import Monitor

        class Report:
            def __init__(self, title):
                self.title = title

            def write(self, *parts, sep=" "):
                print(self.title + ":", sep.join(parts))

        report = Report("summary")

        @atexit.register
        def goodbye():
            print("goodbye")

        def never():
            print("unregistered, never runs")

        atexit.register(report.write, "a", "b", sep="+")
        atexit.register(never)
        atexit.register(print, "twice")
        atexit.register(print, "twice")
        atexit.unregister(never)
        Monitor()
        teleporter.teleport()
        report.title = "changed after the move"
        atexit.register(print, "registered after the move")
        """,
        [
            "registered after the move",
            "twice",
            "changed after the move: a+b",
            "goodbye",
        ],
        True,
    ),
    "atexit_import_time": (
        """
        import atexit
        import logging
        import teleporter

        class Shown(logging.Handler):
            def emit(self, record):
                print("log:", record.getMessage())

            def close(self):
                print("closed at exit")
                super().close()

        log = logging.getLogger("app")
        log.addHandler(Shown())
        log.warning("before")
        teleporter.teleport()
        log.warning("after")
        """,
        ["log: before", "log: after", "closed at exit"],
        True,
    ),
    "atexit_unregistered": (
        """
        import atexit
        import logging
        import teleporter

        class Shown(logging.Handler):
            def emit(self, record):
                print("log:", record.getMessage())

            def close(self):
                print("closed at exit")
                super().close()

        log = logging.getLogger("app")
        log.addHandler(Shown())
        atexit.unregister(logging.shutdown)
        teleporter.teleport()
        log.warning("after")
        """,
        ["log: after"],
        True,
    ),
    "tracing": (
        """
        import functools
        import sys
        import threading
        import teleporter

        seen = []

        def tracer(frame, event, arg):
            if frame.f_code.co_name == "work":
                seen.append((event, frame.f_lineno - work.__code__.co_firstlineno))
                return tracer
            return None

        def profiler(frame, event, arg):
            if event == "call" and frame.f_code.co_name == "work":
                seen.append("profiled")

        def work(n):
            total = 0
            for i in range(n):
                total += i
            return total

        def main():
            sys.settrace(tracer)
            sys.setprofile(profiler)
            threading.settrace(functools.partial(tracer))
            threading.setprofile(functools.partial(profiler))
            teleporter.teleport()
            work(2)
            sys.settrace(None)
            sys.setprofile(None)
            t = threading.Thread(target=work, args=(1,))
            t.start()
            t.join()
            print(seen)

        main()
        """,
        [
            "[('call', 0), 'profiled', ('line', 1), ('line', 2), ('line', 3), ('line', 2), "
            "('line', 3), ('line', 2), ('line', 4), ('return', 4), ('call', 0), 'profiled', "
            "('line', 1), ('line', 2), ('line', 3), ('line', 2), ('line', 4), ('return', 4)]"
        ],
        True,
    ),
    # A debugger's way: sys.settrace, and the frames' own f_trace set on the way in (on the
    # __main__ frame by hand), a frame with line events off, one with opcode events on,
    # the move from a generator a comprehension drives. Every event of the program's own
    # code after the move is the reference's, and none of teleporter's is seen.
    "tracing_frames": (
        """
        import sys
        import teleporter

        events = []

        def tracer(frame, event, arg):
            if frame.f_code.co_filename == __file__:
                at = frame.f_lineno - frame.f_code.co_firstlineno
                events.append(f"{event} {frame.f_code.co_name} {at}")
            return tracer

        def quiet(frame, event, arg):
            events.append(f"quiet {event} {frame.f_code.co_name}")
            return quiet

        def gen(n):
            for i in range(n):
                yield i
                if i == 1:
                    teleporter.teleport()

        def middle():
            f = sys._getframe()
            f.f_trace_lines = False
            f.f_trace = quiet
            del f
            out = [x * 2 for x in gen(3)]
            return out

        def opcodes():
            sys._getframe().f_trace_opcodes = True
            r = middle()
            return len(r)

        sys._getframe().f_trace = tracer
        sys.settrace(tracer)
        r = opcodes()
        x = 5
        sys.settrace(None)
        print(r, x)
        print(len(events))
        print([e for e in events if not e.startswith("opcode")][-5:])
        """,
        [
            "3 5",
            "['quiet return middle', 'line opcodes 3', 'return opcodes 3', "
            "'line <module> 37', 'line <module> 38']",
        ],
        True,
    ),
    # A thread started under threading.settrace/setprofile, waiting at the move: its own
    # trace and profile functions and its frames' f_trace go on at the destination.
    "tracing_threads": (
        """
        import threading
        import teleporter

        seen = []

        def tracer(frame, event, arg):
            if frame.f_code.co_name in ("worker", "step"):
                at = frame.f_lineno - frame.f_code.co_firstlineno
                who = threading.current_thread().name
                seen.append(f"{who} {event} {frame.f_code.co_name} {at}")
                return tracer
            return None

        def profiler(frame, event, arg):
            if event == "call" and frame.f_code.co_name == "step":
                seen.append("profiled step")

        def step(i):
            return i * 2

        go = threading.Event()

        def worker():
            total = step(1)
            go.wait()
            total += step(2)
            seen.append(f"total {total}")

        threading.settrace(tracer)
        threading.setprofile(profiler)
        t = threading.Thread(target=worker, name="w")
        t.start()
        while len(seen) < 6:
            pass
        teleporter.teleport()
        go.set()
        t.join()
        print(*seen[-8:], sep=" | ")
        """,
        [
            "w line worker 3 | w call step 0 | profiled step | w line step 1 | "
            "w return step 1 | w line worker 4 | total 6 | w return worker 4"
        ],
        False,  # the fork-based reference runs the calling thread only
    ),
    "tracing_monitoring": (
        """
        import sys
        import teleporter

        E = sys.monitoring.events
        TOOL = 3
        calls, lines = [], []
        sys.monitoring.use_tool_id(TOOL, "counter")

        def on_start(code, offset):
            if code.co_name == "work":
                calls.append(code.co_name)

        def on_line(code, line):
            lines.append(line - main.__code__.co_firstlineno)

        sys.monitoring.register_callback(TOOL, E.PY_START, on_start)
        sys.monitoring.register_callback(TOOL, E.LINE, on_line)
        sys.monitoring.set_events(TOOL, E.PY_START)

        def work():
            return 1

        def main():
            sys.monitoring.set_local_events(TOOL, main.__code__, E.LINE)
            work()
            teleporter.teleport()
            work()
            work()
            print(len(calls), sys.monitoring.get_tool(TOOL), lines)

        main()
        """,
        ["3 counter [2, 3, 4, 5, 6]"],
        True,
    ),
    "hooks": (
        """
        import functools
        import sys
        import threading
        import teleporter

        class Hook:
            def __init__(self, name):
                self.name = name

            def __call__(self, *args):
                print(self.name, "hook:", type(args[0]).__name__)

        def report(label, exc_type, exc, tb):
            print(label, exc_type.__name__, exc)

        class Noisy:
            def __del__(self):
                raise RuntimeError("from __del__")

        async def numbers():
            yield 1

        # Callable objects: a function of the program would also travel as a patched
        # attribute of sys or threading.
        sys.excepthook = functools.partial(report, "uncaught:")
        sys.displayhook = Hook("display")
        sys.breakpointhook = Hook("breakpoint")
        sys.unraisablehook = Hook("unraisable")
        threading.excepthook = Hook("thread")
        sys.set_asyncgen_hooks(Hook("firstiter"), Hook("finalizer"))
        sys.set_coroutine_origin_tracking_depth(3)
        teleporter.teleport()
        sys.displayhook({"a": 1})
        breakpoint(0)
        Noisy()
        t = threading.Thread(target=lambda: 1 / 0)
        t.start()
        t.join()
        agen = numbers()
        try:
            agen.__anext__().send(None)
        except StopIteration as e:
            print("first:", e.value)
        del agen
        print("depth:", sys.get_coroutine_origin_tracking_depth())
        raise ValueError("the end")
        """,
        [
            "display hook: dict",
            "breakpoint hook: int",
            "unraisable hook: UnraisableHookArgs",
            "thread hook: _ExceptHookArgs",
            "firstiter hook: async_generator",
            "first: 1",
            "finalizer hook: async_generator",
            "depth: 3",
            "uncaught: ValueError the end",
        ],
        True,
    ),
    "gc": (
        """
        import gc
        import teleporter

        gc.disable()
        gc.set_threshold(1234, 5, 6)
        gc.set_debug(gc.DEBUG_SAVEALL)
        teleporter.teleport()
        print(gc.isenabled(), gc.get_threshold(), gc.get_debug() == gc.DEBUG_SAVEALL)
        """,
        ["False (1234, 5, 6) True"],
        True,
    ),
    "interpreter": (
        """
        import os
        import sys
        import threading
        import teleporter

        os.umask(0o077)
        sys.setswitchinterval(0.02)
        sys.set_int_max_str_digits(1000)
        sys.dont_write_bytecode = not sys.dont_write_bytecode
        flipped = sys.dont_write_bytecode
        sys.setdlopenflags(os.RTLD_NOW | os.RTLD_GLOBAL)
        threading.stack_size(4 << 20)
        teleporter.teleport()
        with open("made-after-the-move", "w"):
            pass
        print(oct(os.stat("made-after-the-move").st_mode & 0o777))
        print(sys.getswitchinterval(), sys.get_int_max_str_digits())
        print(sys.dont_write_bytecode is flipped)
        print(sys.getdlopenflags() == os.RTLD_NOW | os.RTLD_GLOBAL, threading.stack_size())
        try:
            str(10**1500)
        except ValueError:
            print("too many digits")
        """,
        ["0o600", "0.02 1000", "True", "True 4194304", "too many digits"],
        True,
    ),
    "faulthandler": (
        """
        import faulthandler
        import teleporter

        faulthandler.enable()
        teleporter.teleport()
        print("enabled:", faulthandler.is_enabled())
        """,
        ["enabled: True"],
        True,
    ),
    "locale": (
        """
        import locale
        import teleporter

        locale.setlocale(locale.LC_CTYPE, "C")  # chosen by the program: carried as is
        locale.setlocale(locale.LC_TIME, "")  # the environment's: followed there
        teleporter.teleport()
        print(locale.setlocale(locale.LC_CTYPE), locale.setlocale(locale.LC_TIME))
        """,
        ["C C.UTF-8"],
        True,
    ),
    "contextvars": (
        """
        import contextvars
        import ctxlib
        import teleporter

        teleporter.register_by_reference("ctxlib")
        ctxlib.request.set("req-42")
        ctxlib.user.set({"name": "ada"})
        teleporter.teleport()
        print(ctxlib.request.get(), ctxlib.user.get(), ctxlib.unset.get("unset"))
        print(sorted(v.name for v in contextvars.copy_context()))
        """,
        ["req-42 {'name': 'ada'} unset", "['request', 'user']"],
        True,
    ),
    "thread_contexts": (
        """
        import contextvars
        import decimal
        import threading
        import teleporter

        request = contextvars.ContextVar("request", default="unset")
        ready, go = threading.Barrier(3), threading.Event()
        lines = {}

        def worker(prec, name):
            decimal.getcontext().prec = prec
            token = request.set(name)
            ready.wait()
            go.wait()
            seen = request.get()
            request.reset(token)  # a token taken in the thread's context, before the move
            lines[name] = (name, decimal.getcontext().prec, seen,
                           decimal.Decimal(1) / decimal.Decimal(7), request.get())

        threads = [threading.Thread(target=worker, args=a) for a in [(5, "w5"), (9, "w9")]]
        for t in threads:
            t.start()
        request.set("main")
        decimal.getcontext().prec = 6
        snapshot = contextvars.copy_context()  # a copied context holds decimal's own too
        decimal.setcontext(decimal.Context())
        ready.wait()
        teleporter.teleport()
        threads[0].join(0.05)
        go.set()
        for t in threads:
            t.join()
        for name in sorted(lines):
            print(*lines[name])
        print("main", decimal.getcontext().prec, request.get())
        print("snapshot", snapshot.run(lambda: decimal.getcontext().prec))
        """,
        ["w5 5 w5 0.14286 unset", "w9 9 w9 0.142857143 unset", "main 28 main", "snapshot 6"],
        False,
    ),
    "contextvars_token_in_run": (
        """
        import contextvars
        import teleporter

        var = contextvars.ContextVar("v", default="unset")

        def inside():
            token = var.set("inside")  # taken in ctx, entered by Context.run
            teleporter.teleport()
            print("before reset", var.get())
            var.reset(token)
            print("after reset", var.get())

        ctx = contextvars.copy_context()
        ctx.run(inside)
        print("outside", var.get(), ctx.get(var))
        """,
        ["before reset inside", "after reset unset", "outside unset None"],
        True,
    ),
    "streams": (
        """
        import io
        import sys
        import teleporter

        class Shouting:
            def __init__(self, stream):
                self.stream = stream

            def write(self, text):
                return self.stream.write(text.upper())

            def flush(self):
                self.stream.flush()

        real = sys.stdout
        sys.stdout = captured = io.StringIO()
        print("captured before")
        teleporter.teleport()
        print("captured after")
        sys.stdout = Shouting(real)
        print("through the proxy")
        sys.stdout = real
        print(repr(captured.getvalue()), real is sys.__stdout__)
        """,
        ["THROUGH THE PROXY", "'captured before\\ncaptured after\\n' True"],
        True,
    ),
    "environment": (
        """
        import os
        import teleporter

        os.environ["TP_SET"] = "set by the program"
        os.environ["TP_CHANGED"] = "after"
        del os.environ["TP_REMOVED"]
        teleporter.teleport()
        print([os.environ.get(name) for name in
               ("TP_SET", "TP_CHANGED", "TP_REMOVED", "TP_INHERITED")])
        """,
        ["['set by the program', 'after', None, 'kept']"],
        True,
    ),
    "streams_wrapper": (
        """
        import io
        import sys
        import teleporter

        # The idiom for UTF-8 output whatever the locale: a text layer of the program's own.
        sys.stdout = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", line_buffering=True)
        print("before \u2713")
        teleporter.teleport()
        print("after \u2713", sys.stdout.encoding, sys.stdout.line_buffering)
        """,
        ["before \u2713", "after \u2713 utf-8 True"],
        True,
    ),
    "socket": (
        """
        import socket
        import teleporter

        socket.setdefaulttimeout(7.5)
        teleporter.teleport()
        print(socket.getdefaulttimeout(), socket.socket().gettimeout())
        """,
        ["7.5 7.5"],
        True,
    ),
    "logging_flags": (
        """
        import http.client
        import logging
        import teleporter

        class Handler(logging.Handler):
            def emit(self, record):
                print("last resort:", record.getMessage())

        logging.disable(logging.INFO)
        logging.raiseExceptions = False
        logging.logThreads = False
        logging._srcfile = None
        logging.lastResort = Handler()  # an object of the program's own class
        http.client.HTTPConnection.debuglevel = 1
        teleporter.teleport()
        print(logging.root.manager.disable, logging.raiseExceptions, logging.logThreads,
              logging._srcfile)
        logging.getLogger("x").info("disabled")
        logging.getLogger("x").warning("no handler here")
        print(http.client.HTTPConnection.debuglevel)
        """,
        ["20 False False None", "last resort: no handler here", "1"],
        True,
    ),
    "library_settings": (
        """
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import pandas as pd
        import sklearn
        import teleporter

        pd.set_option("display.max_columns", 7)
        pd.options.display.precision = 3
        plt.rcParams["figure.figsize"] = (3.0, 2.0)
        plt.style.use("ggplot")
        matplotlib.rc("lines", linewidth=4)
        sklearn.set_config(assume_finite=True, working_memory=64)
        teleporter.teleport()
        print(pd.get_option("display.max_columns"), pd.get_option("display.precision"))
        print(pd.DataFrame({"x": [1 / 3]}))
        print(list(plt.rcParams["figure.figsize"]), plt.rcParams["axes.facecolor"],
              plt.rcParams["lines.linewidth"], matplotlib.get_backend())
        fig, ax = plt.subplots()
        print(fig.get_size_inches().tolist(), ax.plot([0, 1])[0].get_linewidth())
        config = sklearn.get_config()
        print(config["assume_finite"], config["working_memory"])
        """,
        [
            "7 3",
            "0  0.333",
            "[3.0, 2.0] #E5E5E5 4.0 Agg",
            "[3.0, 2.0] 4.0",
            "True 64",
        ],
        True,
    ),
    "ssl": (
        """
        import ssl
        import teleporter

        ssl._create_default_https_context = ssl._create_unverified_context
        teleporter.teleport()
        print(ssl._create_default_https_context is ssl._create_unverified_context)
        """,
        ["True"],
        True,
    ),
    "copyreg": (
        """
        import copyreg
        import pickle
        import teleporter

        class Point:
            def __init__(self, x):
                self.x = x

        def rebuild(x):
            print("rebuilt by the program's reducer")
            return Point(x)

        copyreg.pickle(Point, lambda p: (rebuild, (p.x,)))
        teleporter.teleport()
        print(pickle.loads(pickle.dumps(Point(3))).x)
        """,
        ["rebuilt by the program's reducer", "3"],
        True,
    ),
    "import_system": (
        """
        import sys
        from importlib.util import spec_from_loader
        import teleporter

        class Virtual:  # a finder and loader of modules that exist nowhere
            def find_spec(self, name, path=None, target=None):
                if name.startswith("virtual_"):
                    return spec_from_loader(name, self)
                return None

            def create_module(self, spec):
                return None

            def exec_module(self, module):
                module.answer = len(module.__name__)

        def refuse(path):
            if path == "/no/such/entry":
                print("path hook asked")
            raise ImportError

        sys.meta_path.insert(0, Virtual())
        sys.path_hooks.insert(0, refuse)
        teleporter.teleport()
        import virtual_abc
        print(virtual_abc.answer, type(sys.meta_path[0]).__name__, sys.path_hooks[0] is refuse)
        sys.path.append("/no/such/entry")
        try:
            import not_there_at_all
        except ImportError:
            print("not found")
        """,
        ["11 Virtual True", "path hook asked", "not found"],
        True,
    ),
    "builtins": (
        """
        import builtins
        import gettext
        import teleporter

        gettext.install("app")  # builtins._
        builtins.SETTING = {"level": 3}
        builtins.print_twice = lambda *a: [print(*a) for _ in range(2)]
        teleporter.teleport()
        print(_("untranslated"), SETTING)
        print_twice("twice")
        """,
        ["untranslated {'level': 3}", "twice"],
        True,
    ),
    "gettext": (
        """
        import gettext
        import teleporter

        gettext.textdomain("myapp")
        gettext.bindtextdomain("myapp", "/opt/locale")
        teleporter.teleport()
        print(gettext.textdomain(), gettext.bindtextdomain("myapp"))
        """,
        ["myapp /opt/locale"],
        True,
    ),
    "csv": (
        """
        import csv
        import io
        import teleporter

        csv.register_dialect("pipes", delimiter="|", quoting=csv.QUOTE_ALL)
        csv.field_size_limit(10)
        teleporter.teleport()
        out = io.StringIO()
        csv.writer(out, "pipes").writerow(["a", 1])
        print(out.getvalue().strip(), csv.field_size_limit())
        """,
        ['"a"|"1" 10'],
        True,
    ),
    "calendar": (
        """
        import calendar
        import teleporter

        calendar.setfirstweekday(calendar.SUNDAY)
        teleporter.teleport()
        print(calendar.month(2024, 2).splitlines()[1])
        """,
        ["Su Mo Tu We Th Fr Sa"],
        True,
    ),
    "reprlib": (
        """
        import reprlib
        import teleporter

        reprlib.aRepr.maxlist = 2
        teleporter.teleport()
        print(reprlib.repr(list(range(10))))
        """,
        ["[0, 1, ...]"],
        True,
    ),
    "mimetypes": (
        """
        import mimetypes
        import teleporter

        mimetypes.add_type("application/x-teleport", ".tlp")
        teleporter.teleport()
        print(mimetypes.guess_type("state.tlp")[0])
        print(mimetypes.guess_extension("application/x-teleport"))
        """,
        ["application/x-teleport", ".tlp"],
        True,
    ),
    "etree": (
        """
        import xml.etree.ElementTree as ET
        import teleporter

        ET.register_namespace("tp", "urn:teleporter")
        teleporter.teleport()
        print(ET.tostring(ET.Element("{urn:teleporter}state")).decode())
        """,
        ['<tp:state xmlns:tp="urn:teleporter" />'],
        True,
    ),
    "sqlite3": (
        """
        import sqlite3
        import teleporter

        class Point:
            def __init__(self, x, y):
                self.x, self.y = x, y

        sqlite3.register_adapter(Point, lambda p: f"{p.x};{p.y}")
        sqlite3.register_converter("point", lambda b: Point(*map(int, b.split(b";"))))
        teleporter.teleport()
        db = sqlite3.connect(":memory:", detect_types=sqlite3.PARSE_DECLTYPES)
        db.execute("create table t (p point)")
        db.execute("insert into t values (?)", (Point(4, 5),))
        p = db.execute("select p from t").fetchone()[0]
        print(type(p).__name__, p.x, p.y)
        """,
        ["Point 4 5"],
        True,
    ),
    "multiprocessing": (
        """
        import multiprocessing
        import teleporter

        multiprocessing.set_start_method("spawn")
        teleporter.teleport()
        print(multiprocessing.get_start_method(allow_none=True))
        """,
        ["spawn"],
        True,
    ),
    "asyncio": (
        """
        import asyncio
        import warnings
        import teleporter

        # policies are deprecated from 3.14 on (removed in 3.16), and still state
        warnings.simplefilter("ignore", DeprecationWarning)

        class Policy(asyncio.DefaultEventLoopPolicy):
            pass

        asyncio.set_event_loop_policy(Policy())
        teleporter.teleport()
        print(type(asyncio.get_event_loop_policy()).__name__)
        """,
        ["Policy"],
        True,
    ),
    "finalize": (
        """
        import os
        import tempfile
        import weakref
        import teleporter

        class Resource:
            pass

        scratch = tempfile.TemporaryDirectory(dir=".")  # removed by its finalizer

        def release(name, how=""):
            print("released", name, how)

        kept = Resource()
        weakref.finalize(kept, release, "kept", how="at exit")
        dropped = Resource()
        f = weakref.finalize(dropped, release, "dropped")
        teleporter.teleport()
        print("alive:", f.alive)
        del dropped
        print("alive:", f.alive)
        name = scratch.name
        scratch.cleanup()
        print("scratch removed:", not os.path.exists(name))
        """,
        [
            "alive: True",
            "released dropped ",
            "alive: False",
            "scratch removed: True",
            "released kept at exit",
        ],
        True,
    ),
    "resource": (
        """
        import resource
        import teleporter

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(200, hard), hard))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        teleporter.teleport()
        print(resource.getrlimit(resource.RLIMIT_NOFILE)[0])
        print(resource.getrlimit(resource.RLIMIT_CORE))
        """,
        ["200", "(0, 0)"],
        True,
    ),
}

# Environment of a program's runs (None removes a variable).
ENV = {
    "locale": {"LANG": "C.UTF-8", "LC_ALL": None, "LC_CTYPE": None, "LC_TIME": None},
    # Given to the program's run and to the run that resumes its checkpoint alike.
    "streams_wrapper": {"PYTHONIOENCODING": "ascii"},
    "environment": {"TP_INHERITED": "kept", "TP_CHANGED": "before", "TP_REMOVED": "there"},
}

# Modules beside the programs.
FILES = {
    "ctxlib.py": """
        import contextvars

        request = contextvars.ContextVar("request")
        user = contextvars.ContextVar("user", default=None)
        unset = contextvars.ContextVar("unset")
    """,
}

_MONITORING = sys.version_info >= (3, 12)


def _source(name):
    return textwrap.dedent(PROGRAMS[name][0]).lstrip()


def _run_source(tmp_path, name, text, mode, resume=True):
    for file, content in FILES.items():
        (tmp_path / file).write_text(textwrap.dedent(content).lstrip())
    path = tmp_path / f"program_{name}.py"  # never a module's name (calendar.py)
    env = {"TELEPORTER_CKPT": str(tmp_path / "run.ckpt"), **ENV.get(name, {})}
    return run_moved(path, text, mode, env, tmp_path, resume)


def _clean(tmp_path):
    for p in tmp_path.iterdir():
        if p.is_file():
            p.unlink()


# sys.monitoring is new in CPython 3.12: its program exists only where the interpreter has it.
_NAMES = sorted(n for n in PROGRAMS if _MONITORING or n != "tracing_monitoring")


@pytest.mark.parametrize("mode", ["teleport", "checkpoint"])
@pytest.mark.parametrize("name", _NAMES)
def test_state_moves_like_the_reference(tmp_path, name, mode):
    source, expected, compare = PROGRAMS[name]
    text = _source(name)
    moved = _run_source(tmp_path, name, text, mode)
    out = moved.stdout.decode().splitlines()
    if compare:
        _clean(tmp_path)
        ref = _run_source(tmp_path, name, text, "reference")
        assert moved.stderr.decode() == ref.stderr.decode()
        assert moved.stdout.decode() == ref.stdout.decode()
        assert moved.returncode == ref.returncode
    else:
        assert moved.returncode == 0 and moved.stderr == b"", moved.stderr.decode()
    for line in expected:
        assert line in out, (line, moved.stdout.decode(), moved.stderr.decode())


# name -> (source, the refusal's line). The program keeps running after the refusal.
REFUSED = {
    "atexit_callback": (
        """
        import atexit
        import socket
        import teleporter

        sock = socket.socket()
        atexit.register(sock.close)
        try:
            teleporter.teleport()
        except teleporter.TeleportError as e:
            print(str(e).split(" (")[0])
        """,
        "cannot teleport: the atexit callback `socket.socket.close`",
    ),
    "signal_handler": (
        """
        import signal
        import socket
        import teleporter

        class Closer:
            def __init__(self):
                self.sock = socket.socket()

            def __call__(self, signum, frame):
                self.sock.close()

        signal.signal(signal.SIGUSR1, Closer())
        try:
            teleporter.teleport()
        except teleporter.TeleportError as e:
            print(str(e).split(" (")[0])
        """,
        "cannot teleport: the handler of SIGUSR1",
    ),
    "frame_trace": (
        """
        import socket
        import sys
        import teleporter

        class Debugger:
            def __init__(self):
                self.sock = socket.socket()

            def trace(self, frame, event, arg):
                return self.trace

        def tracer(frame, event, arg):
            return None

        def main():
            sys._getframe().f_trace = Debugger().trace
            try:
                teleporter.teleport()
            except teleporter.TeleportError as e:
                sys.settrace(None)
                print(str(e).split(" (")[0])

        sys.settrace(tracer)
        main()
        """,
        "cannot teleport: the trace function of the frame of `main`",
    ),
    "trace_function": (
        """
        import socket
        import sys
        import teleporter

        class Tracer:
            def __init__(self):
                self.sock = socket.socket()

            def __call__(self, frame, event, arg):
                return None

        sys.settrace(Tracer())
        try:
            teleporter.teleport()
        except teleporter.TeleportError as e:
            sys.settrace(None)
            print(str(e).split(" (")[0])
        """,
        "cannot teleport: the trace function",
    ),
}


@pytest.mark.parametrize("mode", ["teleport", "checkpoint"])
@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_by_name(tmp_path, name, mode):
    source, line = REFUSED[name]
    r = _run_source(tmp_path, name, textwrap.dedent(source).lstrip(), mode, resume=False)
    out = r.stdout.decode().splitlines()
    assert r.returncode == 0, r.stderr.decode()
    # Worded for the operation refused.
    line = line.replace("cannot teleport", f"cannot {mode}", 1)
    assert out and out[0] == line, r.stdout.decode() + r.stderr.decode()


# A ContextVar of the program's own: moves once the serializer reduces ContextVar objects
# (``_process_state.reduce_context_var``), refused by name until then.
PROGRAM_CONTEXT_VAR = """
import contextvars
import teleporter

request = contextvars.ContextVar("request", default="none")
request.set("req-7")
try:
    teleporter.teleport()
except teleporter.TeleportError as e:
    print("refused:", e)
else:
    print(request.get(), contextvars.copy_context()[request])
"""


@pytest.mark.parametrize("mode", ["teleport", "checkpoint"])
def test_a_program_context_variable(tmp_path, mode):
    r = _run_source(tmp_path, "program_var", PROGRAM_CONTEXT_VAR, mode, resume=False)
    assert r.returncode == 0, r.stderr.decode()
    out = r.stdout.decode().splitlines()
    if out and out[-1].startswith("refused: "):
        assert out[-1].startswith("refused: cannot teleport: ") and "request" in out[-1], out
        return
    if mode == "checkpoint":
        r = _run_source(tmp_path, "program_var", PROGRAM_CONTEXT_VAR, mode)
        out = r.stdout.decode().splitlines()
    assert out[-1] == "req-7 req-7", (out, r.stderr.decode())


# Capturing reads the settings without changing them: a program that checkpoints and
# carries on behaves as if it had not.
ORIGIN_UNCHANGED = """
import atexit
import decimal
import gc
import logging
import os
import signal
import sys
import teleporter

calls = []
if hasattr(sys, "monitoring"):
    E = sys.monitoring.events
    sys.monitoring.use_tool_id(4, "probe")
    sys.monitoring.register_callback(
        4, E.PY_START, lambda code, offset: calls.append(code.co_name)
        if code.co_name == "work" else None
    )
    sys.monitoring.set_events(4, E.PY_START)
os.umask(0o027)
signal.signal(signal.SIGUSR1, lambda s, f: print("usr1"))
signal.setitimer(signal.ITIMER_VIRTUAL, 50.0)

def work():
    return 1

gc.disable()
print(CAPTURE)
collector_off = not gc.isenabled()
gc.enable()
print(CAPTURE)
work()
os.kill(os.getpid(), signal.SIGUSR1)
print(calls, atexit._ncallbacks(), oct(os.umask(0o22)), decimal.getcontext().prec)
print("collector", collector_off, gc.isenabled())
print(45 < signal.getitimer(signal.ITIMER_VIRTUAL)[0] <= 50.1)
"""


def test_capture_leaves_the_origin_as_it_was(tmp_path):
    checkpoint = f"teleporter.checkpoint({str(tmp_path / 'run.ckpt')!r})"
    runs = []
    for capture in (checkpoint, "False"):
        path = tmp_path / "origin.py"
        path.write_text(ORIGIN_UNCHANGED.replace("CAPTURE", capture))
        r = run_program(path, cwd=tmp_path)
        assert r.returncode == 0 and r.stderr == b"", r.stderr.decode()
        runs.append(r.stdout.decode())
    assert runs[0] == runs[1]
    assert runs[0].splitlines()[:2] == ["False", "False"]
    assert runs[0].splitlines()[-2:] == ["collector True True", "True"]


# Through a launcher the program is rebuilt in a copy forked by a supervisor process.
THROUGH_A_LAUNCHER = """
import decimal
import os
import signal
import teleporter

signal.signal(signal.SIGUSR1, lambda s, f: print("usr1 handled"))
signal.signal(signal.SIGUSR2, signal.SIG_IGN)
decimal.getcontext().prec = 4
os.umask(0o077)
teleporter.teleport("sh", "-c")
os.kill(os.getpid(), signal.SIGUSR1)
os.kill(os.getpid(), signal.SIGUSR2)
print(decimal.Decimal(1) / decimal.Decimal(3), oct(os.umask(0o022)))
"""


def test_through_a_launcher(tmp_path):
    outs = []
    for reference in (True, False):
        r = _run_source(tmp_path, "launcher", THROUGH_A_LAUNCHER, "reference" if reference else "")
        assert r.returncode == 0 and r.stderr == b"", r.stderr.decode()
        outs.append(r.stdout.decode())
    assert outs[0] == outs[1] == "usr1 handled\n0.3333 0o77\n"
