"""teleporter resume PATH: continue a checkpointed program; exits with its exit code."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("resume", help="continue a program from its checkpoint")
    p.add_argument("path", help="the checkpoint file")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from .._checkpoint import resume

    resume(args.path)
