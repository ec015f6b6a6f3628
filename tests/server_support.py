"""`stockline serve` as a real process for the tests that need one (several workers, real
sockets, signals): started on a free port, waited for until /ready answers, stopped by a
signal, its log kept for assertions."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

STOCKLINE = str(Path(sys.executable).with_name("stockline"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class ServerProcess:
    """One `stockline serve` process tree (the supervisor and its workers)."""

    database_url: str
    data_dir: Path
    log_path: Path
    workers: int = 2
    port: int = field(default_factory=free_port)
    env: dict[str, str] = field(default_factory=dict)
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(48))  # tokens survive a restart
    process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_within: float = 60.0) -> ServerProcess:
        env = os.environ | {"DATABASE_URL": self.database_url, "SECRET_KEY": self.secret_key,
                            "STOCKLINE_ENV": "test", "STOCKLINE_DATA_DIR": str(self.data_dir)} | self.env
        with open(self.log_path, "ab") as out:
            self.process = subprocess.Popen(
                [STOCKLINE, "serve", "--workers", str(self.workers), "--port", str(self.port), "--no-access-log"],
                env=env, stdout=out, stderr=out)
        deadline = time.monotonic() + ready_within
        while True:
            assert self.process.poll() is None, self.log()
            try:
                if httpx.get(f"{self.base_url}/ready", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"stockline serve never became ready:\n{self.log()[-3000:]}"
            time.sleep(0.1)

    def worker_pids(self) -> set[int]:
        """The serving processes (not multiprocessing's resource tracker)."""
        import psutil

        pids = set()
        for child in psutil.Process(self.process.pid).children():
            try:
                if child.status() != psutil.STATUS_ZOMBIE and "spawn_main" in " ".join(child.cmdline()):
                    pids.add(child.pid)
            except psutil.Error:  # gone (or a zombie) since the list was read
                continue
        return pids

    def signal(self, sig: signal.Signals) -> None:
        self.process.send_signal(sig)

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM and wait; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
