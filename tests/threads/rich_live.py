"""A rich progress display refreshing itself from its own thread (auto_refresh), moved
in the middle of the work: the refresh thread moves with the display and keeps drawing,
and what the program prints meanwhile still goes through the display."""

import io
import os
import threading
import time

from rich.console import Console
from rich.progress import Progress

import teleporter

os.environ["TERM"] = "xterm"  # a dumb terminal gets no live refresh: the same everywhere
out = io.StringIO()
console = Console(file=out, force_terminal=True, width=60, color_system=None)
with Progress(console=console, auto_refresh=True, refresh_per_second=50) as progress:
    task = progress.add_task("work", total=10)
    for i in range(10):
        time.sleep(0.02)
        progress.advance(task)
        if i == 4:
            teleporter.teleport()
            refresher = progress.live._refresh_thread
            moved = refresher.is_alive(), refresher in threading.enumerate()
            drawn = len(out.getvalue())
            time.sleep(0.2)
            draws = len(out.getvalue()) > drawn
            print("printed inside the display")  # rich redirects sys.stdout to its console
print("refresh thread moved:", *moved)
print("it draws after the move:", draws)
print("printed into the display:", "printed inside the display" in out.getvalue())
print("completed:", progress.tasks[0].completed, progress.finished)
print("last frame:", out.getvalue().split("\r\x1b[2K")[-1].split("\n")[0])
