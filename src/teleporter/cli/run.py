"""teleporter run [--checkpoint PATH] [--signal SIG]... [--every SECONDS] [--exit-if-refused]
[--requeue] [--safe-point-timeout SECONDS] [--key-file FILE] (script.py | -m module)
[args...]: runs an unmodified program that a signal (SIGTERM by default) checkpoints to
PATH and ends with exit code 75; the same command then continues it from PATH (with
--requeue, in a Slurm job, the job is requeued to do so). See teleporter._run."""

from __future__ import annotations

import argparse
import os

TYPE_CHECKING = False  # typing itself costs start-up time
if TYPE_CHECKING:
    from typing import Any


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from .._checkpoint import KEY_ENV, KEY_FILE_ENV

    p = sub.add_parser(
        "run",
        help="run a program that a signal checkpoints (exit 75); run it again to continue",
        description="Run a Python program unmodified. On each SIG (default SIGTERM) the "
        "program is checkpointed to PATH at its next safe point and the process exits with "
        "code 75; the same command then continues it from PATH. When the program ends, "
        "PATH is removed.",
    )
    p.add_argument(
        "--checkpoint",
        metavar="PATH",
        help="the checkpoint file (default: NAME.ckpt in the working directory, NAME being "
        "the script's name without .py, or the module's)",
    )
    p.add_argument(
        "--signal",
        metavar="SIG",
        action="append",
        dest="signals",
        help="a signal that checkpoints the program and ends it with exit code 75, by name "
        "or number (TERM, SIGUSR1, 10); repeat for several (default: SIGTERM)",
    )
    p.add_argument(
        "--every",
        metavar="SECONDS",
        type=float,
        help="also checkpoint every SECONDS while the program runs (a kill loses at most "
        "that much of its work)",
    )
    p.add_argument(
        "--exit-if-refused",
        action="store_true",
        help="when a signal's checkpoint cannot be taken, let the signal end the program as "
        "it would have (default: say why and keep running)",
    )
    p.add_argument(
        "--requeue",
        action="store_true",
        help="in a Slurm batch job: after a signal's checkpoint, requeue the job "
        "(scontrol requeue), which then runs the same command again and continues",
    )
    p.add_argument(
        "--safe-point-timeout",
        metavar="SECONDS",
        type=float,
        help="how long a checkpoint waits for the program's threads to reach a point where "
        "they can be captured (default: 20 for a signal's, 5 for a periodic one)",
    )
    p.add_argument(
        "--key-file",
        metavar="FILE",
        help=f"sign checkpoints with the key in FILE, and resume only signed ones (default: "
        f"{KEY_FILE_ENV} or {KEY_ENV}, when set)",
    )
    p.usage = (
        "teleporter run [--checkpoint PATH] [--signal SIG]... [--every SECONDS] "
        "[--exit-if-refused] [--requeue] [--safe-point-timeout SECONDS] [--key-file FILE] "
        "(script.py | -m MODULE) [args ...]"
    )
    p.set_defaults(run=run, target=[])


# The options of `run` that take a value: what follows them is not the program.
_VALUED = ("--checkpoint", "--signal", "--every", "--safe-point-timeout", "--key-file")


def split_argv(argv: list[str]) -> tuple[list[str], list[str]]:
    """`run`'s own options, and the program with its arguments (from the script or `-m`
    on, after `--` if given): everything after the program's name is the program's, as
    for python itself."""
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            return argv[:i], argv[i + 1 :]
        if a.startswith("-m"):
            return argv[:i], argv[i:]
        if a in _VALUED:
            i += 2
        elif a.startswith("-") and a != "-":
            i += 1
        else:
            return argv[:i], argv[i:]
    return argv, []


def identity(script: str | None, module: str | None, args: list[str]) -> dict[str, Any]:
    """What a checkpoint says about the program it belongs to."""
    if module is not None:
        return {"module": module, "args": args}
    assert script is not None
    return {"script": os.path.abspath(script), "args": args}


def program(target: list[str], command: str) -> tuple[str | None, str | None, list[str], str]:
    """What `target` names (``script.py args...`` or ``-m module args...``): its script, its
    module, its arguments and its name. Refused in one line, as `command`, when nothing."""
    from .._checkpoint import _refuse

    if target[:1] == ["-m"]:
        if len(target) < 2:
            _refuse(f"{command}: -m needs a module name", 2)
        return None, target[1], target[2:], target[1]
    if target[:1] and target[0].startswith("-m"):
        return None, target[0][2:], target[1:], target[0][2:]
    if not target:
        _refuse(f"{command}: give a script to run, or -m MODULE", 2)
    name = os.path.splitext(os.path.basename(target[0]))[0] or "program"
    return target[0], None, target[1:], name


def run(args: argparse.Namespace) -> int:
    from .. import _run
    from .._checkpoint import _refuse, configured_key
    from ..errors import PayloadError

    script, module, program_args, name = program(list(args.target), "run")
    try:
        signals = [_run.signal_number(s) for s in args.signals or ["SIGTERM"]]
    except ValueError as e:
        _refuse(f"run: --signal: {e}", 2)
    every = args.every
    if every is not None and not every > 0:
        _refuse(f"run: --every needs a positive number of seconds, not {every!r}", 2)
    safe_point = args.safe_point_timeout
    if safe_point is not None and not 0 < safe_point < float("inf"):
        _refuse(
            f"run: --safe-point-timeout needs a positive number of seconds, not {safe_point!r}", 2
        )
    try:
        key = configured_key(None, args.key_file, PayloadError)
    except PayloadError as e:
        _refuse(str(e), e.exit_code)
    requeue = None
    if args.requeue:
        requeue = os.environ.get("SLURM_JOB_ID", "")
        if not requeue.isdigit():
            _refuse("run: --requeue works in a Slurm batch job only (SLURM_JOB_ID is not set)", 2)
    path = args.checkpoint if args.checkpoint is not None else f"{name}.ckpt"
    if "\0" in path:
        _refuse(f"run: --checkpoint: {path!r} contains a NUL byte", 2)
    watch = _run.Watch(
        path,
        signals,
        every,
        key,
        args.exit_if_refused,
        identity(script, module, program_args),
        safe_point,
        requeue,
    )
    if os.path.lexists(watch.path):
        _run.resume_own(watch, key)
    if module is not None:
        _run.start_module(module, program_args, watch)
    assert script is not None
    _run.start_script(script, program_args, watch)
    return 0  # not reached: the program's end ends the process
