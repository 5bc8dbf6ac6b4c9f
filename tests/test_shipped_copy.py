"""The copy of teleporter shipped to a target without it: cached, and imported from the
cache only when nobody but this user could have written it and its files are exactly the
origin's (SHA-256); otherwise replaced by a fresh copy, or unpacked into a private
temporary directory, or refused in one line. The target is a Python without teleporter
(a bare virtual environment) reached through ``bash -c``."""

import os
import py_compile
import shutil
import stat
import subprocess
import sys
import textwrap

import pytest
from conftest import run_program

from teleporter import _target
from teleporter.transports import launcher

NOBODY = 65534


@pytest.fixture(scope="module")
def bare(tmp_path_factory):
    """A Python of this version without teleporter."""
    venv = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    probe = subprocess.run([python, "-c", "import teleporter"], capture_output=True, env=_env())
    assert probe.returncode != 0, "the target must lack teleporter"
    return python


def _env(**extra):
    """A clean environment for the target (a sanitizer run's preloaded runtime stays)."""
    keep = ("PATH", "HOME", "LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")
    return {**{k: v for k, v in os.environ.items() if k in keep}, **extra}


def hello(python, cache, tmp=None):
    """What the target's hello says, run as the launcher would run it (stdin closed after
    the hello: the target then leaves)."""
    source = open(_target.__file__).read() + f"\nmain({{'ship_id': {launcher.ship_id()!r}}})\n"
    extra = {"XDG_CACHE_HOME": str(cache), **({"TMPDIR": str(tmp)} if tmp else {})}
    r = subprocess.run(
        [python, "-c", source], stdin=subprocess.DEVNULL, capture_output=True, env=_env(**extra)
    )
    assert r.returncode == 0 and r.stderr == b"", r.stderr
    ((kind, body),) = _target.Frames().feed(r.stdout.split(_target.MAGIC, 1)[1])
    assert kind == b"H"
    return dict(line.partition("=")[::2] for line in body.decode().splitlines())


def move(tmp_path, python, cache, tmp=None):
    """Runs a program that teleports to `python` through bash -c and says where its
    teleporter came from; returns that path (and the run, for its output)."""
    env = {"XDG_CACHE_HOME": str(cache), "TMPDIR": str(tmp or tmp_path / "unused")}
    prog = tmp_path / "prog.py"
    prog.write_text(
        textwrap.dedent(
            f"""
            import os, teleporter
            origin = os.getpid()
            try:
                teleporter.teleport("bash", "-c", python={python!r}, env={env!r})
            except teleporter.TeleportError as e:
                print("refused:", e)
            print("moved", os.getpid() != origin, "from", os.path.dirname(teleporter.__file__))
            """
        )
    )
    # no PYTHONPATH: the target's Python must not find the origin's teleporter
    r = run_program(prog, env={"PYTHONPATH": None})
    out = r.stdout.decode()
    assert r.returncode == 0 and r.stderr == b"", r.stderr
    assert "PWNED" not in out
    return out, r


def home(cache):
    return cache / "teleporter" / launcher.ship_id()


def shipped(cache):
    """A program moved with `cache` gets teleporter from the cached copy: the line it
    prints."""
    return f"moved True from {home(cache) / 'teleporter'}\n"


def plant(dest, pyc=True):
    """A copy of teleporter with the right files at `dest`, plus (with `pyc`) bytecode
    that runs other code (see plant_bytecode)."""
    _target._unpack(launcher.archive(), str(dest))
    if pyc:
        plant_bytecode(dest)
    return dest


def plant_bytecode(dest):
    """Puts bytecode in the __pycache__ of the copy at `dest` that prints PWNED when
    teleporter is imported: Python uses an unchecked hash-based .pyc whatever the
    source says."""
    init = dest / "teleporter" / "__init__.py"
    evil = dest / "evil.py"
    evil.write_text(init.read_text() + '\nprint("PWNED", flush=True)\n')
    cfile = dest / "teleporter" / "__pycache__" / f"__init__.{sys.implementation.cache_tag}.pyc"
    py_compile.compile(
        str(evil),
        cfile=str(cfile),
        doraise=True,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    evil.unlink()


def would_run(python, dest):
    """Whether importing teleporter from `dest` (without the checks) runs the planted code:
    the planted copies really are harmful."""
    r = subprocess.run(
        [python, "-c", "import teleporter._supervisor"],
        capture_output=True,
        env=_env(PYTHONPATH=str(dest)),
    )
    return b"PWNED" in r.stdout


def sources(copy):
    """The files of a copy, outside __pycache__: {relative path: content}."""
    found = {}
    for root, _, names in os.walk(copy):
        if os.path.basename(root) != "__pycache__":
            for name in names:
                path = os.path.join(root, name)
                with open(path, "rb") as f:
                    found[os.path.relpath(path, copy)] = f.read()
    return found


def chown_tree(path, uid):
    for root, dirs, files in os.walk(path):
        for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
            os.lchown(name, uid, uid)


def need_root():
    if os.geteuid() != 0:
        pytest.fail("files of another user need root to make (the test command runs as root)")


# -- a usable cache -------------------------------------------------------------------


def test_the_cache_is_made_private_and_reused(tmp_path, bare):
    cache = tmp_path / "fresh" / "cache"  # nothing of it exists yet
    assert hello(bare, cache)["cached"] == ""
    out, _ = move(tmp_path, bare, cache)
    assert out == shipped(cache)
    for d in (cache, cache / "teleporter", home(cache)):
        assert stat.S_IMODE(os.stat(d).st_mode) == 0o700, d
    # nothing left beside the copy (the staging directory was renamed into place)
    assert os.listdir(cache / "teleporter") == [launcher.ship_id()]
    assert launcher.ship_id().rsplit("-", 1)[1] == _target._sha256(launcher.archive()).hexdigest()

    # The second time the hello vouches for the copy, so the origin sends no archive: the
    # target unpacks nothing (the cache's directory is not even touched).
    assert hello(bare, cache)["cached"] == "1"
    before = os.stat(cache / "teleporter").st_mtime_ns
    out, _ = move(tmp_path, bare, cache)
    assert out == shipped(cache)
    assert os.stat(cache / "teleporter").st_mtime_ns == before
    assert hello(bare, cache)["cached"] == "1"  # Python's bytecode beside it is fine


def test_a_cache_below_a_sticky_shared_directory_is_used(tmp_path, bare):
    """/tmp-like: world-writable but sticky, so nobody can replace what another made."""
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    cache = shared / "mine"
    move(tmp_path, bare, cache)
    assert hello(bare, cache)["cached"] == "1"
    out, _ = move(tmp_path, bare, cache)
    assert out == shipped(cache)


# -- a copy that was changed: replaced by a fresh one ---------------------------------


def _tamper_source(copy):
    init = copy / "teleporter" / "__init__.py"
    init.write_text(init.read_text() + '\nprint("PWNED", flush=True)\n')


def _plant_module(copy):
    # a package directory wins over the module of the same name
    evil = copy / "teleporter" / "_supervisor"
    evil.mkdir()
    (evil / "__init__.py").write_text('print("PWNED", flush=True)\n')


def _group_writable(copy):
    os.chmod(copy / "teleporter" / "_supervisor.py", 0o620)


def _foreign_file(copy):
    need_root()
    os.chown(copy / "teleporter" / "_supervisor.py", NOBODY, NOBODY)


def _link(copy):
    target = copy / "teleporter" / "_supervisor.py"
    shutil.move(target, copy / "elsewhere.py")
    os.symlink(copy / "elsewhere.py", target)


def _foreign_bytecode(copy):
    need_root()
    plant_bytecode(copy)
    (pyc,) = (copy / "teleporter" / "__pycache__").glob("__init__.*")
    os.chown(pyc, NOBODY, NOBODY)


def _open_bytecode_directory(copy):
    os.chmod(copy / "teleporter" / "__pycache__", 0o777)


def _missing(copy):
    os.unlink(copy / "teleporter" / "policy.py")


DAMAGE = {
    "changed-source": _tamper_source,
    "planted-module": _plant_module,
    "group-writable-file": _group_writable,
    "file-of-another-user": _foreign_file,
    "symlink": _link,
    "bytecode-of-another-user": _foreign_bytecode,
    "open-bytecode-directory": _open_bytecode_directory,
    "missing-file": _missing,
}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_a_changed_copy_is_replaced_never_run(tmp_path, bare, damage):
    cache = tmp_path / "cache"
    move(tmp_path, bare, cache)
    pristine = sources(home(cache))
    DAMAGE[damage](home(cache))
    if damage in ("changed-source", "planted-module", "bytecode-of-another-user"):
        assert would_run(bare, home(cache))
    assert hello(bare, cache)["cached"] == ""

    out, _ = move(tmp_path, bare, cache)  # PWNED never printed (checked by move)
    assert out == shipped(cache)
    assert hello(bare, cache)["cached"] == "1"
    now = sources(home(cache))
    assert now == pristine
    assert os.listdir(cache / "teleporter") == [launcher.ship_id()]


# -- a cache someone else could have written: not used --------------------------------


def test_a_copy_planted_by_another_user_is_not_used(tmp_path, bare):
    """The right sources, with bytecode that runs other code, owned by another user in a
    cache directory that user made: the target takes a private temporary copy."""
    need_root()
    cache = tmp_path / "cache"
    planted = plant(home(cache))
    assert would_run(bare, planted)
    chown_tree(cache / "teleporter", NOBODY)
    assert hello(bare, cache)["cached"] == ""
    tmp = tmp_path / "tmp"
    tmp.mkdir(mode=0o700)
    out, _ = move(tmp_path, bare, cache, tmp)
    (private,) = os.listdir(tmp)
    assert private.startswith("teleporter-")
    assert out == f"moved True from {tmp / private / 'teleporter'}\n"
    assert stat.S_IMODE(os.stat(tmp / private).st_mode) == 0o700


def test_a_copy_of_my_own_in_another_users_directory_is_not_used(tmp_path, bare):
    """Everything in the copy is mine, but the directory above it is another user's: they
    could have swapped the copy."""
    need_root()
    cache = tmp_path / "cache"
    plant(home(cache), pyc=False)
    _make_bytecode(bare, home(cache))
    os.chown(cache, NOBODY, NOBODY)
    assert hello(bare, cache)["cached"] == ""
    os.chown(cache, 0, 0)
    assert hello(bare, cache)["cached"] == "1"  # the same copy, once the chain is safe


def _make_bytecode(python, dest):
    subprocess.run([python, "-c", "import teleporter"], check=True, env=_env(PYTHONPATH=str(dest)))


def test_a_copy_below_a_world_writable_directory_is_not_used(tmp_path, bare):
    """A shared XDG_CACHE_HOME that others can write (not sticky): the planted copy
    belongs to this user, but another could have put it there."""
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    cache = shared / "cache"
    planted = plant(home(cache))
    assert would_run(bare, planted)
    assert hello(bare, cache)["cached"] == ""
    tmp = tmp_path / "tmp"
    tmp.mkdir(mode=0o700)
    out, _ = move(tmp_path, bare, cache, tmp)
    (private,) = os.listdir(tmp)
    assert out == f"moved True from {tmp / private / 'teleporter'}\n"
    # and the planted copy is still what it was: nothing of it was run or used
    assert would_run(bare, planted)


def test_no_safe_place_is_refused_in_one_line(tmp_path, bare):
    open_dirs = []
    for name in ("shared-cache", "shared-tmp"):
        d = tmp_path / name
        d.mkdir()
        os.chmod(d, 0o777)
        open_dirs.append(d)
    cache, tmp = open_dirs[0] / "cache", open_dirs[1]
    out, _ = move(tmp_path, bare, cache, tmp)
    refusal, stayed = out.splitlines()
    assert refusal == (
        "refused: the target could not take the program: cannot start teleporter at the "
        "target: no safe place for teleporter's code: not the cache "
        f"({open_dirs[0]} is writable by other users), nor a temporary directory "
        f"({tmp} is writable by other users)"
    )
    assert stayed.startswith("moved False from ")
    assert os.listdir(tmp) == []


def test_an_archive_that_does_not_match_its_checksum_is_refused(tmp_path):
    data = bytearray(launcher.archive())
    data[-1] ^= 1
    with pytest.raises(_target.Unusable, match="does not match its checksum"):
        _target._ship(bytes(data), launcher.ship_id())


@pytest.mark.parametrize("start", ["empty", "changed"])
def test_targets_shipping_at_once_share_one_copy(tmp_path, bare, start):
    """Several targets unpack at the same time into an empty cache, or over a changed
    copy: each is moved, from the one copy left in the cache, and nothing else remains."""
    cache = tmp_path / "cache"
    if start == "changed":
        move(tmp_path, bare, cache)
        _tamper_source(home(cache))
    env = {"XDG_CACHE_HOME": str(cache)}
    prog = tmp_path / "many.py"
    prog.write_text(
        "import os, teleporter\n"
        f"teleporter.teleport('bash', '-c', python={bare!r}, env={env!r})\n"
        "print('moved from', os.path.dirname(teleporter.__file__))\n"
    )
    environ = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    runs = [
        subprocess.Popen(
            [sys.executable, str(prog)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environ
        )
        for _ in range(4)
    ]
    results = [(r.communicate(timeout=120), r.returncode) for r in runs]
    for (out, err), code in results:
        assert (out.decode(), err, code) == (f"moved from {home(cache) / 'teleporter'}\n", b"", 0)
    assert os.listdir(cache / "teleporter") == [launcher.ship_id()]
    assert hello(bare, cache)["cached"] == "1"
