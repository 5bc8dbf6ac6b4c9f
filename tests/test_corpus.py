"""A corpus of realistic programs (tests/corpus/*.py), each moving once in the middle of
its work, run three ways and compared:

- reference: teleport() is os.fork() (tests/forkshim first on PYTHONPATH), cached per
  program and interpreter for the session (shared between xdist workers);
- "teleport": the real teleporter, the program as written;
- "checkpoint": a copy whose `teleporter.teleport()` writes a checkpoint and exits 0
  right there (first run: the part before the move), then `python -m teleporter resume`
  runs the rest. The two stdouts (and the two stderrs) concatenated, and the resumed
  run's exit code, must be the reference's.

Every program gets a fresh work directory as its cwd and as argv[1]; it writes only
there and prints nothing that names it. The reference itself must be clean: exit code
and stderr as listed below (0 and empty unless deliberate), else the test fails saying
the program (not teleporter) is broken; a library missing in this interpreter fails
the same way, never skips. Libraries: tests/corpus/requirements.txt.

Run: cd tests && python -m pytest -q -p no:cacheprovider test_corpus.py [-n 2]
"""

import difflib
import fcntl
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
CORPUS = HERE / "corpus"
FORKSHIM = HERE / "forkshim"
TIMEOUT = 120
MOVE = "teleporter.teleport()"
CKPT_VAR = "TELEPORTER_CORPUS_CKPT"
# One expression in place of the move: checkpoint, and in the first run flush and leave
# at once (os._exit: no atexit, finalizers or cleanup, the rest belongs to the resume),
# releasing only what the resume cannot: the named semaphores of multiprocessing's locks
# (3.14+), as `teleporter run` does when it stops a program after a checkpoint.
CHECKPOINT_AND_STOP = (
    f"(teleporter.checkpoint(__import__('os').environ['{CKPT_VAR}']) or "
    "[__import__('sys').stdout.flush(), __import__('sys').stderr.flush(), "
    "__import__('teleporter.transports.local').transports.local.release_semaphores(), "
    "__import__('os')._exit(0)])"
)

# Deliberate exit codes / stderr output of the reference (everything else: 0, empty).
EXIT_CODE = {"atexit_callbacks": 3, "validation_failure": 1}
STDERR_EXPECTED = {"logging_handlers", "validation_failure"}

# Programs whose move is refused today, each for a reason it names (a pattern of its
# TeleportError line). A refusal is checked like a result: the program must stop at the
# move with exactly that error, after printing what the reference printed before it; a
# program that starts to move fails here until it leaves this table.
REFUSED = {
    # A running child process cannot move (the program holds its Popen).
    "requests_local_server": r"`server` is a subprocess\.Popen that cannot be moved "
    r"\(TypeError: a running child process \(pid \d+: ",
    # A cursor's pending rows cannot be read without consuming them.
    "sqlite3_file": r"`cur` is a sqlite3\.Cursor that cannot be moved",
    # OpenSSL's running digest state cannot be read.
    "struct_binary_records": r"`stream_hash` is a _hashlib\.HASH that cannot be moved",
}

PROGRAMS = sorted(p.stem for p in CORPUS.glob("*.py"))
MODES = ["teleport", "checkpoint"]

# Same environment for every run: single-threaded native math (deterministic
# reductions, 2 cores shared with xdist), no GUI backend, no terminal-size guessing.
BASE_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "MPLBACKEND": "Agg",
    "COLUMNS": "80",
    "LINES": "24",
    "PYTHONUNBUFFERED": None,
    "PYTHONWARNINGS": None,
    CKPT_VAR: None,
}


class Result:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr

    def as_dict(self):
        return {"returncode": self.returncode, "stdout": self.stdout, "stderr": self.stderr}


_groups = []  # process groups started by this worker, killed at the end of each test


def _run(args, cwd, env=None, reference=False):
    e = dict(os.environ)
    for name, value in {**BASE_ENV, **(env or {})}.items():
        if value is None:
            e.pop(name, None)
        else:
            e[name] = value
    if reference:
        e["PYTHONPATH"] = os.pathsep.join(filter(None, [str(FORKSHIM), e.get("PYTHONPATH")]))
    proc = subprocess.Popen(
        [sys.executable, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=e,
        start_new_session=True,  # a timeout kills the whole tree, moved copies included
    )
    _groups.append(proc.pid)
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        _killpg(proc.pid)
        out, err = proc.communicate()
        pytest.fail(
            f"timed out after {TIMEOUT}s: {' '.join(args)}\n"
            f"stdout tail: {out.decode(errors='replace')[-800:]}\n"
            f"stderr tail: {err.decode(errors='replace')[-800:]}"
        )
    return Result(proc.returncode, out.decode(errors="replace"), err.decode(errors="replace"))


def _killpg(pgid):
    # A group whose processes have all ended frees its number, which a new process group
    # may take (another test run's, this run's own nox): only a group that still has
    # members is killed (while it has one, its number cannot be taken).
    if not _group_alive(pgid):
        return
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _group_alive(pgid):
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # state, ppid, pgrp
            return True
    return False


@pytest.fixture(autouse=True)
def _reap_process_groups():
    yield
    while _groups:
        _killpg(_groups.pop())


def _shared_dir(tmp_path_factory):
    # Under xdist every worker has its own basetemp below a common parent.
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def warm_up(tmp_path_factory):
    """One-time work of libraries (matplotlib's font cache) done outside any program, so
    it cannot print into whichever run happens to come first."""
    shared = _shared_dir(tmp_path_factory)
    with open(shared / "corpus-warmup.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = shared / "corpus-warmup.done"
        if not done.exists():
            _run(
                ["-c", "import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot"],
                cwd=shared,
            )
            done.write_text("ok")
    return shared


@pytest.fixture(scope="session")
def reference(warm_up, tmp_path_factory):
    """Reference result per program, computed once per session and interpreter (the
    first worker to need it computes it under a lock, the others read it)."""
    shared = warm_up
    memo = {}

    def get(name):
        if name not in memo:
            src = (CORPUS / f"{name}.py").read_bytes()
            key = hashlib.sha256(src + sys.executable.encode()).hexdigest()[:16]
            cache = shared / f"corpus-ref-{name}-{key}.json"
            with open(shared / f"corpus-ref-{name}.lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                if cache.exists():
                    memo[name] = Result(**json.loads(cache.read_text()))
                else:
                    work = tmp_path_factory.mktemp(f"ref-{name}")
                    memo[name] = _run(
                        [str(CORPUS / f"{name}.py"), str(work)], cwd=work, reference=True
                    )
                    cache.write_text(json.dumps(memo[name].as_dict()))
        return memo[name]

    return get


def _diff(label, want, got, limit=12):
    if want == got:
        return ""
    lines = list(
        difflib.unified_diff(
            want.splitlines(), got.splitlines(), "reference", label, n=1, lineterm=""
        )
    )
    more = f"\n... {len(lines) - limit} more diff lines" if len(lines) > limit else ""
    return f"{label} differs:\n" + "\n".join(lines[:limit]) + more + "\n"


_ERROR_LINE = re.compile(
    r"^(?:[\w.]+(?:Error|Exception|Exit|Interrupt|Warning)\b.*|teleporter: .*)$"
)


def _cause(ref, got):
    """One line saying what went wrong: the last error line of a traceback (or a
    teleporter one-liner) that the reference did not print, else a diff summary."""
    ref_lines = set(ref.stderr.splitlines())
    for line in reversed(got.stderr.splitlines()):
        if line not in ref_lines and _ERROR_LINE.match(line.strip()):
            return line.strip()
    if got.returncode != ref.returncode:
        return f"exit code {got.returncode}, reference {ref.returncode}"
    for label, want, have in (
        ("stdout", ref.stdout, got.stdout),
        ("stderr", ref.stderr, got.stderr),
    ):
        if want != have:
            w, h = want.splitlines(), have.splitlines()
            i = next((k for k, (a, b) in enumerate(zip(w, h)) if a != b), min(len(w), len(h)))
            first = lambda lines: repr(lines[i][:100]) if i < len(lines) else "<end>"  # noqa: E731
            return f"{label} line {i + 1}: reference {first(w)}, got {first(h)}"
    return "?"


def _check_reference(name, ref):
    want_code = EXIT_CODE.get(name, 0)
    problems = []
    if ref.returncode != want_code:
        problems.append(f"exit code {ref.returncode}, expected {want_code}")
    if name in STDERR_EXPECTED:
        if not ref.stderr:
            problems.append("stderr empty, expected output")
    elif ref.stderr:
        problems.append("unexpected stderr")
    if not ref.stdout.strip():
        problems.append("no stdout")
    if problems:
        pytest.fail(
            f"REFERENCE run of {name} is broken (a corpus/library problem, not a teleporter "
            f"one): {'; '.join(problems)}\nstderr:\n{ref.stderr[-3000:]}"
        )


def _check_refused(name, mode, ref, got):
    lines = got.stderr.strip().splitlines()
    last = lines[-1] if lines else ""
    prefix = "teleporter.errors.TeleportError: "
    if not (last.startswith(prefix) and re.search(REFUSED[name], last)):
        pytest.fail(
            f"{name} [{mode}] was expected to be refused ({REFUSED[name]}), got exit code "
            f"{got.returncode}: {_cause(ref, got)}\nstderr tail:\n" + "\n".join(lines[-6:]),
            pytrace=False,
        )
    assert got.returncode == 1, got.returncode
    assert ref.stdout.startswith(got.stdout), "the output before the move differs"


def test_every_program_moves_exactly_once():
    assert len(PROGRAMS) >= 40
    for name in PROGRAMS:
        text = (CORPUS / f"{name}.py").read_text()
        assert text.count(MOVE) == 1, name
    for name in set(EXIT_CODE) | STDERR_EXPECTED | set(REFUSED):
        assert name in PROGRAMS, name


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", PROGRAMS)
def test_corpus(name, mode, reference, tmp_path):
    ref = reference(name)
    _check_reference(name, ref)
    path = CORPUS / f"{name}.py"
    work = tmp_path / "work"
    work.mkdir()
    if mode == "teleport":
        got = _run([str(path), str(work)], cwd=work)
        report = ""
    else:
        src = tmp_path / "src"
        src.mkdir()
        copy = src / path.name
        copy.write_text(path.read_text().replace(MOVE, CHECKPOINT_AND_STOP))
        ckpt = tmp_path / "run.ckpt"
        env = {CKPT_VAR: str(ckpt)}
        first = _run([str(copy), str(work)], cwd=work, env=env)
        report = ""
        if first.returncode != 0 or not ckpt.exists():
            report = (
                f"checkpoint run exited {first.returncode} (checkpoint written: {ckpt.exists()})\n"
            )
            got = first
        else:
            second = _run(["-m", "teleporter", "resume", str(ckpt)], cwd=work, env=env)
            got = Result(
                second.returncode, first.stdout + second.stdout, first.stderr + second.stderr
            )
        # The copy's path stands where the program's own would in tracebacks.
        got.stdout = got.stdout.replace(str(copy), str(path))
        got.stderr = got.stderr.replace(str(copy), str(path))
    if name in REFUSED:
        _check_refused(name, mode, ref, got)
        return
    if got.returncode != ref.returncode:
        report += f"exit code {got.returncode}, reference {ref.returncode}\n"
    report += _diff(f"{mode} stdout", ref.stdout, got.stdout)
    report += _diff(f"{mode} stderr", ref.stderr, got.stderr)
    if report:
        cause = _cause(ref, got)
        tail = "\n".join(got.stderr.splitlines()[-6:])
        pytest.fail(f"{name} [{mode}]: {cause}\n{report}stderr tail:\n{tail}", pytrace=False)
