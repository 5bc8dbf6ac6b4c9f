"""`python -m teleporter` and the `teleporter` console script."""

from __future__ import annotations

import argparse
import sys

from .errors import TeleportError


def main(argv: list[str] | None = None) -> int:
    from .cli import inspect, resume, run, sbatch

    parser = argparse.ArgumentParser(
        prog="teleporter",
        description="Run a program that signals checkpoint, continue a checkpointed "
        "program, inspect a checkpoint, or submit a program as a Slurm job that checkpoints "
        "and requeues itself.",
    )
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    run.add_parser(sub)
    resume.add_parser(sub)
    inspect.add_parser(sub)
    sbatch.add_parser(sub)
    argv = sys.argv[1:] if argv is None else argv
    target: list[str] = []
    theirs: list[str] = []
    if argv[:1] == ["run"]:  # the program and its arguments are the program's own
        options, target = run.split_argv(argv[1:])
        argv = ["run", *options]
    elif argv[:1] == ["sbatch"]:  # ... and options teleporter does not know are sbatch's
        options, theirs, target = sbatch.split_argv(argv[1:])
        argv = ["sbatch", *options]
    args = parser.parse_args(argv)
    if target:
        args.target = target
    if theirs:
        args.sbatch_options = theirs
    try:
        code: int = args.run(args)
    except TeleportError as e:
        from .errors import escape

        print(f"teleporter: {escape(str(e))}", file=sys.stderr)  # one line, whatever it quotes
        return e.exit_code
    return code


if __name__ == "__main__":
    sys.exit(main())
