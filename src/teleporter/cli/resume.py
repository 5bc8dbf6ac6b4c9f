"""teleporter resume [--key-file FILE] PATH: continue a checkpointed program; exits with
its exit code. With a key (--key-file, TELEPORTER_CHECKPOINT_KEY_FILE or
TELEPORTER_CHECKPOINT_KEY), only a checkpoint signed with that key is accepted."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from .._checkpoint import KEY_ENV, KEY_FILE_ENV

    p = sub.add_parser("resume", help="continue a program from its checkpoint")
    p.add_argument("path", help="the checkpoint file")
    p.add_argument(
        "--key-file",
        metavar="FILE",
        help="accept only a checkpoint signed with the key in FILE "
        f"(default: {KEY_FILE_ENV} or {KEY_ENV}, when set)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from .._checkpoint import resume

    resume(args.path, key_file=args.key_file)
