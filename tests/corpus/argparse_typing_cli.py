"""A report generator CLI: argparse with subcommands and typed options, functions with
Optional annotations, textwrap for formatting and string.Template for the output; it moves
between computing and rendering."""

import argparse
import string
import sys
import textwrap
from pathlib import Path
from typing import Dict, List, Optional

import teleporter

TEMPLATE = string.Template(textwrap.dedent("""\
    Report: $title
    Items:  $count (threshold $threshold)
    Top:    $top
    $body
    -- generated for $$USER placeholder, safe: ${suffix}
"""))


def parse(argv: List[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="report", description="Summarise numeric series.")
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="build a report")
    build.add_argument("workdir", type=Path)
    build.add_argument("--title", default="Weekly numbers")
    build.add_argument("--threshold", type=float, default=50.0)
    build.add_argument("--limit", type=int, default=None)
    build.add_argument("--tag", action="append", default=[])
    build.add_argument("-v", "--verbose", action="count", default=0)
    return parser.parse_args(argv)


def compute(n: int, threshold: float, limit: Optional[int] = None) -> Dict[str, float]:
    values = {f"series-{i:02d}": round((i * 37 % 101) * 1.5, 2) for i in range(n)}
    kept = {k: v for k, v in values.items() if v >= threshold}
    if limit is not None:
        kept = dict(sorted(kept.items(), key=lambda kv: -kv[1])[:limit])
    return kept


def describe(name: str, value: float, note: Optional[str] = None) -> str:
    text = f"{name} reached {value:.2f} which is {'far ' if value > 100 else ''}above the threshold"
    if note:
        text += f" ({note})"
    return text


args = parse(["build", sys.argv[1], "--threshold", "60", "--limit", "6", "--tag", "ops", "--tag", "q3", "-vv"])
print("args:", args.command, args.title, args.threshold, args.limit, args.tag, args.verbose)
data = compute(30, args.threshold, args.limit)
print("kept:", len(data))

teleporter.teleport()

paragraphs = [describe(k, v, "watch" if v > 120 else None) for k, v in data.items()]
body = "\n".join(textwrap.fill(p, width=40, initial_indent="  * ", subsequent_indent="    ") for p in paragraphs)
report = TEMPLATE.substitute(title=args.title, count=len(data), threshold=args.threshold,
                             top=max(data, key=data.get), body=body, suffix="/".join(args.tag))
out = args.workdir / "report.txt"
out.write_text(report)
print(out.read_text(), end="")
print(textwrap.shorten(" ".join(paragraphs), width=60, placeholder=" [...]"))
print(textwrap.indent("a\nb", "> "), string.capwords("hello moved world"))
out.unlink()
