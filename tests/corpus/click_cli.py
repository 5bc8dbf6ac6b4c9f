"""A click command-line tool whose command body moves halfway through its work: it
processes a generated word list in passes and writes a summary file."""

import collections
import json
import random
from pathlib import Path

import click

import teleporter


@click.group()
def cli():
    """Word tools."""


@cli.command()
@click.argument("workdir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--passes", default=4, show_default=True, help="Number of passes.")
@click.option("--seed", default=1234, type=int)
@click.option("--verbose/--quiet", default=True)
def analyse(workdir, passes, seed, verbose):
    """Count letter frequencies over generated words."""
    rng = random.Random(seed)
    letters = collections.Counter()
    lengths = []
    for p in range(passes):
        words = ["".join(rng.choice("etaoinshrdlu") for _ in range(rng.randint(2, 9))) for _ in range(300)]
        letters.update("".join(words))
        lengths.extend(len(w) for w in words)
        if verbose:
            click.echo(f"pass {p}: {len(words)} words, top {letters.most_common(3)}")
        if p == passes // 2 - 1:
            click.echo("checkpointing...")
            teleporter.teleport()
    summary = {"passes": passes, "letters": dict(sorted(letters.items())), "mean_len": sum(lengths) / len(lengths)}
    out = workdir / "summary.json"
    out.write_text(json.dumps(summary, indent=1))
    click.echo(click.style(f"wrote {out.name}: {len(out.read_text())} bytes", bold=False))
    click.echo(f"mean length {summary['mean_len']:.4f}")
    out.unlink()


if __name__ == "__main__":
    import sys

    cli(["analyse", sys.argv[1], "--passes", "6"])
