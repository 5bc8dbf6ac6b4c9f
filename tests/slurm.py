"""A real single-node Slurm for tests: munged, slurmctld and slurmd from Debian's packages,
as root, with a throwaway key, loopback ports, state and logs in a directory of the test's
own, and the environment (SLURM_CONF) that reaches it. Stopped by the test that started it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# What the daemons must not inherit from the test session (an AddressSanitizer preload).
_NOT_FOR_DAEMONS = ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")


class Slurm:
    """munged + slurmctld + slurmd on this host, one partition of one node with this
    machine's CPUs. A requeued job may start again 5 s after it ended (cred_expire; Slurm's
    default is 120 s)."""

    def __init__(self, root: Path):
        self.root = root
        for tool in ("munged", "mungekey", "slurmctld", "slurmd", "sbatch", "scontrol"):
            if shutil.which(tool) is None and not os.path.exists(f"/usr/sbin/{tool}"):
                raise RuntimeError(
                    f"{tool} is not installed: run the tests through scripts/test-all"
                )
        for d in ("state", "spool", "log", "munge"):
            (root / d).mkdir(parents=True, exist_ok=True)
        self.socket = root / "munge" / "munge.socket"
        host = socket.gethostname().split(".")[0]
        self.conf = root / "slurm.conf"
        self.conf.write_text(
            "ClusterName=teleporter\n"
            f"SlurmctldHost={host}(127.0.0.1)\n"
            f"SlurmctldPort={_free_port()}\n"
            f"SlurmdPort={_free_port()}\n"
            "AuthType=auth/munge\n"
            f"AuthInfo=socket={self.socket},cred_expire=5\n"
            "CredType=cred/munge\n"
            "SlurmUser=root\n"
            "SlurmdUser=root\n"
            f"StateSaveLocation={root / 'state'}\n"
            f"SlurmdSpoolDir={root / 'spool'}\n"
            f"SlurmctldPidFile={root / 'slurmctld.pid'}\n"
            f"SlurmdPidFile={root / 'slurmd.pid'}\n"
            f"SlurmctldLogFile={root / 'log' / 'slurmctld.log'}\n"
            f"SlurmdLogFile={root / 'log' / 'slurmd.log'}\n"
            "ProctrackType=proctrack/linuxproc\n"
            "TaskPlugin=task/none\n"
            "SelectType=select/cons_tres\n"
            "SelectTypeParameters=CR_Core\n"
            "JobAcctGatherType=jobacct_gather/none\n"
            "AccountingStorageType=accounting_storage/none\n"
            "MpiDefault=none\n"
            "ReturnToService=2\n"
            "SchedulerParameters=sched_interval=1\n"
            "JobRequeue=1\n"
            "KillWait=5\n"
            f"NodeName={host} NodeAddr=127.0.0.1 CPUs={os.cpu_count()} State=UNKNOWN\n"
            f"PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP\n"
        )
        self.env = {**os.environ, "SLURM_CONF": str(self.conf)}
        daemons = {k: v for k, v in self.env.items() if k not in _NOT_FOR_DAEMONS}
        self.pids: list[Path] = []
        key = root / "munge" / "munge.key"
        subprocess.run(["mungekey", "--create", "--keyfile", str(key), "--force"], check=True)
        key.chmod(0o600)
        self._start(
            [
                "munged",
                f"--key-file={key}",
                f"--socket={self.socket}",
                f"--pid-file={root / 'munge' / 'munged.pid'}",
                f"--log-file={root / 'log' / 'munged.log'}",
                f"--seed-file={root / 'munge' / 'seed'}",
                "--force",
            ],
            root / "munge" / "munged.pid",
            daemons,
        )
        self._start(["slurmctld", "-c", "-i"], root / "slurmctld.pid", daemons)
        self._start(["slurmd"], root / "slurmd.pid", daemons)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            r = self.run("sinfo", "-h", "-o", "%t")
            if r.returncode == 0 and r.stdout.strip() == "idle":
                return
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"Slurm did not come up: {self.logs()}")

    def _start(self, argv: list[str], pidfile: Path, env: dict[str, str]) -> None:
        subprocess.run(argv, check=True, env=env, stdin=subprocess.DEVNULL)
        self.pids.append(pidfile)

    def run(self, *argv: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        """A Slurm command against this cluster."""
        return subprocess.run(
            list(argv), capture_output=True, text=True, env=self.env, input=input, timeout=60
        )

    def job(self, job: str) -> dict[str, str]:
        """``scontrol show job``, as a dict (the fields this test needs)."""
        r = self.run("scontrol", "-o", "show", "job", job)
        fields: dict[str, str] = {}
        for word in r.stdout.split():
            if "=" in word:
                k, _, v = word.partition("=")
                fields.setdefault(k, v)
        return fields

    def wait(self, job: str, timeout: float = 120) -> dict[str, str]:
        """Waits until `job` (or every task of an array) has ended; its fields."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = self.run("squeue", "-h", "-j", job, "-o", "%i %T")
            if r.returncode == 0 and not r.stdout.strip():
                return self.job(job)
            time.sleep(0.3)
        raise AssertionError(f"job {job} still running after {timeout} s: {self.logs()}")

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n" + p.read_text(errors="replace")[-2000:]
            for p in sorted((self.root / "log").iterdir())
        )

    def stop(self) -> None:
        """Stops the daemons, the last started first, and waits until they have gone."""
        for pidfile in reversed(self.pids):
            try:
                pid = int(pidfile.read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
            else:
                os.kill(pid, signal.SIGKILL)
        self.pids.clear()
