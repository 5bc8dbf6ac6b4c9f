"""asyncio programs move with their running event loop and every task: ``await
teleporter.ateleport()`` locally and over ssh, ``acheckpoint()`` resumed by ``python -m
teleporter resume``, ``afork()``, with asyncio's C tasks and with its pure-Python ones.
Each run is a real subprocess compared with the same program not moved (the fork-based
stand-in), and what cannot travel is refused by name while the program keeps running."""

import os
import sys

import pytest
from conftest import HERE, run_program

PROGRAM = HERE / "event_loop" / "moved_loop.py"

# Lines that the reference and the moved run must both print (so that both cannot be
# wrong together): every kind of waiting task went on after the move, in order.
EXPECTED = [
    "moved: True",
    "loop time goes on: True True",
    "same tasks: True",
    "current: main main",
    "done: quick KeyError('failed before the move') True",
    "event woke w0 w0 waiter0",
    "event woke w1 w1 waiter1",
    "notified n1",
    "lock held by second",
    "semaphore held by s2",
    "async for: [0, 1, 4, 9, 16]",
    "gathered: ['quick', 'slow'] shielded",
    "group: ['child 2 failed after the move']",
    "consumer got [0, 1, 2, 3]",
    "timeout expired; at least its delay: True",
    "timer: ['timer']",
    "end",
]


def _check(moved, reference, names=True):
    """`names`: the running task is known by name (CPython 3.14+ gives no current task for
    asyncio's pure-Python tasks)."""
    assert reference.returncode == 0, reference.stderr.decode()
    out = reference.stdout.decode().splitlines()
    for line in EXPECTED:
        if names or not line.startswith(("current:", "event woke", "group:", "timeout")):
            assert line in out, (line, out)
    assert moved.stderr.decode() == reference.stderr.decode()
    assert moved.stdout.decode() == reference.stdout.decode()
    assert moved.returncode == 0


@pytest.mark.parametrize("impl", ["c", "python"])
def test_the_loop_moves_with_every_waiting_task(impl):
    env = {"ASYNC_MOVE": "teleport", "ASYNC_IMPL": impl}
    reference = run_program(PROGRAM, reference=True, env=env)
    moved = run_program(PROGRAM, env=env)
    _check(moved, reference, names=impl == "c" or sys.version_info < (3, 14))


HAND_EXPECTED = [
    "executor before: 49",
    "as_completed first: first",
    "barrier waiting: 3",
    "moved: True",
    "debug: True",
    "as_completed next: gate0",
    "as_completed next: gate1",
    "as_completed next: gate2",
    "barrier crossed: [('b0', True), ('b1', True), ('b2', True)]",
    "wait: ['w'] 0",
    "wait_for: in time",
    "wait_for expired",
    "executor after: 64",
    "main done",
    "second move from a moved process",
    "ticks went on: True",
    "task done: True",
    "end",
]


@pytest.mark.parametrize("impl", ["c", "python"])
def test_a_loop_run_by_hand_moves_twice_with_as_completed_barrier_and_wait_for(impl):
    """loop.run_until_complete() then run_forever(), no asyncio.run: as_completed() half
    consumed, a Barrier, wait_for() expiring and finishing after the move, asyncio.wait(),
    the default executor, the exception handler and the debug flag; moved again from the
    moved process while the loop runs forever."""
    program = HERE / "event_loop" / "started_by_hand.py"
    env = {"ASYNC_MOVE": "teleport", "ASYNC_IMPL": impl}
    reference = run_program(program, reference=True, env=env)
    moved = run_program(program, env=env)
    assert reference.returncode == 0, reference.stderr.decode()
    lines = reference.stdout.decode().splitlines()
    expected = HAND_EXPECTED
    if impl == "python" and sys.version_info >= (3, 14):  # no current task: no wait_for
        expected = [line for line in expected if not line.startswith("wait_for")]
    assert [line for line in lines if not line.startswith("exception handler")] == expected
    handled = [line for line in lines if line.startswith("exception handler")]
    assert handled == [
        f"exception handler: ['Exception in callback main.<locals>.<lambda>() at {program}:96']"
    ]
    assert moved.stdout == reference.stdout
    assert moved.stderr == reference.stderr
    assert moved.returncode == 0


def test_a_checkpoint_of_the_loop_resumes_in_another_process(tmp_path):
    import subprocess
    import sys

    ckpt = tmp_path / "loop.ckpt"
    env = {"ASYNC_MOVE": "checkpoint", "TELEPORTER_CKPT": str(ckpt)}
    first = run_program(PROGRAM, env=env)
    assert first.returncode == 0 and first.stderr == b"", first.stderr.decode()
    assert ckpt.exists()
    second = subprocess.run(
        [sys.executable, "-m", "teleporter", "resume", str(ckpt)],
        capture_output=True,
        timeout=120,
    )
    reference = run_program(PROGRAM, reference=True, env={"ASYNC_MOVE": "teleport"})
    assert second.returncode == 0 and second.stderr == b"", second.stderr.decode()
    # The first run goes on with the loop's other callbacks until the awaiting task
    # learns that the checkpoint was written (then it ends): its output is the start of
    # the reference, the resumed run's is the rest from the checkpoint on.
    ref, before, after = reference.stdout, first.stdout, second.stdout
    assert ref.startswith(before) and ref.endswith(after), (before, after)
    assert len(before) + len(after) >= len(ref)
    assert b"moved: True" in after and b"moved: True" not in before
    _check(subprocess.CompletedProcess(second.args, 0, ref, b""), reference)


def test_the_loop_moves_over_ssh(sshd):
    env = {"ASYNC_MOVE": "command", "ASYNC_COMMAND": "\x1f".join(sshd.command())}
    reference = run_program(PROGRAM, reference=True, env={"ASYNC_MOVE": "teleport"})
    moved = run_program(PROGRAM, env=env)
    _check(moved, reference)


AFORK = """
import asyncio, os, teleporter

async def ticker(name, ev, out):
    await ev.wait()
    out.append(name)

async def main():
    loop = asyncio.get_running_loop()
    ev = asyncio.Event()
    out = []
    tasks = [asyncio.create_task(ticker(f"t{i}", ev, out)) for i in range(3)]
    later = []
    loop.call_later(0.2, later.append, "timer")
    await asyncio.sleep(0)
    pid = os.getpid()
    index = await teleporter.afork(3)
    ev.set()
    await asyncio.gather(*tasks)
    await asyncio.sleep(0.3)
    os.write(1, f"copy {index} moved {os.getpid() != pid} {out} {later}\\n".encode())
    return index

os.write(1, f"exit {asyncio.run(main())}\\n".encode())
"""


def test_afork_gives_each_copy_its_index_and_the_whole_loop(tmp_path):
    prog = tmp_path / "afork.py"
    prog.write_text(AFORK)
    r = run_program(prog)
    assert r.returncode == 0, r.stderr.decode()
    lines = sorted(line for line in r.stdout.decode().splitlines() if line.startswith("copy"))
    assert lines == [f"copy {i} moved True ['t0', 't1', 't2'] ['timer']" for i in range(3)], (
        r.stdout.decode()
    )
    exits = sorted(line for line in r.stdout.decode().splitlines() if line.startswith("exit"))
    assert exits == ["exit 0", "exit 1", "exit 2"]


EXECUTOR = """
import asyncio, os, threading, teleporter

async def main():
    loop = asyncio.get_running_loop()
    release = threading.Event()
    running = loop.run_in_executor(None, release.wait, 60)
    await asyncio.sleep(0.05)
    pid = os.getpid()
    await teleporter.ateleport()
    release.set()
    print("moved", os.getpid() != pid, "the running call returned", await running)
    print("the executor goes on:", await loop.run_in_executor(None, sum, [1, 2]))

asyncio.run(main())
"""


def test_an_executor_call_running_at_the_move_moves_with_its_thread(tmp_path):
    """A call that the loop's default executor is running at the move goes on in its
    thread at the destination, and its future gives the awaiting task the result (a fork
    keeps no thread: no reference run here)."""
    prog = tmp_path / "executor.py"
    prog.write_text(EXECUTOR)
    r = run_program(prog)
    assert (r.returncode, r.stderr) == (0, b""), r.stderr.decode()
    assert r.stdout.decode().splitlines() == [
        "moved True the running call returned True",
        "the executor goes on: 3",
    ]


REFUSALS = """
import asyncio, os, socket, sys, types, teleporter

async def attempt(what):
    try:
        await teleporter.ateleport()
    except teleporter.TeleportError as e:
        print(what, "->", e)
    else:
        print(what, "-> moved?!")

async def serve(reader, writer):
    writer.close()

async def talker(reader):
    await reader.read(1)

@types.coroutine
def by_hand(fut):
    fut._asyncio_future_blocking = True
    yield fut  # a generator-based awaitable: yields the future itself
    return fut.result()

async def old_style(fut):
    await by_hand(fut)

class OwnLoop(asyncio.SelectorEventLoop):
    def __init__(self):
        super().__init__()

async def main():
    loop = asyncio.get_running_loop()
    # An open connection, named with the task that holds it.
    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    t = asyncio.create_task(talker(reader), name="talker")
    await asyncio.sleep(0.05)
    await attempt("connection")
    writer.close()
    t.cancel()
    await asyncio.sleep(0.05)
    # A server listening.
    await attempt("server")
    server.close()
    await server.wait_closed()
    # Its sockets, closed, are still held by the program.
    await attempt("closed server")
    del server, reader, writer
    # A descriptor the loop watches.
    r, w = os.pipe()
    loop.add_reader(r, print, "readable")
    await attempt("reader")
    loop.remove_reader(r)
    # A task that awaits a future through a generator of its own.
    fut = loop.create_future()
    t = asyncio.create_task(old_style(fut), name="old_style")
    await asyncio.sleep(0)
    await attempt("generator")
    fut.set_result(None)
    await t
    # A child process still running, with a pipe and without one.
    for pipe in (asyncio.subprocess.PIPE, None):
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "import time; time.sleep(30)", stdin=pipe)
        await attempt("subprocess")
        child.kill()
        await child.wait()
    del child
    # The synchronous call inside a coroutine.
    try:
        teleporter.teleport()
    except teleporter.TeleportError as e:
        print("sync ->", e)
    print("kept running", os.getpid() == PID)

def other():
    async def inner():
        await attempt("own loop")
    loop = OwnLoop()
    loop.run_until_complete(inner())
    loop.close()

PID = os.getpid()
asyncio.run(main())
other()
"""


def test_what_cannot_travel_is_refused_by_name_and_the_program_goes_on(tmp_path):
    prog = tmp_path / "refusals.py"
    prog.write_text(REFUSALS)
    r = run_program(prog)
    out = r.stdout.decode()
    assert r.returncode == 0, r.stderr.decode()
    lines = dict(line.split(" -> ", 1) for line in out.splitlines() if " -> " in line)
    assert "the task 'Task-1' (main, " in lines["connection"], out
    assert (
        "has an open connection (_SelectorSocketTransport, peer ('127.0.0.1'"
        in (lines["connection"])
    )
    assert "in the task 'Task-1', in `main` (" in lines["closed server"], out
    assert "local variable `reader`._transport" in lines["closed server"], out
    assert "`BaseSelectorEventLoop._accept_connection`" in lines["server"], out
    assert "watches descriptor" in lines["reader"] and "`print`" in lines["reader"], out
    assert "the task 'old_style'" in lines["generator"], out
    assert "generator-based awaitable" in lines["generator"], out
    children = [line for line in out.splitlines() if line.startswith("subprocess -> ")]
    assert len(children) == 2, out
    for line in children:
        assert "the task 'Task-1' (main, " in line, line
        assert "has a running subprocess (pid " in line, line
        assert f"{os.path.basename(sys.executable)} -c import time; time.sleep(30)`)" in line, line
    assert "use `await teleporter.ateleport()`" in lines["sync"], out
    assert "(`main`, " in lines["sync"] and "refusals.py:" in lines["sync"], out
    assert "cannot move the event loop __main__.OwnLoop" in lines["own loop"], out
    assert "kept running True" in out
    assert r.stderr == b"", r.stderr.decode()


def test_the_loop_keeps_its_time_across_a_checkpoint_resumed_later(tmp_path):
    """A call_later due 1 s after the checkpoint fires about 1 s after the resume, not at
    once, though the resume comes 1.5 s later: the loop's time went on from where it was."""
    import subprocess
    import sys

    prog = tmp_path / "clock.py"
    prog.write_text(
        "import asyncio, os, sys, time, teleporter\n"
        "async def main():\n"
        "    loop = asyncio.get_running_loop()\n"
        "    fired = asyncio.Event()\n"
        "    loop.call_later(1.0, fired.set)\n"
        "    before = loop.time()\n"
        "    if not await teleporter.acheckpoint(sys.argv[1]):\n"
        "        os._exit(0)\n"
        "    start = time.monotonic()\n"
        "    await fired.wait()\n"
        "    took = time.monotonic() - start\n"
        "    print('fired after', 0.7 < took < 1.6, round(took, 1), loop.time() >= before)\n"
        "asyncio.run(main())\n"
    )
    ckpt = tmp_path / "clock.ckpt"
    first = run_program(prog, str(ckpt))
    assert first.returncode == 0, first.stderr.decode()
    import time

    time.sleep(1.5)
    second = subprocess.run(
        [sys.executable, "-m", "teleporter", "resume", str(ckpt)],
        capture_output=True,
        timeout=120,
        env={**os.environ},
    )
    assert second.returncode == 0, second.stderr.decode()
    assert second.stdout.decode().startswith("fired after True"), second.stdout.decode()
    assert second.stdout.decode().rstrip().endswith("True")
