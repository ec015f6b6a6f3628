"""`stockline cluster test`: the whole topology under the load suite's mix, with faults.

1. The topology (`Topology`: primary, replica, PgBouncer, Redis, N nodes, HAProxy) in a
   scratch folder, seeded by the seed procedure with modest sizes.
2. The load suite's mix (`stockline bench load --host <balancer> --no-setup`: Locust and
   bench/locustfile.py, customers and one staff user) through the balancer for --duration,
   every request written to a request log (LOAD_REQUEST_LOG) with its times, status, where
   its reads ran and, for a checkout, its Idempotency-Key and order.
3. Faults, one after another, at fixed fractions of the duration from the first request
   (each later if the one before is still running), each with a window from its injection
   until the system is healthy again, plus GRACE_SECONDS (requests already in flight when
   health returns, and HAProxy's next check, finish within it):
   - node_kill (15 %): SIGKILL to one node's process group; healthy when HAProxy marks it
     DOWN. Then it is started again and must become UP (ready, then two good checks): after
     the window, so a 5xx while it rejoins counts against the run.
   - pgbouncer_restart (45 %): PgBouncer stopped and started on its port; healthy when it
     accepts connections and every node answers /ready with 200.
   - replica_lag (70 %): replay paused on the replica for a fifth of the duration (3 to 8 s),
     then resumed; healthy when the replica has replayed what the primary had written. The
     nodes run with REPLICA_MAX_LAG_SECONDS=2 (NODE_ENV), so the pause takes the replica
     past that bound and their fallback to the primary is exercised, not only stale reads.
4. After the load: the orders (every order a 2xx checkout answer named must be in the
   database; the database's orders since the load started that no answer named must be
   explained by a checkout with their Idempotency-Key that got an error inside a window),
   the replica's share of routed reads (the nodes' /metrics, sampled every second so a
   restarted node's counts are kept; and the X-Stockline-Read headers), `stockline check`
   (stockline.invariants over a direct connection to the primary), HAProxy's retries.
5. Everything stopped (also on failure or Ctrl-C); the summary printed and, with --json,
   written. Exit 0 when it passed (stockline.cluster.verdict), 1 when not (the reason in
   one line), 2 when it could not run (a Debian package or Locust missing, the topology
   did not start, the load suite did not run).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.util import find_spec
from pathlib import Path
from typing import Any, TextIO

import psycopg

from stockline.bench_cli import SUITE, duration, think_time
from stockline.cli_args import add_command, whole_number
from stockline.cluster.components import (
    AppNode,
    ClusterError,
    MissingPackage,
    http_status,
    http_text,
    missing_packages,
    service_account,
    wait_for,
)
from stockline.cluster.topology import Logins, SeedSizes, Topology
from stockline.cluster.verdict import judge, read_request_log, render
from stockline.invariants import check_invariants

GRACE_SECONDS = 1.0
FAULTS = (("node_kill", 0.15), ("pgbouncer_restart", 0.45), ("replica_lag", 0.70))
FIRST_REQUEST_SECONDS = 120.0  # the load suite starting Locust and the first answer
HEALTHY_SECONDS = 30.0  # each fault's recovery must happen within this
MIN_DURATION_S = 15
# the nodes stop reading from a replica this far behind (the default is 5 s): the replica_lag
# fault's pause (3 to 8 s) then crosses it, and the fallback to the primary is exercised too
NODE_ENV = {"REPLICA_MAX_LAG_SECONDS": "2"}


class Unavailable(ClusterError):
    """The scenario cannot run here (not a fault of the cluster)."""


@dataclass
class ScenarioOptions:
    nodes: int = 2
    duration_s: int = 30
    users: int = 40
    think_time: str = "0.2-1"
    workers: int = 1
    seed: SeedSizes = field(default_factory=lambda: SeedSizes(customers=60, products=40, skus=150,
                                                              batches=1200))


def _say(out: TextIO | None, text: str) -> None:
    if out is not None:
        print(text, file=out, flush=True)


# --- the nodes' read counters ------------------------------------------------------------------

_READS = re.compile(r'^stockline_db_reads_total\{(?P<labels>[^}]*)\}\s+(?P<value>\S+)$', re.MULTILINE)
_LABEL = re.compile(r'(\w+)="([^"]*)"')


def parse_reads(text: str) -> Counter[tuple[str, str]]:
    """stockline_db_reads_total{served_by=..., reason=...} from a /metrics page."""
    counts: Counter[tuple[str, str]] = Counter()
    for match in _READS.finditer(text):
        labels = dict(_LABEL.findall(match["labels"]))
        counts[(labels.get("served_by", "?"), labels.get("reason", "?"))] += int(float(match["value"]))
    return counts


class ReadSampler:
    """Every node's routed-read counters, sampled every second in a thread of its own. A
    node's counters start from zero when it is started again: what it had counted before
    (its last sample, and one taken just before it is killed) is kept."""

    def __init__(self, nodes: list[AppNode], token: str, every: float = 1.0) -> None:
        self.nodes = nodes
        self.token = token
        self.every = every
        self.kept: dict[str, Counter[tuple[str, str]]] = {node.name: Counter() for node in nodes}
        self.last: dict[str, Counter[tuple[str, str]]] = {node.name: Counter() for node in nodes}
        self.restarts_seen = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="read-sampler", daemon=True)

    def sample(self, node: AppNode) -> bool:
        request = urllib.request.Request(f"{node.url}/metrics",  # noqa: S310 - our own http URL
                                         headers={"Authorization": f"Bearer {self.token}"})
        try:
            with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
                counts = parse_reads(response.read().decode())
        except OSError:
            return False
        with self._lock:
            last = self.last[node.name]
            if any(counts[key] < value for key, value in last.items()):  # the node started afresh
                self.kept[node.name] += last
                self.restarts_seen += 1
            self.last[node.name] = counts
        return True

    def totals(self) -> Counter[tuple[str, str]]:
        with self._lock:
            total: Counter[tuple[str, str]] = Counter()
            for name in self.kept:
                total += self.kept[name] + self.last[name]
            return total

    def _loop(self) -> None:
        while not self._stop.wait(self.every):  # a pace: sample, then wait a second
            for node in self.nodes:
                self.sample(node)

    def start(self) -> ReadSampler:
        for node in self.nodes:
            self.sample(node)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)


def read_share(before: Counter[tuple[str, str]], after: Counter[tuple[str, str]],
               approximate: bool) -> dict[str, Any]:
    counts = after - before
    by_served = Counter()
    for (served_by, _reason), count in counts.items():
        by_served[served_by] += count
    total = sum(by_served.values())
    return {"total": total, "replica": by_served.get("replica", 0), "primary": by_served.get("primary", 0),
            "by_reason": {f"{served}/{reason}": count for (served, reason), count in sorted(counts.items())},
            "replica_share": round(by_served.get("replica", 0) / total, 3) if total else None,
            "approximate": approximate}


# --- the load ----------------------------------------------------------------------------------

class Load:
    """The load suite's mix, as a program of its own (`stockline bench load --host ...`), in a
    process group of its own (so a Ctrl-C here reaches it only through `interrupt`)."""

    def __init__(self, topology: Topology, options: ScenarioOptions, folder: Path) -> None:
        assert topology.haproxy is not None
        self.folder = folder
        self.request_log = folder / "requests.jsonl"
        self.log_path = folder / "load.log"
        folder.mkdir(parents=True, exist_ok=True)
        staff = 1  # one staff user (dashboard, reports, orders), the rest customers
        self.argv = [sys.executable, "-m", "stockline.cli", "bench", "load", "--host", topology.haproxy.url,
                     "--no-setup", "--no-baselines", "--users", str(options.users),
                     "--duration", f"{options.duration_s}s", "--think-time", options.think_time,
                     "--customers", f"1-{max(1, options.users - staff)}",
                     "--staff-share", f"{min(0.5, 1 / options.users):.4f}",
                     "--out", str(folder / "suite")]
        # passwords through the environment, never the command line (any user may read that)
        self.env = {key: value for key, value in os.environ.items()
                    if not key.startswith(("DATABASE_", "REDIS_", "LOAD_"))} | {
            "LOAD_PASSWORD": topology.logins.customer_password,
            "LOAD_STAFF_USER": topology.logins.staff_username,
            "LOAD_STAFF_PASSWORD": topology.logins.staff_password,
            "LOAD_REQUEST_LOG": str(self.request_log)}
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at: float | None = None

    def start(self) -> Load:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self.argv, env=self.env, cwd=self.folder,  # noqa: S603 - ours
                                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        self.started_at = time.time()
        return self

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def first_request_at(self) -> float:
        """When the first request of the mix started (epoch seconds); ClusterError when the
        suite ends or nothing is answered in time."""
        def first() -> float | None:
            if not self.running() and not self.request_log.exists():
                raise ClusterError(f"the load suite ended before its first request (status "
                                   f"{self.process.returncode if self.process else '?'}); {self.tail()}")
            if not self.request_log.exists():
                return None
            with open(self.request_log) as handle:
                line = handle.readline()
            if not line.endswith("\n"):
                return None
            return float(json.loads(line)["start"])

        return wait_for("the load suite's first request", first, FIRST_REQUEST_SECONDS, every=0.1)

    def wait(self, seconds: float) -> int:
        assert self.process is not None
        try:
            return self.process.wait(seconds)
        except subprocess.TimeoutExpired:
            raise ClusterError(f"the load suite did not end within {seconds:.0f} s") from None

    def interrupt(self, bound: float = 30.0) -> None:
        """Stop the suite (SIGINT to its group: Locust stops its users), SIGKILL after a bound."""
        if not self.running():
            return
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(bound)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def tail(self, chars: int = 1500) -> str:
        try:
            return "the load suite's log ends:\n" + self.log_path.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return "no load suite log"


# --- the faults --------------------------------------------------------------------------------

class Window:
    """One fault: when it was injected, when the system was healthy again, what happened."""

    def __init__(self, name: str, origin: float) -> None:
        self.name = name
        self.origin = origin
        self.start = time.time()
        self.healthy_at: float | None = None
        self.what: list[str] = []
        self.details: dict[str, Any] = {}
        self.error: str | None = None

    def note(self, text: str) -> None:
        self.what.append(f"{time.time() - self.origin:6.2f} s  {text}")

    def healthy(self) -> None:
        self.healthy_at = time.time()
        self.note(f"healthy again after {self.healthy_at - self.start:.2f} s")

    def record(self) -> dict[str, Any]:
        end = None if self.healthy_at is None else self.healthy_at + GRACE_SECONDS
        return {"name": self.name, "start": self.start, "end": end, "what": self.what,
                "details": self.details, "error": self.error}


def _every_node_ready(topology: Topology) -> None:
    for node in topology.nodes:
        wait_for(f"{node.name} answering /ready with 200", lambda node=node: http_status(
            f"{node.url}/ready") == 200, HEALTHY_SECONDS, every=0.1)


def kill_a_node(topology: Topology, window: Window, sampler: ReadSampler | None) -> None:
    assert topology.haproxy is not None
    victim = topology.nodes[0]
    if sampler is not None:
        sampler.sample(victim)  # what it counted, kept before its counters die with it
    window.start = time.time()
    victim.kill()
    window.note(f"{victim.name} killed (SIGKILL to its process group)")
    topology.haproxy.wait_state(victim.name, "DOWN", HEALTHY_SECONDS)
    window.note(f"HAProxy marked {victim.name} DOWN")
    window.details["marked_down_after_s"] = round(time.time() - window.start, 2)
    window.healthy()


def restart_the_node(topology: Topology, window: Window) -> None:
    """After the kill's window: the node started again, ready, and UP in HAProxy."""
    assert topology.haproxy is not None
    victim = topology.nodes[0]
    started = time.time()
    victim.start(ready_within=60.0)
    window.note(f"{victim.name} started again, /ready 200 after {time.time() - started:.2f} s")
    topology.haproxy.wait_state(victim.name, "UP", HEALTHY_SECONDS)
    window.note(f"HAProxy marked {victim.name} UP")
    window.details["back_up_after_s"] = round(time.time() - started, 2)
    topology.write_state()  # its new pid, for `stockline cluster down` should this run be cut short


def restart_pgbouncer(topology: Topology, window: Window, _sampler: ReadSampler | None) -> None:
    assert topology.bouncer is not None
    topology.bouncer.restart()
    window.note("PgBouncer stopped and started again, accepting connections")
    window.details["pgbouncer_back_after_s"] = round(time.time() - window.start, 2)
    _every_node_ready(topology)
    window.note("every node answers /ready with 200")
    window.healthy()


def lag_the_replica(topology: Topology, window: Window, _sampler: ReadSampler | None,
                    pause_seconds: float = 4.0) -> None:
    assert topology.replica is not None
    replica = topology.replica
    replica.pause_replay()
    window.note(f"replay paused on the replica for {pause_seconds:g} s")
    most, states = 0, Counter()
    until = time.time() + pause_seconds
    while time.time() < until:  # the fault lasts this long; meanwhile, see what it does
        with contextlib.suppress(OSError, psycopg.Error):
            most = max(most, replica.replay_lag_bytes())
        for node in topology.nodes:
            with contextlib.suppress(OSError, ValueError):
                answer = json.loads(http_text(f"{node.url}/ready", timeout=1))
                states[str((answer.get("replica") or {}).get("state"))] += 1
        time.sleep(0.25)
    replica.resume_replay()
    window.note(f"replay resumed; the replica was up to {most:,} bytes behind; the nodes saw it "
                + ", ".join(f"{state} ({count} looks)" for state, count in sorted(states.items())))
    window.details |= {"paused_s": pause_seconds, "max_lag_bytes": most, "node_replica_states": dict(states)}
    replica.wait_replayed(seconds=HEALTHY_SECONDS)
    window.note("the replica replayed everything the primary had written")
    window.healthy()


# --- after the load ----------------------------------------------------------------------------

def orders_since(topology: Topology, after_id: int) -> dict[int, str | None]:
    assert topology.primary is not None
    with psycopg.connect(topology.primary.url, connect_timeout=10) as conn:
        rows = conn.execute("SELECT order_id, idempotency_key FROM Orders WHERE order_id > %s",
                            (after_id,)).fetchall()
    return {int(order_id): key for order_id, key in rows}


def last_order_id(topology: Topology) -> int:
    assert topology.primary is not None
    with psycopg.connect(topology.primary.url, connect_timeout=10) as conn:
        return int(conn.execute("SELECT coalesce(max(order_id), 0) FROM Orders").fetchone()[0])


def invariants(topology: Topology) -> dict[str, Any]:
    """`stockline check` over a direct connection to the primary."""
    assert topology.primary is not None
    try:
        with psycopg.connect(topology.primary.url, connect_timeout=10) as conn:
            results = check_invariants(conn)
    except psycopg.Error as exc:
        return {"ok": False, "checked": 0, "broken": [], "error": str(exc).strip().splitlines()[0]}
    broken = [result.name for result in results if not result.holds]
    return {"ok": not broken, "checked": len(results), "broken": broken}


def haproxy_counts(topology: Topology) -> dict[str, Any]:
    """HAProxy's own figures: retries, redispatches, the 5xx it answered, each node's."""
    assert topology.haproxy is not None
    try:
        rows = list(csv.DictReader(io.StringIO(http_text(f"{topology.haproxy.stats_url};csv").lstrip("# "))))
    except (OSError, csv.Error):
        return {}
    figures: dict[str, Any] = {"servers": {}}
    for row in rows:
        if row.get("pxname") == "nodes" and row.get("svname") == "BACKEND":
            figures["retries"] = int(row.get("wretr") or 0)
            figures["redispatches"] = int(row.get("wredis") or 0)
        elif row.get("pxname") == "stockline" and row.get("svname") == "FRONTEND":
            figures["frontend_5xx"] = int(row.get("hrsp_5xx") or 0)
            figures["frontend_requests"] = int(row.get("req_tot") or 0)
        elif row.get("pxname") == "nodes":
            figures["servers"][row["svname"]] = {"status": row.get("status"), "hrsp_5xx": int(
                row.get("hrsp_5xx") or 0), "checks_down": int(row.get("chkdown") or 0)}
    return figures


# --- the run -----------------------------------------------------------------------------------

def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine since boot (/proc/stat)."""
    try:
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def _busy_share(before: tuple[int, int], after: tuple[int, int]) -> float | None:
    total = after[1] - before[1]
    return round((after[0] - before[0]) / total, 2) if total > 0 else None


def _require_load_suite() -> None:
    if not (SUITE / "__main__.py").is_file():
        raise Unavailable("`stockline cluster test` runs the load suite in bench/load/ of a Stockline "
                          "source checkout, and this installation is not one")
    if find_spec("locust") is None:
        raise Unavailable("the load suite needs Locust: .venv/bin/pip install -e '.[load]'")


def run_scenario(options: ScenarioOptions, folder: Path, out: TextIO | None = sys.stderr) -> dict[str, Any]:
    """Start, load, inject, collect, stop: the summary, judged (stockline.cluster.verdict)."""
    _require_load_suite()
    logins = Logins()
    topology = Topology(folder, nodes=options.nodes, workers=options.workers, seed=options.seed,
                        logins=logins, node_env=NODE_ENV, out=out)
    load: Load | None = None
    sampler: ReadSampler | None = None
    windows: list[Window] = []
    facts: dict[str, Any] = {"dir": str(folder),
                             "load_average_before": [round(x, 2) for x in os.getloadavg()]}
    try:
        topology.start()
        facts["timings_s"] = dict(topology.timings)
        assert topology.haproxy is not None
        first_order = last_order_id(topology)
        sampler = ReadSampler(topology.nodes, topology.metrics_token).start()
        reads_before = sampler.totals()
        _say(out, f"cluster test: the load suite's mix, {options.users} users for {options.duration_s} s "
                  f"through {topology.haproxy.url} ...")
        load = Load(topology, options, folder / "load").start()
        ticks = machine_ticks()
        origin = load.first_request_at()
        facts["started_at"] = datetime.fromtimestamp(origin, UTC).isoformat(timespec="seconds")
        _say(out, f"cluster test: first request after {origin - (load.started_at or origin):.1f} s; "
                  "faults at " + ", ".join(f"{name} {fraction:.0%}" for name, fraction in FAULTS))
        pause = max(3.0, min(8.0, options.duration_s / 5))
        actions: dict[str, Callable[[Topology, Window, ReadSampler | None], None]] = {
            "node_kill": kill_a_node, "pgbouncer_restart": restart_pgbouncer,
            "replica_lag": lambda t, w, s: lag_the_replica(t, w, s, pause)}
        for name, fraction in FAULTS:
            due = origin + fraction * options.duration_s
            while time.time() < due and load.running():
                time.sleep(min(0.1, max(0.0, due - time.time())))  # the schedule, not a wait for a state
            if not load.running():
                _say(out, f"cluster test: the load ended before {name}; {load.tail(500)}")
                break
            window = Window(name, origin)
            windows.append(window)
            _say(out, f"cluster test: fault {name} at {time.time() - origin:.1f} s ...")
            try:
                actions[name](topology, window, sampler)
                if name == "node_kill":
                    restart_the_node(topology, window)
            except ClusterError as exc:
                window.error = str(exc).splitlines()[0]
                window.note(f"ERROR: {window.error}")
                _say(out, f"cluster test: {name}: {window.error}")
            for line in window.what:
                _say(out, f"    {line}")
        _say(out, "cluster test: waiting for the load to end ...")
        status = load.wait(options.duration_s + 300)
        facts["load_suite_status"] = status
        facts["machine_busy_during_load"] = _busy_share(ticks, machine_ticks())
        facts["cpus"] = os.cpu_count()
        if status not in (0, 1):  # 1: it saw a 5xx, which the verdict judges; 2: it could not run
            raise Unavailable(f"the load suite failed (status {status}); {load.tail()}")
        _say(out, "cluster test: collecting orders, reads and invariants ...")
        for node in topology.nodes:
            sampler.sample(node)
        sampler.stop()
        reads = read_share(reads_before, sampler.totals(), approximate=sampler.restarts_seen > 0)
        db_orders = orders_since(topology, first_order)
        checked = invariants(topology)
        facts["haproxy"] = haproxy_counts(topology)
        facts["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    finally:
        if load is not None:
            load.interrupt()
        if sampler is not None:
            sampler.stop()
        _say(out, "cluster test: stopping the cluster ...")
        topology.close()
    requests = read_request_log(load.request_log)
    summary = judge(requests, [window.record() for window in windows], db_orders, checked,
                    faults_expected=[name for name, _ in FAULTS])
    summary["replica_reads"] = reads
    summary.pop("origin", None)
    return {"nodes": options.nodes, "users": options.users, "duration_s": options.duration_s,
            "think_time_s": options.think_time, "grace_s": GRACE_SECONDS,
            "seed": asdict(options.seed), **summary, "facts": facts}


# --- the command -------------------------------------------------------------------------------

def _folder(raw: Path | None) -> tuple[Path, bool]:
    """The scratch folder (under /tmp unless given: the unprivileged server user must reach
    it) and whether it is ours to remove at the end."""
    if raw is None:
        return Path(tempfile.mkdtemp(prefix="stockline-cluster-test-", dir="/tmp")), True
    path = raw.resolve()
    if path.exists() and any(path.iterdir()):
        raise ClusterError(f"{path} is not empty; choose a new or empty folder")
    return path, False


def cmd_test(args: argparse.Namespace) -> int:
    if args.duration < MIN_DURATION_S:
        print(f"error: --duration must be at least {MIN_DURATION_S}s: three faults and their recovery "
              "happen within it", file=sys.stderr)
        return 2
    try:
        missing = missing_packages()
        if missing:
            raise MissingPackage(missing)
        service_account()
        _require_load_suite()
    except ClusterError as exc:  # MissingPackage, no unprivileged user, no load suite or Locust
        print(f"error: {exc}", file=sys.stderr)
        return 2
    options = ScenarioOptions(nodes=args.nodes, duration_s=args.duration, users=args.users,
                              think_time=args.think_time, workers=args.workers)
    options.seed = SeedSizes(customers=max(options.users, 60), products=40, skus=150, batches=1200)
    try:
        folder, ours = _folder(args.dir)
    except ClusterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    previous = signal.signal(signal.SIGTERM, _interrupted)  # stopped like Ctrl-C: everything stops
    try:
        summary = run_scenario(options, folder)
    except (ClusterError, psycopg.Error) as exc:  # the topology did not start, the load did not run, ...
        print(f"error: {exc}\nthe cluster is stopped; its logs are in {folder}/logs", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"interrupted: the cluster and the load are stopped; the logs are in {folder}", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    print(render(summary))
    if args.json is not None:
        args.json.write_text(json.dumps(summary, indent=2, default=str))
        print(f"summary: {args.json}")
    if ours and not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    else:
        print(f"the cluster's data, logs and the load suite's report stay in {folder}")
    if not summary["passed"]:
        print("FAILED: " + "; ".join(summary["reasons"]), file=sys.stderr)
        return 1
    return 0


def _interrupted(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def register(sub) -> None:
    test = add_command(
        sub, "test", cmd_test,
        "Start the topology, run the load suite's mix through HAProxy while killing a node, restarting "
        "PgBouncer and lagging the replica, check orders and invariants, stop everything; exit 0 only "
        "with no 5xx outside the faults' windows and nothing lost",
        "stockline cluster test --nodes 2 --duration 30s --json cluster-test.json")
    test.add_argument("--nodes", type=whole_number(2, 16), default=2,
                      help="app nodes behind HAProxy (default 2; one is killed, so at least 2)")
    test.add_argument("--duration", type=duration, default=30,
                      help="length of the load, e.g. 30s, 2m (default 30s; at least 15s for the faults)")
    test.add_argument("--users", type=whole_number(2, 500), default=ScenarioOptions.users,
                      help="virtual users of the mix: customers and one staff user (default 40)")
    test.add_argument("--think-time", type=think_time, default=ScenarioOptions.think_time,
                      help="seconds between a user's actions, MIN-MAX (default 0.2-1: the load suite's "
                           "own 1-5 leaves two cores nearly idle with 40 users)")
    test.add_argument("--workers", type=whole_number(1, 16), default=1,
                      help="server processes per node (default 1)")
    test.add_argument("--json", type=Path, help="also write the summary to this file (JSON)")
    test.add_argument("--dir", type=Path, help="a new or empty folder for the cluster (default: a new one in "
                                               "/tmp, removed at the end unless --keep); kept")
    test.add_argument("--keep", action="store_true",
                      help="keep the folder (data, logs, the load suite's report and request log)")

