"""A small local teleport, whole process, against interpreter start-up.

Targets (CONTRACTS.md): hello -> teleport -> world costs at most 2x
`python -c "import teleporter"` and at most 2.5x `python -c pass` (two interpreters must
start, so 2x is the floor). Run it inside a venv: `nox -t bench`.
"""

from __future__ import annotations

import argparse

from _util import python, script, time_process

HELLO = """
import teleporter
print("hello")
teleporter.teleport()
print("world")
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    runs = ap.parse_args().runs
    py = python()
    hello = script(HELLO)
    bare = time_process([py, "-c", "pass"], runs)
    imp = time_process([py, "-c", "import teleporter"], runs)
    tele = time_process([py, str(hello)], runs)
    hello.unlink()
    print(f"python -c pass                 {bare * 1e3:8.1f} ms")
    print(f"python -c 'import teleporter'  {imp * 1e3:8.1f} ms")
    print(f"hello -> teleport -> world     {tele * 1e3:8.1f} ms")
    print(f"ratio vs import teleporter     {tele / imp:8.2f}x  (target <= 2.0)")
    print(f"ratio vs python -c pass        {tele / bare:8.2f}x  (target <= 2.5)")


if __name__ == "__main__":
    main()
