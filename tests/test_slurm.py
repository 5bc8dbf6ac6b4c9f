"""Preemptible jobs on a real Slurm (one node, started and stopped here): a program
submitted with ``teleporter sbatch``, warned with USR2 in the middle of its work
(``scancel --signal=USR2 --batch``, what ``--signal=B:USR2@N`` does before a time limit),
checkpoints, requeues its job, continues when the job runs again, and its output file
reads exactly as the output of a run that was never stopped."""

import os
import sys
import time

import pytest
from conftest import HERE, run_python
from slurm import Slurm

TRAIN = HERE / "slurm_jobs" / "train.py"


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    cluster = Slurm(tmp_path_factory.mktemp("slurm"))
    try:
        yield cluster
    finally:
        cluster.stop()


def _submit(slurm, *options):
    r = slurm.run(sys.executable, "-m", "teleporter", "sbatch", "--parsable", *options, str(TRAIN))
    assert r.returncode == 0, r.stderr
    return r.stdout.strip().split(";")[0]


def _when_printed(slurm, path, line, job, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and line in path.read_text():
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} never showed {line!r}: {slurm.job(job)}\n{slurm.logs()}")


def _reference(task):
    r = run_python(str(TRAIN), env={"SLURM_ARRAY_TASK_ID": str(task)})
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout.decode()


def _said_requeued(text, ckpt, job):
    """teleporter's line, then only Slurm's own note of the requeue's end of the run."""
    ours, *slurms = text.splitlines()
    assert ours == (
        f"teleporter: checkpoint of the program written to {ckpt} on SIGUSR2; the Slurm "
        f"job {job} is requeued and continues when it runs again"
    ), text
    for line in slurms:
        assert "CANCELLED AT" in line and "DUE TO JOB REQUEUE" in line, text


def test_a_warned_job_checkpoints_requeues_itself_and_ends_as_if_never_stopped(slurm, tmp_path):
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    job = _submit(slurm, f"--output={out}", f"--error={err}", f"--chdir={tmp_path}")
    _when_printed(slurm, out, "task 0 step 8 ", job)
    r = slurm.run("scancel", "--signal=USR2", "--batch", job)
    assert r.returncode == 0, r.stderr
    fields = slurm.wait(job)
    assert (fields["JobState"], fields["ExitCode"], fields["Restarts"]) == (
        "COMPLETED",
        "0:0",
        "1",
    ), (fields, err.read_text(), slurm.logs())
    assert out.read_text() == _reference(0)
    # The default checkpoint: next to the script's name in the submission directory, gone
    # once the program ended.
    ckpt = f"{os.getcwd()}/train.slurm-{job}.ckpt"
    _said_requeued(err.read_text(), ckpt, job)
    assert not os.path.exists(ckpt)


def test_a_job_array_with_one_task_warned_ends_as_if_none_was(slurm, tmp_path):
    job = _submit(
        slurm,
        "--array=0-3",
        f"--output={tmp_path}/out_%a.txt",
        f"--error={tmp_path}/err_%a.txt",
        f"--checkpoint={tmp_path}/ckpt_$SLURM_ARRAY_TASK_ID",
    )
    _when_printed(slurm, tmp_path / "out_2.txt", "task 2 step 8 ", job)
    r = slurm.run("scancel", "--signal=USR2", "--batch", f"{job}_2")
    assert r.returncode == 0, r.stderr
    slurm.wait(job)
    for task in range(4):
        fields = slurm.job(f"{job}_{task}")
        restarts = "1" if task == 2 else "0"
        assert (fields["JobState"], fields["ExitCode"], fields["Restarts"]) == (
            "COMPLETED",
            "0:0",
            restarts,
        ), (task, fields)
        assert (tmp_path / f"out_{task}.txt").read_text() == _reference(task), task
        said = (tmp_path / f"err_{task}.txt").read_text()
        if task == 2:
            task_job = fields["JobId"]
            _said_requeued(said, f"{tmp_path}/ckpt_2", task_job)
        else:
            assert said == "", said
        assert not (tmp_path / f"ckpt_{task}").exists()


def test_the_batch_script_and_what_is_refused(tmp_path):
    """``teleporter sbatch --print`` shows the batch script: requeue, appended output, the
    USR2 warning before the time limit, ``teleporter run --requeue`` exec'd as the batch
    shell; options teleporter does not know go to sbatch. ``run --requeue`` outside a
    Slurm job is refused in one line."""
    r = run_python(
        "-m", "teleporter", "sbatch", "--print", "--warn", "300", "--time=1:00", str(TRAIN), "a"
    )
    assert r.returncode == 0, r.stderr.decode()
    script = r.stdout.decode()
    for line in (
        "#!/bin/sh",
        "#SBATCH --job-name=train",
        "#SBATCH --requeue",
        "#SBATCH --open-mode=append",
        "#SBATCH --signal=B:USR2@300",
    ):
        assert line in script.splitlines(), script
    last = script.splitlines()[-1]
    assert last.startswith(f"exec {sys.executable} -m teleporter run --requeue --signal USR2 ")
    assert last.endswith(f"-- {TRAIN} a"), last
    assert ".slurm-${SLURM_ARRAY_JOB_ID:-$SLURM_JOB_ID}" in last
    assert "--time" not in script  # sbatch's own option: given to sbatch, not written here
    r = run_python("-m", "teleporter", "run", "--requeue", str(TRAIN), env={"SLURM_JOB_ID": None})
    assert r.returncode == 2 and r.stdout == b""
    assert r.stderr.decode() == (
        "teleporter: run: --requeue works in a Slurm batch job only (SLURM_JOB_ID is not set)\n"
    )
    r = run_python("-m", "teleporter", "sbatch", "--print", str(tmp_path / "missing.py"))
    assert (r.returncode, r.stderr.decode()) == (
        2,
        f"teleporter: sbatch: no such script: {tmp_path / 'missing.py'}\n",
    )
