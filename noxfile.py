"""Sessions: tests-3.11, tests-3.12, tests-3.13, tests-debian-3.11, tests-3.14,
tests-3.15, sanitize, fuzz-smoke, lint; and, not run by CI, the benchmarks on every
supported version: bench-3.11 ... bench-3.15 (`nox -t bench`).

Every interpreter is looked up explicitly (pyenv's versions, then PATH), and a missing
one is an error, never a skip. 3.14 and 3.15 are Debian testing's, in the chroot that
scripts/forky-chroot makes: tests-3.14 runs nox there, whose session chroot-tests-3.14
runs the same tests as tests-3.11 does here.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess

import nox

nox.options.error_on_missing_interpreters = True
nox.options.reuse_existing_virtualenvs = False
nox.options.sessions = [
    "tests-3.11",
    "tests-3.12",
    "tests-3.13",
    "tests-debian-3.11",
    "tests-3.14",
    "tests-3.15",
    "sanitize",
    "fuzz-smoke",
    "lint",
]

VERSIONS = ["3.11", "3.12", "3.13"]
# Interpreters inside the chroot (scripts/forky-chroot), and its nox.
CHROOT_VERSIONS = ["3.14", "3.15"]
CHROOT_NOX = "/opt/teleporter-nox/bin/nox"


def _works(path: str) -> bool:
    try:
        return subprocess.run([path, "-c", "pass"], capture_output=True, timeout=30).returncode == 0
    except OSError:
        return False


def find_python(minor: str) -> str:
    """An absolute path to a CPython `minor` with its headers, or the bare name (which nox
    then reports as missing)."""
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    for cand in sorted(
        glob.glob(os.path.join(root, "versions", f"{minor}.*", "bin", f"python{minor}")),
        reverse=True,
    ):
        if _works(cand):
            return cand
    found = shutil.which(f"python{minor}")
    if found and _works(found):
        return found
    return f"python{minor}"


def _tests(session: nox.Session, others: list[str] = VERSIONS) -> None:
    # Dev build of the wheel: Debug, -Wall -Wextra -Wconversion -Werror, asserts on.
    session.env["TELEPORTER_DEV"] = "1"
    # The other interpreters, for refusals of a target of another version.
    session.env["TELEPORTER_TEST_PYTHONS"] = os.pathsep.join(find_python(m) for m in others)
    # The corpus's libraries (real programs use them), pinned: tests/corpus/requirements.txt;
    # cmake and ninja for the build's own refusals (test_launch.py).
    session.install("pytest", "cmake", "ninja", "-r", "tests/corpus/requirements.txt")
    session.install(".", "--no-cache-dir")
    session.chdir("tests")
    pytest = ("python", "-m", "pytest", "-q", "-p", "no:cacheprovider")
    if session.posargs:
        session.run(*pytest, *session.posargs)
        return
    session.run(*pytest, "--ignore=test_corpus.py")
    # The corpus: about 100 real-program runs, two at a time on the two cores.
    session.run(*pytest, "-n", "2", "test_corpus.py")


for _minor in VERSIONS:
    nox.session(name=f"tests-{_minor}", python=find_python(_minor))(_tests)

# Debian's own interpreter (3.11.2), built differently from pyenv's.
nox.session(name="tests-debian-3.11", python="/usr/bin/python3.11")(_tests)


def _chroot_tests(session: nox.Session) -> None:
    _tests(session, CHROOT_VERSIONS)


def _in_chroot(inner: str, doc: str) -> object:
    """A session that runs nox's session `inner` inside the chroot (made when missing)."""

    def run(session: nox.Session) -> None:
        args = [CHROOT_NOX, "--error-on-missing-interpreters", "-s", inner]
        if session.posargs:
            args += ["--", *session.posargs]
        session.run("scripts/forky-chroot", "run", *args, external=True)

    run.__doc__ = doc
    return run


for _minor in CHROOT_VERSIONS:
    # Run by nox inside the chroot, where python3.14/3.15 are Debian's.
    nox.session(name=f"chroot-tests-{_minor}", python=find_python(_minor))(_chroot_tests)
    nox.session(name=f"tests-{_minor}", python=False)(
        _in_chroot(
            f"chroot-tests-{_minor}",
            "The tests on Debian testing's CPython, inside the chroot (made when missing).",
        )
    )


@nox.session(python=find_python("3.12"))
def sanitize(session: nox.Session) -> None:
    """The tests against an AddressSanitizer + UndefinedBehaviorSanitizer build of the core.
    The interpreter is not instrumented, so the sanitizer runtimes are preloaded."""
    session.env["TELEPORTER_DEV"] = "1"
    session.env["TELEPORTER_SANITIZE"] = "address,undefined"
    session.install("pytest", "cmake", "ninja", "-r", "tests/corpus/requirements.txt")
    session.install(".", "--no-cache-dir")
    runtimes = [
        session.run("gcc", f"-print-file-name={lib}", silent=True, external=True).strip()
        for lib in ("libasan.so", "libubsan.so")
    ]
    session.env["LD_PRELOAD"] = ":".join(runtimes)
    # CPython itself keeps memory until exit: leak reports would be its own.
    session.env["ASAN_OPTIONS"] = "detect_leaks=0:abort_on_error=1"
    session.env["UBSAN_OPTIONS"] = "halt_on_error=1:print_stacktrace=1"
    session.chdir("tests")
    # The core's tests; the corpus (real libraries, unsanitized) and the Slurm jobs (the
    # command line and Slurm's daemons, no more of the core) run in the test sessions.
    session.run(
        "python",
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--ignore=test_corpus.py",
        "--ignore=test_slurm.py",
        *session.posargs,
    )


@nox.session(name="fuzz-smoke", python=find_python("3.12"))
def fuzz_smoke(session: nox.Session) -> None:
    """Each fuzz target for a bounded time (fuzz/fuzz_targets.txt), under ASan and UBSan."""
    session.install("cmake", "ninja")
    build = os.path.join("build", "fuzz")
    session.run("cmake", "-S", "fuzz", "-B", build, "-G", "Ninja")
    session.run("cmake", "--build", build)
    seconds = os.environ.get("TELEPORTER_FUZZ_SECONDS", "45")
    with open(os.path.join("fuzz", "fuzz_targets.txt")) as targets:
        for line in targets:
            if not line.strip() or line.startswith("#"):
                continue
            name, _source, corpus = line.split()
            seeds = sorted(glob.glob(os.path.join("fuzz", corpus, "*")))
            binary = os.path.join(build, f"fuzz_{name}")
            if _is_libfuzzer(binary):
                session.run(
                    binary,
                    f"-max_total_time={seconds}",
                    os.path.join("fuzz", corpus),
                    external=True,
                )
            else:
                session.run(binary, seconds, *seeds, external=True)


def _is_libfuzzer(binary: str) -> bool:
    with open(binary, "rb") as f:
        return b"LLVMFuzzerRunDriver" in f.read()


BENCH_SCRIPTS = (
    "bench_local_teleport.py",
    "bench_capture_per_frame.py",
    "bench_large_array.py",
    "bench_payload.py",
    "bench_checkpoint.py",
    "bench_ssh.py",
    "bench_threads.py",
    "bench_run.py",
    "bench_asyncio.py",
)


def _bench(session: nox.Session) -> None:
    """The benchmarks, against a Release build, each beside its baseline (not run by CI);
    `-- bench_x.py ...` runs those only."""
    session.install("numpy", "cloudpickle", "dill")
    session.install(".", "--no-cache-dir")
    chosen = [a for a in session.posargs if a.endswith(".py")]
    rest = [a for a in session.posargs if not a.endswith(".py")]
    for script in chosen or BENCH_SCRIPTS:
        session.run("python", f"benchmarks/{script}", *rest)


for _minor in VERSIONS:
    nox.session(name=f"bench-{_minor}", python=find_python(_minor), tags=["bench"])(_bench)


for _minor in CHROOT_VERSIONS:
    nox.session(name=f"chroot-bench-{_minor}", python=find_python(_minor))(_bench)
    nox.session(name=f"bench-{_minor}", python=False, tags=["bench"])(
        _in_chroot(
            f"chroot-bench-{_minor}",
            "The benchmarks on Debian testing's CPython, inside the chroot.",
        )
    )


@nox.session(python=find_python("3.11"))
def lint(session: nox.Session) -> None:
    session.install("ruff", "mypy")
    session.run("ruff", "check", "src", "tests", "noxfile.py", "benchmarks")
    session.run("ruff", "format", "--check", "src", "tests", "noxfile.py", "benchmarks")
    session.run("mypy", "--strict", "src/teleporter")
