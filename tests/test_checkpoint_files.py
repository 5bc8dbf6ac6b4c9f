"""The temporary file of a checkpoint: created exclusively under an unpredictable name,
mode 0600, locked while written; removed whatever stops the write; left behind only by a
writer killed outright, and then removed by the next checkpoint to the same path. Two
writers that share a PID (two PID namespaces on one volume) never disturb each other."""

import fcntl
import os
import stat
import subprocess
import sys
import textwrap
import time

import pytest

from teleporter import _checkpoint, _payload
from teleporter.errors import PayloadError

NOBODY = 65534  # another user, for files planted by "someone else"


def python(*args, **kw):
    return subprocess.run([sys.executable, *args], capture_output=True, timeout=120, **kw)


def temporaries(directory):
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def resume(ckpt, *args):
    return python("-m", "teleporter", "resume", *args, str(ckpt))


# ---- the file itself ---------------------------------------------------------------------


def test_temporary_names_are_random_exclusive_private_and_locked(tmp_path):
    old = os.umask(0)
    dfd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        temps = [_checkpoint._Temp(dfd, "run.ckpt") for _ in range(2)]
        for t in temps:
            t.create()
        names = [t.name for t in temps]
        assert names[0] != names[1]
        for name in names:
            assert _checkpoint._is_temp_of(name, "run.ckpt")
            assert name.startswith(".run.ckpt.") and len(name) == len(".run.ckpt..tmp") + 16
            st = os.lstat(tmp_path / name)
            assert stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
            # Its writer holds the lock: a clean-up cannot take it.
            fd = os.open(tmp_path / name, os.O_RDONLY)
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.close(fd)
        _checkpoint._remove_stale(dfd, "run.ckpt")
        assert temporaries(tmp_path) == sorted(names)  # live writers' files stay
        for t in temps:
            t.discard()
        assert temporaries(tmp_path) == []
    finally:
        os.close(dfd)
        os.umask(old)


def test_a_writer_whose_file_was_cleaned_up_before_its_lock_starts_over(tmp_path, monkeypatch):
    """The instant between creating the file and locking it: a clean-up that takes it for
    a dead writer's removes it; the writer sees that once it holds the lock and picks a
    new file."""
    dfd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    real_flock = fcntl.flock
    raced = []

    def flock_after_a_cleanup(fd, op):
        if not raced:
            raced.append(True)
            _checkpoint._remove_stale(dfd, "run.ckpt")  # the file is not locked yet
        return real_flock(fd, op)

    monkeypatch.setattr(fcntl, "flock", flock_after_a_cleanup)
    try:
        t = _checkpoint._Temp(dfd, "run.ckpt")
        t.create()
        assert raced and temporaries(tmp_path) == [t.name]
        assert os.fstat(t.fd).st_nlink == 1
        t.discard()
    finally:
        os.close(dfd)


SIMPLE = textwrap.dedent(
    """
    import os, sys
    import teleporter
    os.umask(0)
    value = 42
    if teleporter.checkpoint(sys.argv[1]):
        print("resumed", value)
    else:
        print("written")
    """
)


def test_files_at_a_predicted_name_are_never_written_through(tmp_path):
    """Someone who knew the name a writer picks (here: forced) and made a link or a file
    there gets nothing: the writer picks another name, the checkpoint is private."""
    victim = tmp_path / "victim"
    victim.write_text("untouched")
    forced = ["0123456789abcdef", "fedcba9876543210"]
    link = tmp_path / f".run.ckpt.{forced[0]}.tmp"
    planted = tmp_path / f".run.ckpt.{forced[1]}.tmp"
    link.symlink_to(victim)
    planted.touch()
    os.chmod(planted, 0o666)
    for p in (link, planted):
        os.lchown(p, NOBODY, NOBODY)
    prog = tmp_path / "prog.py"
    prog.write_text(
        "import secrets\n"
        f"_forced = {forced!r}\n"
        "_real = secrets.token_hex\n"
        "secrets.token_hex = lambda n: _forced.pop(0) if _forced else _real(n)\n" + SIMPLE
    )
    ckpt = tmp_path / "run.ckpt"
    r = python(str(prog), str(ckpt))
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout == b"written\n"
    assert victim.read_text() == "untouched"
    assert planted.stat().st_size == 0 and os.readlink(link) == str(victim)
    assert stat.S_IMODE(ckpt.stat().st_mode) == 0o600  # even with umask 0
    assert temporaries(tmp_path) == sorted([link.name, planted.name])  # another user's
    r = resume(ckpt)
    assert (r.returncode, r.stdout, r.stderr) == (0, b"resumed 42\n", b"")


# ---- every way a write can stop -------------------------------------------------------------

FAILING = textwrap.dedent(
    """
    import os, sys
    import teleporter
    from teleporter import _checkpoint, _payload

    CKPT = sys.argv[1]
    HOW = sys.argv[2]

    class NotRebuilt:  # pickled fine; rebuilding it (int("no")) fails
        def __reduce__(self):
            return (int, ("no",))

    def leftovers():
        d = os.path.dirname(CKPT)
        return sorted(n for n in os.listdir(d) if n.endswith(".tmp"))

    def children():
        try:
            os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return "none"
        return "some"

    def partial_then(exc):
        real = _payload.write
        def write(fd, *args, **kw):
            os.write(fd, b"secret" * 1000)  # part of the checkpoint is on disk
            raise exc
        _payload.write = write

    def once(module, name, exc):
        real = getattr(module, name)
        def fail(*args, **kw):
            setattr(module, name, real)
            raise exc
        setattr(module, name, fail)

    step = 1
    teleporter.checkpoint(CKPT)
    step = 2
    if HOW == "payload-oserror":
        partial_then(OSError(28, "No space left on device"))
    elif HOW == "payload-interrupt":
        partial_then(KeyboardInterrupt())
    elif HOW == "fsync-interrupt":
        once(os, "fsync", KeyboardInterrupt())
    elif HOW == "verdict-interrupt":
        once(_checkpoint._Trial, "verdict", KeyboardInterrupt())
    elif HOW == "replace-interrupt":
        once(os, "replace", KeyboardInterrupt())
    elif HOW == "trial-fails":
        bad = NotRebuilt()
    try:
        teleporter.checkpoint(CKPT)
    except teleporter.TeleportError as e:
        print("refused:", str(e).split(":")[0])
    except KeyboardInterrupt:
        print("interrupted")
    bad = None
    print("left:", leftovers(), "children:", children(), "step", step)
    """
)


@pytest.mark.parametrize(
    "how, said",
    [
        ("payload-oserror", "refused: cannot write the checkpoint '{ckpt}'"),
        ("payload-interrupt", "interrupted"),
        ("fsync-interrupt", "interrupted"),
        ("verdict-interrupt", "interrupted"),
        ("replace-interrupt", "interrupted"),
        ("trial-fails", "refused: cannot checkpoint"),
    ],
)
def test_whatever_stops_a_write_removes_its_temporary_file(tmp_path, how, said):
    prog = tmp_path / "prog.py"
    prog.write_text(FAILING)
    ckpt = tmp_path / "run.ckpt"
    r = python(str(prog), str(ckpt), how)
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout.decode().splitlines() == [
        said.format(ckpt=ckpt),
        "left: [] children: none step 2",
    ]
    assert temporaries(tmp_path) == []
    # The previous checkpoint is intact: it resumes from the first call.
    again = resume(ckpt)
    assert again.returncode == 0, again.stderr.decode()
    assert again.stdout.decode().splitlines()[-1] == "left: [] children: none step 2"


# ---- writers killed outright ------------------------------------------------------------

KILLED = textwrap.dedent(
    """
    import sys
    import numpy as np
    import teleporter
    CKPT = sys.argv[1]
    generation = 1
    teleporter.checkpoint(CKPT)
    print("written", generation, flush=True)
    if generation == 1:
        generation = 2
        big = np.ones(160 * 2**20 // 8)
        teleporter.checkpoint(CKPT)
    print("generation", generation)
    """
)


def test_a_killed_writers_temporary_file_is_removed_by_the_next_checkpoint(tmp_path):
    prog = tmp_path / "prog.py"
    prog.write_text(KILLED)
    ckpt = tmp_path / "run.ckpt"
    p = subprocess.Popen([sys.executable, str(prog), str(ckpt)], stdout=subprocess.PIPE)
    assert p.stdout.readline() == b"written 1\n"
    deadline = time.monotonic() + 60

    def written_to():  # the file exists and part of the checkpoint is in it
        for name in temporaries(tmp_path):
            try:
                if (tmp_path / name).stat().st_size:
                    return True
            except FileNotFoundError:
                pass
        return False

    while not written_to():
        assert time.monotonic() < deadline and p.poll() is None
        time.sleep(0.001)
    p.kill()
    p.wait()
    p.stdout.close()
    stale = temporaries(tmp_path)
    assert len(stale) == 1 and (tmp_path / stale[0]).stat().st_size > 0
    # Beside it: files the clean-up must keep.
    other_user = tmp_path / ".run.ckpt.00000000000000aa.tmp"
    other_user.write_bytes(b"theirs")
    os.chown(other_user, NOBODY, NOBODY)
    link = tmp_path / ".run.ckpt.00000000000000bb.tmp"
    link.symlink_to(tmp_path / "prog.py")
    other_target = tmp_path / ".other.ckpt.00000000000000cc.tmp"
    other_target.write_bytes(b"another checkpoint's")
    live = tmp_path / ".run.ckpt.00000000000000dd.tmp"
    live.write_bytes(b"a live writer's")
    held = os.open(live, os.O_RDONLY)
    fcntl.flock(held, fcntl.LOCK_EX)  # as a writer at work holds it
    try:
        r = resume(ckpt)  # generation 1 again: it checkpoints to the same path
    finally:
        os.close(held)
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout.decode().splitlines() == ["written 1", "generation 2"]
    assert temporaries(tmp_path) == sorted(p.name for p in (other_user, link, other_target, live))
    assert prog.read_text() == KILLED


# ---- two writers, one PID ------------------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import os, sys
    import teleporter
    path, count, tag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    print(os.getpid(), flush=True)
    for i in range(count):
        if teleporter.checkpoint(path):
            print("resumed", tag, i)
            break
    else:
        print("wrote", count)
    """
)


def test_writers_with_the_same_pid_never_corrupt_each_other(tmp_path):
    """Two writers in two PID namespaces (both are PID 1 there) checkpoint to the same
    path 150 times each, at the same time; whenever the file is read it is whole."""
    if os.geteuid() != 0:
        pytest.fail("PID namespaces need root (the test command runs as root)")
    prog = tmp_path / "writer.py"
    prog.write_text(WRITER)
    ckpt = tmp_path / "run.ckpt"
    count = 150
    writers = [
        subprocess.Popen(
            ["unshare", "--pid", "--fork", sys.executable, str(prog), str(ckpt), str(count), tag],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for tag in ("a", "b")
    ]
    reads = 0
    while any(w.poll() is None for w in writers):
        time.sleep(0.002)  # the writers need the CPUs more
        try:
            fd = os.open(ckpt, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            _payload.describe(fd)  # every byte checked
            reads += 1
        except PayloadError as e:
            pytest.fail(f"read a damaged checkpoint after {reads} good reads: {e}")
        finally:
            os.close(fd)
    outs = [w.communicate() for w in writers]
    for w, (out, err) in zip(writers, outs):
        assert w.returncode == 0, err.decode()
        assert err == b""
    assert [out.split() for out, _ in outs] == [[b"1", b"wrote", b"150"]] * 2
    assert reads > 10
    assert temporaries(tmp_path) == []
    r = resume(ckpt)
    assert r.returncode == 0, r.stderr.decode()
    said = r.stdout.decode().split()
    assert said[0] == "resumed" and said[1] in ("a", "b") and int(said[2]) < count
