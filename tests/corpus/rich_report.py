"""Experiment report printed with rich: a Console of fixed width (no terminal), tables
and rules before and after the move, the same Console object throughout."""

import random

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

import teleporter

console = Console(force_terminal=False, width=80, color_system=None, highlight=False)
random.seed(8)


def run_trial(lr, depth):
    score = 0.6 + 0.3 * (1 - abs(lr - 0.01) * 20) - 0.02 * abs(depth - 4)
    return round(score + random.uniform(-0.01, 0.01), 4)


table = Table(title="Sweep, part 1", show_lines=False)
table.add_column("lr", justify="right")
table.add_column("depth", justify="right")
table.add_column("score", justify="right", style="bold")
results = []
for lr in (0.001, 0.005, 0.01):
    for depth in (2, 4, 6):
        s = run_trial(lr, depth)
        results.append((lr, depth, s))
        table.add_row(f"{lr:g}", str(depth), f"{s:.4f}")
console.print(table)
console.rule("moving to a fresh process")

teleporter.teleport()

table2 = Table(title="Sweep, part 2")
for col in ("lr", "depth", "score"):
    table2.add_column(col, justify="right")
for lr in (0.02, 0.05):
    for depth in (2, 4, 6):
        s = run_trial(lr, depth)
        results.append((lr, depth, s))
        table2.add_row(f"{lr:g}", str(depth), f"{s:.4f}")
console.print(table2)
best = max(results, key=lambda r: r[2])
console.print(Panel.fit(f"best: lr={best[0]:g} depth={best[1]} score={best[2]:.4f}", title="summary"))
with console.capture() as capture:
    console.print("[bold]captured[/bold] text", len(results), "trials")
console.print(repr(capture.get()))
console.print("done", len(results))
