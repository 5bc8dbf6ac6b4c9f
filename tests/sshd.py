"""A real OpenSSH server for tests and benchmarks: throwaway keys, a loopback port (or an
address inside a network namespace), and the client configuration that reaches it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path


class SSHServer:
    """A real OpenSSH server with throwaway host and user keys, and the client
    configuration that reaches it as host ``teleporter-test``: on a loopback port, or on
    `address` with its command run under `prefix` (e.g. in a network namespace)."""

    HOST = "teleporter-test"

    def __init__(self, root: Path, address: str = "127.0.0.1", prefix: tuple[str, ...] = ()):
        self.root = root
        sshd = shutil.which("sshd") or "/usr/sbin/sshd"
        if not os.path.exists(sshd):
            raise RuntimeError("sshd is not installed: run the tests through ./scripts/test-all")
        for name in ("host_key", "user_key", "other_key"):
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(root / name)],
                check=True,
            )
        (root / "authorized_keys").write_bytes((root / "user_key.pub").read_bytes())
        os.makedirs("/run/sshd", exist_ok=True)  # sshd's privilege separation directory
        self.port = _free_port() if address == "127.0.0.1" else 22
        (root / "sshd_config").write_text(
            f"Port {self.port}\n"
            f"ListenAddress {address}\n"
            f"HostKey {root / 'host_key'}\n"
            f"AuthorizedKeysFile {root / 'authorized_keys'}\n"
            f"PidFile {root / 'sshd.pid'}\n"
            "PermitRootLogin prohibit-password\n"
            "PasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\n"
            "UsePAM no\n"
            "StrictModes no\n"
            "PrintMotd no\n"
            "AcceptEnv LD_PRELOAD ASAN_OPTIONS UBSAN_OPTIONS\n"
        )
        # Under the sanitizer session the target's interpreter loads the instrumented
        # extension too: its sessions get the same preloaded runtimes (ssh passes no
        # environment otherwise).
        names = [k for k in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS") if k in os.environ]
        sanitizer = (
            "  SetEnv " + " ".join(f"{k}={os.environ[k]}" for k in names) + "\n" if names else ""
        )
        self.config = root / "ssh_config"
        self.config.write_text(
            f"Host {self.HOST} wrong-key\n"
            f"  HostName {address}\n"
            f"  Port {self.port}\n"
            "  IdentitiesOnly yes\n"
            "  UserKnownHostsFile /dev/null\n"
            "  StrictHostKeyChecking no\n"
            "  BatchMode yes\n"
            "  LogLevel ERROR\n"
            f"{sanitizer}"
            f"Host {self.HOST}\n"
            f"  IdentityFile {root / 'user_key'}\n"
            "Host wrong-key\n"
            f"  IdentityFile {root / 'other_key'}\n"
        )
        self.log = open(root / "sshd.log", "wb")
        self.proc = subprocess.Popen(
            [*prefix, sshd, "-D", "-e", "-f", str(root / "sshd_config")],
            # the server is not under test: no sanitizer runtime preloaded into it
            env={k: v for k, v in os.environ.items() if k != "LD_PRELOAD"},
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=self.log,
        )
        deadline = time.monotonic() + 20
        while True:
            probe = subprocess.run(
                [*self.command(), "true"], capture_output=True, stdin=subprocess.DEVNULL
            )
            if probe.returncode == 0:
                break
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("sshd did not start: " + (root / "sshd.log").read_text()[-2000:])
            time.sleep(0.1)

    def command(self, host: str = HOST) -> tuple[str, ...]:
        return ("ssh", "-F", str(self.config), host)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
