import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
SCENARIOS = HERE / "scenarios"
REFUSALS = HERE / "refusals"
FORKSHIM = HERE / "forkshim"


def run_program(path, *args, stdin=b"", reference=False, timeout=120, env=None, cwd=None):
    """Runs a program as a real subprocess; `reference=True` puts the fork-based stand-in
    for teleporter first on the path."""
    return run_python(
        str(path), *args, stdin=stdin, reference=reference, timeout=timeout, env=env, cwd=cwd
    )


def run_python(*args, stdin=b"", reference=False, timeout=120, env=None, cwd=None):
    """Runs this interpreter with `args` as a real subprocess."""
    e = dict(os.environ)
    if reference:
        e["PYTHONPATH"] = os.pathsep.join(filter(None, [str(FORKSHIM), e.get("PYTHONPATH")]))
    e.update(env or {})
    return subprocess.run(
        [sys.executable, *args],
        input=stdin,
        capture_output=True,
        timeout=timeout,
        env=e,
        cwd=cwd,
    )


@pytest.fixture
def run():
    return run_program
