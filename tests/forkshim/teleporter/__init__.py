"""The reference a move is compared against: ``teleport()`` as ``os.fork()``.

The child simply continues the program in a new process, which is exactly what a move
must look like from inside and outside the program (same output, tracebacks, exit code,
stdin). Scenario tests run each program once with this stand-in and once with the real
teleporter, and require identical results.
"""

import os
import sys


class TeleportError(Exception):
    pass


def teleport(*command, python=None, env=None, cwd=None):
    for s in (sys.stdout, sys.stderr):
        s.flush()
    rnd = sys.modules.get("random")
    state = rnd.getstate() if rnd else None
    pid = os.fork()
    if pid == 0:
        if rnd:  # random reseeds itself in a forked child; a moved program does not
            rnd.setstate(state)
        os.environ.update(env or {})
        if cwd is not None:
            os.chdir(cwd)
        return None
    _, status = os.waitpid(pid, 0)
    # multiprocessing's finalizers are this process's own (the child skips them): what the
    # program's exit would have released (the named semaphores of its locks, 3.14+).
    util = sys.modules.get("multiprocessing.util")
    if util is not None:
        util._run_finalizers(0)
    os._exit(os.waitstatus_to_exitcode(status) if status & 0x7F == 0 else 128 + (status & 0x7F))


def tp_dummy(**kw):
    return teleport(**kw)


def tp_shell(*prefix, **kw):
    return teleport(*prefix, **kw)


tp_bash = tp_shell


def register_by_value(module):
    pass


def register_by_reference(module):
    pass


async def ateleport(*command, python=None, env=None, cwd=None):
    """As teleporter's: the move happens in a callback of the loop, between two others,
    and the awaiting task learns of it once the loop comes back to it."""
    import asyncio

    loop = asyncio.get_running_loop()
    future = loop.create_future()

    def between_callbacks():
        policy = asyncio.events._event_loop_policy
        current = policy is not None and policy._local._loop is loop
        kept = asyncio.all_tasks(loop)
        teleport(*command, python=python, env=env, cwd=cwd)
        if sys.version_info >= (3, 14):  # a forked child's C tasks are forgotten there
            known = asyncio.all_tasks

            def all_tasks(loop=None):
                return {t for t in kept if not t.done()} | known(loop)

            asyncio.all_tasks = asyncio.tasks.all_tasks = all_tasks
        # A forked child forgets the running loop (asyncio's own at-fork hook): a moved
        # program does not.
        asyncio.events._set_running_loop(loop)
        if current:
            asyncio.events.set_event_loop(loop)
        # Nor do the idle threads of the loop's default executor survive a fork: a moved
        # program's do. The loop makes a new executor when it next needs one.
        loop._default_executor = None
        future.set_result(None)

    loop.call_soon(between_callbacks)
    return await future
