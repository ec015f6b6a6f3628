"""What the benchmarks do around their measurements: progress lines, a fresh database and
dropping it, `stockline serve` on a free port and stopping it, and where the CPU went.

Used by the scripts in bench/ and by the load suite (bench/load/); both run with bench/ on
sys.path, so this is imported as `harness`.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

from psycopg import sql

from stockline import db

STOCKLINE = str(Path(sys.executable).with_name("stockline"))  # the command of the venv running the bench


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- databases -----------------------------------------------------------------------------

def create_database(server_url: str, prefix: str) -> str:
    """A new, empty database `<prefix>_<hex>` on the server of `server_url`; its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with db.connect(db.with_database(server_url, "postgres")) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return db.with_database(server_url, name)


def drop_database(url: str) -> None:
    with db.connect(db.with_database(url, "postgres")) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(db.database_name(url))))


# --- the server ----------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(url: str, workers: int, log_path: Path,
                 settings: dict[str, str]) -> tuple[subprocess.Popen, str]:
    """`stockline serve --workers N` on `url` with `settings` in its environment and its output
    in `log_path`; returns the process and its base URL once /ready answers. The server gets
    a process group of its own (its id is the process's): stop_server() reaches its workers
    through it, and process_cpu() tells their CPU apart."""
    port = _free_port()
    env = os.environ | {"DATABASE_URL": url, "SECRET_KEY": secrets.token_urlsafe(48)} | settings
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [STOCKLINE, "serve", "--port", str(port), "--workers", str(workers), "--no-access-log",
             "--no-init"], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(f"{base}/ready", timeout=1) as answer:  # noqa: S310 (our server)
                if answer.status == 200:
                    return server, base
        except OSError:
            time.sleep(0.2)
    stop_server(server)
    log = log_path.read_text(errors="replace")
    raise RuntimeError(f"stockline serve did not become ready:\n{log[-3000:]}")


def stop_server(server: subprocess.Popen) -> None:
    """SIGTERM to the server's process group (uvicorn and its workers), SIGKILL if it lingers."""
    if server.poll() is not None:
        return
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
    except ProcessLookupError:
        server.wait()


# --- where the CPU went --------------------------------------------------------------------

def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine so far (/proc/stat); (0, 0) elsewhere."""
    try:
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:9]]
    except (OSError, ValueError):
        return 0, 0
    return sum(fields) - fields[3] - fields[4], sum(fields)  # less idle and iowait


def process_cpu(group: int | None, database: str | None) -> dict[str, dict[int, float]]:
    """CPU seconds so far (user + system) by live process: "server", the processes of process
    group `group`; "postgres", the PostgreSQL backends serving `database` (on this machine)."""
    found: dict[str, dict[int, float]] = {"server": {}, "postgres": {}}
    backend = f" {database} " if database else None
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            seconds = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
            if group is not None and int(fields[2]) == group:  # fields: state, ppid, pgrp, ...
                found["server"][int(stat.parent.name)] = seconds
            elif backend and backend in (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                    errors="replace") and (stat.parent / "comm").read_text().startswith("postgres"):
                found["postgres"][int(stat.parent.name)] = seconds
        except (OSError, IndexError, ValueError):
            continue
    return found


def spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two readings of process_cpu() (a process started in between
    counts from nothing; one that ended in between is not seen)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())
