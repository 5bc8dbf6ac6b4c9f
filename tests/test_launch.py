"""Programs started with -m or fed on stdin move like scripts; an interpreter that this
build was not made for refuses it at import with one clear line."""

import glob
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from conftest import SCENARIOS, run_python

import teleporter._teleporter_impl as impl


def same_as_reference(*args, stdin=b"", cwd=None):
    moved = run_python(*args, stdin=stdin, cwd=cwd)
    ref = run_python(*args, stdin=stdin, cwd=cwd, reference=True)
    assert (moved.stdout, moved.stderr, moved.returncode) == (
        ref.stdout,
        ref.stderr,
        ref.returncode,
    )
    return moved.stdout.decode()


def test_run_with_dash_m():
    out = same_as_reference("-m", "nested_pending", cwd=SCENARIOS)
    assert "result: ({'k': 1}, ['middle', (7, 'g-result', 3, 9), 'tail'], 2)" in out
    assert "moved: True" in out


def test_uncaught_with_dash_m_shows_the_programs_frames():
    r = run_python("-m", "uncaught", cwd=SCENARIOS)
    err = r.stderr.decode()
    assert r.returncode == 1
    names = [ln.rsplit(", in ", 1)[1] for ln in err.splitlines() if ln.strip().startswith("File ")]
    # The moved stack ends at __main__: runpy's frames below it stayed at the origin (the
    # destination's own start-up stands in for them), and no teleporter frame shows.
    assert names == ["<module>", "run", "compute", "divide"]
    assert "teleporter" not in err.replace(str(SCENARIOS / "uncaught.py"), "")


def test_program_fed_on_stdin():
    source = (SCENARIOS / "closures.py").read_bytes()
    out = same_as_reference("-", stdin=source)
    assert out.splitlines() == ["((2, [1, 2]), True)", "15", "moved: True"]


SUPPORTED = ("3.11", "3.12", "3.13", "3.14", "3.15")


def _other_interpreter():
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    mine = f"{sys.version_info[0]}.{sys.version_info[1]}"
    for minor in SUPPORTED:
        if minor == mine:
            continue
        for cand in sorted(glob.glob(f"{root}/versions/{minor}.*/bin/python{minor}")):
            return minor, cand
    found = [shutil.which(f"python{m}") for m in SUPPORTED if m != mine]
    return next(((p.rsplit("python", 1)[1], p) for p in found if p), (None, None))


def test_foreign_interpreter_is_refused_at_import(tmp_path):
    minor, python = _other_interpreter()
    assert python, "another supported CPython is needed to load this build into"
    pkg = tmp_path / "teleporter"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    soabi = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    shutil.copy(impl.__file__, pkg / f"_teleporter_impl{soabi}")
    r = subprocess.run(
        [python, "-c", "import teleporter._teleporter_impl"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        # a clean environment, but a sanitizer run's preloaded runtime must stay
        env={k: v for k, v in os.environ.items() if k in ("PATH", "LD_PRELOAD", "ASAN_OPTIONS")},
    )
    mine = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert r.returncode == 1
    assert r.stderr.strip().splitlines()[-1] == (
        f"ImportError: teleporter was built for CPython {mine} but runs on CPython {minor}; "
        "reinstall it for this interpreter"
    )
    assert sysconfig.get_config_var("EXT_SUFFIX") != soabi
    assert Path(impl.__file__).exists()


def test_a_move_imports_nothing_heavy(tmp_path):
    """The destination starts as lean as the origin: a move itself must not import json,
    re, subprocess, threading, typing or sysconfig (tens of milliseconds per move)."""
    program = tmp_path / "lean.py"
    program.write_text(
        "import sys\n"
        "import teleporter\n"
        "before = set(sys.modules)\n"
        "teleporter.teleport()\n"
        "heavy = ('json', 're', 'subprocess', 'threading', 'typing', 'sysconfig', 'enum')\n"
        "print(sorted(m for m in heavy if m in sys.modules and m not in before))\n"
    )
    r = run_python(str(program))
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout.decode() == "[]\n"


def test_a_free_threaded_build_is_refused_at_import():
    # No free-threaded interpreter is at hand (Debian ships none): the check reads what
    # python3.14t says of itself, sys.abiflags "t", before the extension loads.
    mine = f"{sys.version_info[0]}.{sys.version_info[1]}"
    r = subprocess.run(
        [sys.executable, "-c", "import sys; sys.abiflags += 't'; import teleporter"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 1
    assert r.stderr.strip().splitlines()[-1] == (
        f"ImportError: teleporter does not support free-threaded CPython (python{mine}t) yet: "
        f"use the default build (python{mine})"
    )


def test_a_free_threaded_build_is_refused_when_built(tmp_path):
    # The build refuses it first, in one line at cmake's configure step, before a compiler
    # meets code written for the GIL. python3.14t is simulated again: its headers (this
    # interpreter's, with Py_GIL_DISABLED defined) and what it says of itself (its ABI
    # flags, through sitecustomize), as CMake's FindPython reads them.
    include = tmp_path / "include"
    shutil.copytree(sysconfig.get_paths()["include"], include)
    with open(include / "pyconfig.h", "a") as f:
        f.write("\n#define Py_GIL_DISABLED 1\n")
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        "import sys, sysconfig\n"
        "v = sysconfig.get_config_vars()\n"
        "v['ABIFLAGS'] = 't'\n"
        "v['Py_GIL_DISABLED'] = 1\n"
        "sys.abiflags = 't'\n"
    )
    tools = Path(sys.executable).parent
    r = subprocess.run(
        [
            str(tools / "cmake"),
            "-S",
            str(Path(__file__).parents[1]),
            "-B",
            str(tmp_path / "build"),
            "-G",
            "Ninja",
            f"-DCMAKE_MAKE_PROGRAM={tools / 'ninja'}",
            f"-DPython_EXECUTABLE={sys.executable}",
            f"-DPython_INCLUDE_DIR={include}",
            "-DSKBUILD=1",
        ],
        capture_output=True,
        text=True,
        env={**{k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}, "PYTHONPATH": str(site)},
    )
    mine = re.escape(f"{sys.version_info[0]}.{sys.version_info[1]}")
    assert r.returncode != 0
    assert re.match(
        r"CMake Error at CMakeLists\.txt:\d+ \(message\): teleporter does not support "
        rf"free-threaded CPython \(python{mine}t\) yet: use the default build \(python{mine}\)$",
        " ".join(r.stderr.split()),
    ), r.stderr
