"""Programs with threads, moved while every thread is at work: by teleport(), through a
checkpoint resumed later, into n copies by fork(), and over ssh. os.fork() copies only the
calling thread, so the reference here is the same program not moved (its move replaced by
nothing): output and exit code must be identical."""

import ast
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import run_moved, run_program

THREADS = Path(__file__).parent / "threads"
PROGRAMS = sorted(p.stem for p in THREADS.glob("*.py"))

# What each program must print (so that the reference and the move cannot both be wrong).
EXPECT = {
    "workers": [
        "main thread kept: True",
        "same Thread objects: True",
        "idents are this process's: True",
        "names and flags: True",
        "results: [('spun', True), ('ticked', True), ('total', 780)]",
        "alive after join: [False, False, False, False]",
    ],
    "blocked": [
        "rlock owned by another thread: True",
        "all ended: True",
        "rlock free again: True",
        "[\"('barrier', True)\", \"('cond', True)\", \"('event', True)\", "
        "\"('lock (True, 3.0)', False, True)\", \"('lock timeout=', False, True)\", "
        "\"('rlock held twice', True)\", \"('simple timeout=', 'empty', True)\", "
        "\"('simple', 'item')\", \"('slept the time left', True)\", 'go', 'joined', "
        "'lock', 'sem']",
    ],
    "rich_live": [
        "refresh thread moved: True True",
        "it draws after the move: True",
        "printed into the display: True",
        "completed: 10 True",
        "last frame: work ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ 100% 0:00:00",
    ],
    "queue_listener": [
        "listener thread ended: True",
        "['INFO before the move 0', 'INFO before the move 1', 'INFO before the move 2', "
        "'INFO after the move 0', 'INFO after the move 1', 'INFO after the move 2']",
    ],
    "with_locks": ["{'lock': 2000, 'rlock': 2000, 'both': 2000}"],
    "released_while_read": ["waiter ended: True ['got the lock'] lock held: True"],
    "locals": [
        "main: main 5",
        "threads: [('alpha', ('alpha', 5)), ('beta', ('beta', 4))]",
        "a new thread: [(None, 0)]",
    ],
    "native_driven": [
        "finished before the move: 0",
        "[('maps', 132487152), ('sorts', 382575), ('sums', 144530818)]",
    ],
    "waiting_on_futures": [
        "main native_id: True",
        "got: first second",
        "[\"('as_completed', [1, 2, 3])\", \"('first completed', True)\", "
        "\"('native_id', True)\", \"('raw', 'started with _thread', True)\", "
        "\"('result timeout=', 2)\", \"('result', 1)\", \"('wait', 3, 0)\", 'put']",
    ],
    "from_a_worker": [
        "main: main True True",
        "lock free: True 1",
        "[('handled', \"KeyError('handled')\"), ('ident', True), ('local', 'mover'), "
        "('native_id', True), ('owned', True), ('same thread', True), ('ticked', True)]",
    ],
    "pool": [
        "first five: 5 0",
        "in order: [(22, 1319997), (23, 1379995), (24, 1439994)]",
        "as completed: True",
        "workers gone: ['MainThread']",
    ],
}


def test_every_program_has_expectations():
    assert PROGRAMS == sorted(EXPECT)


def _reference(tmp_path, name):
    text = (THREADS / f"{name}.py").read_text().replace("teleporter.teleport()", "None")
    return run_moved(tmp_path / f"{name}_ref.py", text, "teleport", {}, THREADS)


@pytest.mark.parametrize("mode", ["teleport", "checkpoint"])
@pytest.mark.parametrize("name", PROGRAMS)
def test_threads_move(tmp_path, name, mode):
    text = (THREADS / f"{name}.py").read_text()
    env = {"TELEPORTER_CKPT": str(tmp_path / "ckpt")}
    moved = run_moved(tmp_path / f"{name}.py", text, mode, env, THREADS)
    ref = _reference(tmp_path, name)
    assert moved.stderr.decode() == ref.stderr.decode() == ""
    assert moved.stdout.decode() == ref.stdout.decode()
    assert moved.returncode == ref.returncode == 0
    for line in EXPECT[name]:
        assert line in moved.stdout.decode().splitlines()


@pytest.mark.parametrize("name", PROGRAMS)
def test_threads_fork(tmp_path, name):
    """Two copies, each with every thread, each to the same end."""
    text = (THREADS / f"{name}.py").read_text()
    text = text.replace("teleporter.teleport()", "COPY = teleporter.fork(2)")
    text = re.sub(r"^(\s*)print\((.*)\)$", r"\1print(COPY, \2)", text, flags=re.M)
    path = tmp_path / f"{name}.py"
    path.write_text(text)
    # Each copy's output in one piece (buffered to its end): two copies share the pipe.
    r = run_program(path, cwd=THREADS, env={"PYTHONUNBUFFERED": None})
    assert r.returncode == 0 and r.stderr == b"", r.stderr.decode()
    ref = _reference(tmp_path, name).stdout.decode().splitlines()
    out = sorted(r.stdout.decode().splitlines())
    assert out == sorted(f"{i} {line}" for i in range(2) for line in ref)


@pytest.mark.parametrize("name", PROGRAMS)
def test_threads_over_ssh(tmp_path, name, sshd):
    text = (THREADS / f"{name}.py").read_text()
    way = " ".join(sshd.command())
    text = text.replace("teleporter.teleport()", f"teleporter.teleport(*{way.split()!r})")
    moved = run_moved(tmp_path / f"{name}.py", text, "teleport", {}, THREADS)
    ref = _reference(tmp_path, name)
    assert moved.stderr.decode() == ref.stderr.decode() == ""
    assert moved.stdout.decode() == ref.stdout.decode()
    assert moved.returncode == 0


FROM_A_WORKER = """
import os, sys, threading, teleporter

path = sys.argv[1]
stop = threading.Event()
out = {}
local = threading.local()
lock = threading.RLock()


def tick():
    n = 0
    while not stop.wait(0.001):
        n += 1
    out["ticked"] = n > 0


def save(k):
    local.value = f"saver {k}"
    for step in range(2):
        with lock:  # held across the move
            try:
                raise KeyError(k + step)
            except KeyError:
                resumed = teleporter.checkpoint(path)
                handled = repr(sys.exc_info()[1])
            owned = lock._is_owned()
        print(step, resumed, handled, owned, flush=True)
        if not resumed:  # this run ends here; the checkpoint goes on
            os._exit(0)
    out["local"] = local.value
    out["same thread"] = threading.current_thread() is saver and saver.name
    out["ident"] = threading.get_ident() == saver.ident
    out["native_id"] = threading.get_native_id() == saver.native_id
    out["lock free"] = lock.acquire(blocking=False)


local.value = "main"
ticker = threading.Thread(target=tick, name="ticker", daemon=True)
ticker.start()
saver = threading.Thread(target=save, args=(7,), name="saver")
saver.start()
spins = 0
while saver.is_alive():  # the main thread at work: parked at a line
    spins += 1
saver.join()
stop.set()
ticker.join()
print("main:", local.value, threading.current_thread() is threading.main_thread(), spins > 0)
print(sorted(out.items()))
"""


def test_checkpoint_from_a_worker(tmp_path):
    """checkpoint() called by a worker thread saves the whole program (the main thread
    parked at work, a ticker, the worker itself), and returns True in that worker where
    it is resumed, holding its RLock and handling its exception; twice, the second time
    from a resumed worker."""
    path = tmp_path / "from_worker.py"
    path.write_text(FROM_A_WORKER)
    ckpt = str(tmp_path / "w.ckpt")
    runs = [run_program(path, ckpt)]
    for _ in range(2):
        runs.append(
            subprocess.run(
                [sys.executable, "-m", "teleporter", "resume", ckpt],
                capture_output=True,
                timeout=120,
            )
        )
    for r in runs:
        assert r.returncode == 0 and r.stderr == b"", r.stderr.decode()
    assert [r.stdout.decode().splitlines() for r in runs] == [
        ["0 False KeyError(7) True"],
        ["0 True KeyError(7) True", "1 False KeyError(8) True"],
        [
            "1 True KeyError(8) True",
            "main: main True True",
            "[('ident', True), ('local', 'saver 7'), ('lock free', True), "
            "('native_id', True), ('same thread', 'saver'), ('ticked', True)]",
        ],
    ]


def test_checkpoint_after_the_main_code_ended(tmp_path):
    """A thread that outlives the program's main code (the interpreter waits for it) cannot
    save the program: refused in words that say why, and the thread goes on."""
    path = tmp_path / "late.py"
    path.write_text(
        "import sys, threading, time, teleporter\n"
        "def work():\n"
        "    time.sleep(0.2)\n"
        "    try:\n"
        "        teleporter.checkpoint(sys.argv[1])\n"
        "    except teleporter.TeleportError as e:\n"
        "        print('refused:', e)\n"
        "    print('thread done')\n"
        "threading.Thread(target=work).start()\n"
        "print('main done')\n"
    )
    r = run_program(path, str(tmp_path / "late.ckpt"))
    assert (r.returncode, r.stderr) == (0, b""), r.stderr.decode()
    assert r.stdout.decode().splitlines() == [
        "main done",
        "refused: cannot checkpoint: the main thread has finished the program's main code and "
        "waits for its other threads to end; the program can move only while its main code "
        "runs",
        "thread done",
    ]


DEADLINES = """
import concurrent.futures, os, queue, sys, threading, time, teleporter

out = {}
resumed = [None]
full = queue.Queue(maxsize=1)
full.put("x")
sem = threading.Semaphore(0)
cond = threading.Condition()
never = concurrent.futures.Future()
done = concurrent.futures.Future()
done.set_result(1)
ready = threading.Barrier(7)


def waited(name):
    out[name] = round(time.time() - resumed[0], 1) if resumed[0] else "before the move"


def get():
    ready.wait()
    try:
        queue.Queue().get(timeout=3)
    except queue.Empty:
        waited("Queue.get")


def put():
    ready.wait()
    try:
        full.put("y", timeout=3)
    except queue.Full:
        waited("Queue.put")


def acquire():
    ready.wait()
    sem.acquire(timeout=3)
    waited("Semaphore.acquire")


def wait_for():
    ready.wait()
    with cond:
        cond.wait_for(lambda: False, timeout=3)
    waited("Condition.wait_for")


def completed():
    ready.wait()
    try:
        for _ in concurrent.futures.as_completed([never], timeout=3):
            pass
    except TimeoutError:
        waited("as_completed")


def suspended():
    try:
        for _ in concurrent.futures.as_completed([done, never], timeout=3):
            ready.wait()  # the generator waits, suspended, for the next one
            time.sleep(1.5)
    except TimeoutError:
        waited("as_completed, suspended")


funcs = (get, put, acquire, wait_for, completed, suspended)
threads = [threading.Thread(target=f) for f in funcs]
for t in threads:
    t.start()
ready.wait()
time.sleep(1)
if not teleporter.checkpoint(sys.argv[1]):
    os._exit(0)
resumed[0] = time.time()
for t in threads:
    t.join()
print(sorted(out.items()))
"""


def test_deadlines_travel_as_the_time_they_had_left(tmp_path):
    """The standard library's waits with a timeout keep a time.monotonic() deadline in a
    local (Queue.get/put, Semaphore.acquire, Condition.wait_for, as_completed, running or
    suspended). A monotonic clock is the machine's own: resumed where it reads otherwise
    (another machine, a reboot: here a time namespace whose clock is behind), each wait
    goes on for the time it had left, neither forever nor not at all."""
    if os.geteuid() != 0:
        pytest.fail("a time namespace needs root (the test command runs as root)")
    path = tmp_path / "deadlines.py"
    path.write_text(DEADLINES)
    ckpt = str(tmp_path / "d.ckpt")
    first = run_program(path, ckpt)
    assert (first.returncode, first.stderr, first.stdout) == (0, b"", b""), first.stderr
    behind = 60 - int(time.monotonic())  # its clock reads about 60 s
    r = subprocess.run(
        ["unshare", "--time", "--monotonic", str(behind)]
        + [sys.executable, "-m", "teleporter", "resume", ckpt],
        capture_output=True,
        timeout=60,
    )
    assert (r.returncode, r.stderr) == (0, b""), r.stderr.decode()
    waited = dict(ast.literal_eval(r.stdout.decode()))
    names = ["Condition.wait_for", "Queue.get", "Queue.put", "Semaphore.acquire"]
    assert sorted(waited) == sorted([*names, "as_completed", "as_completed, suspended"])
    for name, seconds in waited.items():  # 3 s, of which 1 s passed before the checkpoint
        assert 1.5 <= seconds <= 2.6, (name, seconds)


FROM_A_RAW_THREAD = """
import _thread, os, sys, threading, teleporter
done = threading.Event()
out = []
def raw(tag):
    pid = os.getpid()
    r = teleporter.checkpoint(sys.argv[1]) if sys.argv[1] != "-" else teleporter.teleport()
    out.append((tag, r, os.getpid() != pid))
    done.set()
_thread.start_new_thread(raw, ("raw",))
done.wait()
print(out, threading.active_count())
"""


def test_a_move_from_a_thread_started_with__thread(tmp_path):
    """A thread with no Thread object moves the program too: the call returns in it."""
    path = tmp_path / "raw.py"
    path.write_text(FROM_A_RAW_THREAD)
    ckpt = str(tmp_path / "raw.ckpt")
    runs = [
        run_program(path, "-"),
        run_program(path, ckpt),
        subprocess.run(
            [sys.executable, "-m", "teleporter", "resume", ckpt], capture_output=True, timeout=60
        ),
    ]
    for r in runs:
        assert (r.returncode, r.stderr) == (0, b""), r.stderr.decode()
    assert [r.stdout.decode() for r in runs] == [
        "[('raw', None, True)] 1\n",
        "[('raw', False, False)] 1\n",
        "[('raw', True, True)] 1\n",
    ]


ONE_AT_A_TIME = """
import os, sys, threading, teleporter
inside, done = threading.Event(), threading.Event()
said = []
class Env(dict):
    def items(self):  # runs inside teleport(), before the capture
        inside.set()
        done.wait()
        return super().items()
def other():
    inside.wait()
    for call in (lambda: teleporter.checkpoint(sys.argv[1]), teleporter.teleport):
        try:
            call()
        except teleporter.TeleportError as e:
            said.append(str(e))
    done.set()
t = threading.Thread(target=other)
t.start()
pid = os.getpid()
teleporter.teleport(env=Env(HELLO="1"))
t.join()
print(*said, sep="\\n")
print("moved:", os.getpid() != pid, os.environ["HELLO"], os.path.exists(sys.argv[1]))
"""


def test_one_move_at_a_time(tmp_path):
    """A checkpoint or a move asked for by another thread while one is under way is
    refused in words that say so; the first goes on."""
    path = tmp_path / "two.py"
    path.write_text(ONE_AT_A_TIME)
    r = run_program(path, str(tmp_path / "no.ckpt"))
    assert (r.returncode, r.stderr) == (0, b""), r.stderr.decode()
    assert r.stdout.decode().splitlines() == [
        f"cannot {call}: another call is moving or checkpointing the program at this moment; "
        "the program keeps running"
        for call in ("checkpoint", "teleport")
    ] + ["moved: True 1 False"]
