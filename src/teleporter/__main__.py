"""`python -m teleporter` and the `teleporter` console script."""

from __future__ import annotations

import argparse
import sys

from .errors import TeleportError


def main(argv: list[str] | None = None) -> int:
    from .cli import inspect, resume, run

    parser = argparse.ArgumentParser(
        prog="teleporter",
        description="Run a program that signals checkpoint, continue a checkpointed "
        "program, or inspect a checkpoint.",
    )
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    run.add_parser(sub)
    resume.add_parser(sub)
    inspect.add_parser(sub)
    argv = sys.argv[1:] if argv is None else argv
    target: list[str] = []
    if argv[:1] == ["run"]:  # the program and its arguments are the program's own
        options, target = run.split_argv(argv[1:])
        argv = ["run", *options]
    args = parser.parse_args(argv)
    if target:
        args.target = target
    try:
        code: int = args.run(args)
    except TeleportError as e:
        from .errors import escape

        print(f"teleporter: {escape(str(e))}", file=sys.stderr)  # one line, whatever it quotes
        return e.exit_code
    return code


if __name__ == "__main__":
    sys.exit(main())
