"""teleporter sbatch [--checkpoint PATH] [--every SECONDS] [--warn SECONDS] [--print]
[sbatch options...] (script.py | -m module) [args...]: submits an unmodified program as a
preemptible Slurm batch job. The job runs ``teleporter run --requeue``: when Slurm warns
it (``--signal=B:USR2@SECONDS`` before its time limit, or ``scancel --signal=USR2
--batch``) or ends it (SIGTERM), the program is checkpointed, the job requeues itself,
and it continues from the checkpoint when it runs again; the job's output file is
appended to, so it reads as one uninterrupted run."""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys

# teleporter's own options that take a value (the rest before the program are sbatch's).
_VALUED = ("--checkpoint", "--every", "--warn")
WARN = 120  # seconds before the time limit that Slurm signals the job by default


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "sbatch",
        help="submit a program as a Slurm job that checkpoints and requeues itself",
        description="Submit a Python program as a preemptible Slurm batch job: on USR2 "
        "(sent WARN seconds before its time limit, or by scancel --signal=USR2 --batch) or "
        "TERM the program is checkpointed and the job requeued; it continues from the "
        "checkpoint when it runs again. Options that teleporter does not know, before the "
        "program, go to sbatch, each as one word (--time=4:00:00, --gres=gpu:1, -pdebug).",
    )
    p.add_argument(
        "--checkpoint",
        metavar="PATH",
        help="the checkpoint file, expanded by the job's shell (default: "
        "NAME.slurm-JOB[_TASK].ckpt in the submission directory)",
    )
    p.add_argument("--every", metavar="SECONDS", type=float, help="also checkpoint every SECONDS")
    p.add_argument(
        "--warn",
        metavar="SECONDS",
        type=int,
        default=WARN,
        help=f"how long before its time limit Slurm signals the job (default: {WARN})",
    )
    p.add_argument(
        "--print",
        action="store_true",
        dest="print_only",
        help="print the batch script instead of submitting it",
    )
    p.usage = (
        "teleporter sbatch [--checkpoint PATH] [--every SECONDS] [--warn SECONDS] [--print] "
        "[sbatch options...] (script.py | -m MODULE) [args ...]"
    )
    p.set_defaults(run=run, target=[], sbatch_options=[])


def split_argv(argv: list[str]) -> tuple[list[str], list[str], list[str]]:
    """teleporter's options, sbatch's options and the program with its arguments."""
    own: list[str] = []
    theirs: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            return own, theirs, argv[i + 1 :]
        if a.startswith("-m"):  # -m MODULE or -mMODULE
            return own, theirs, argv[i:]
        if a in _VALUED:
            own += argv[i : i + 2]
            i += 2
        elif a.split("=", 1)[0] in _VALUED or a in ("--print", "-h", "--help"):
            own.append(a)
            i += 1
        elif a.startswith("-") and a != "-":
            theirs.append(a)
            i += 1
        else:
            return own, theirs, argv[i:]
    return own, theirs, []


def _quoted(text: str) -> str:
    """`text` as it reads literally inside double quotes in sh."""
    return "".join("\\" + c if c in '"$`\\' else c for c in text)


def batch_script(args: argparse.Namespace) -> str:
    """The batch script that runs the program under ``teleporter run --requeue``."""
    from .._checkpoint import _refuse
    from .run import program as program_of

    script, module, program_args, name = program_of(list(args.target), "sbatch")
    if script is not None:
        if not os.path.isfile(script):
            _refuse(f"sbatch: no such script: {script}", 2)
        program = [os.path.abspath(script), *program_args]
    else:
        program = ["-m", str(module), *program_args]
    if not 0 < args.warn <= 65535:
        _refuse(f"sbatch: --warn needs a number of seconds from 1 to 65535, not {args.warn}", 2)
    if args.every is not None and not args.every > 0:
        _refuse(f"sbatch: --every needs a positive number of seconds, not {args.every!r}", 2)
    if args.checkpoint is not None:
        if "\0" in args.checkpoint or "\n" in args.checkpoint:
            _refuse(f"sbatch: --checkpoint: {args.checkpoint!r} has a character it cannot hold", 2)
        checkpoint = f'"{args.checkpoint}"'  # the job's shell expands $SLURM_... in it
    else:
        job = "${SLURM_ARRAY_JOB_ID:-$SLURM_JOB_ID}${SLURM_ARRAY_TASK_ID:+_$SLURM_ARRAY_TASK_ID}"
        checkpoint = f'"{_quoted(os.path.join(os.getcwd(), name))}.slurm-{job}.ckpt"'
    every = ["--every", repr(args.every)] if args.every is not None else []
    command = [
        sys.executable,
        "-m",
        "teleporter",
        "run",
        "--requeue",
        "--signal",
        "USR2",
        "--signal",
        "TERM",
        *every,
    ]
    words = " ".join(shlex.quote(w) for w in command)
    rest = " ".join(shlex.quote(w) for w in ["--", *program])
    return (
        "#!/bin/sh\n"
        f"#SBATCH --job-name={name}\n"
        "#SBATCH --requeue\n"
        "#SBATCH --open-mode=append\n"
        f"#SBATCH --signal=B:USR2@{args.warn}\n"
        "# teleporter run checkpoints the program on USR2 or TERM and requeues this job; run\n"
        "# again, it continues from the checkpoint (exec: it receives the batch signals).\n"
        f"exec {words} --checkpoint {checkpoint} {rest}\n"
    )


def run(args: argparse.Namespace) -> int:
    text = batch_script(args)
    if args.print_only:
        sys.stdout.write(text)
        return 0
    try:
        done = subprocess.run(["sbatch", *args.sbatch_options], input=text.encode())
    except OSError as e:
        from .._checkpoint import _refuse

        _refuse(f"sbatch: cannot run Slurm's sbatch: {e}", 2)
    return done.returncode
