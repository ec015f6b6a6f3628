"""The whole topology, started in order, seeded, and written down.

Order: the primary (schema applied on it directly), its replica, PgBouncer, Redis; the seed
procedure and the sign-in users through the primary directly; then the app nodes and HAProxy
in front of them. `state.json` in the folder records every process (pid and kernel start
time, so a recycled pid is never signalled), port, URL and password; `stop_recorded` stops
them from another process (`stockline cluster down`), last started first.

Seeding and users go through the `stockline` command (`stockline seed`, `stockline users
...`) as a child process: this package imports no domain.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from stockline.cluster.components import (
    AppNode,
    ClusterError,
    HAProxy,
    PgBouncer,
    PostgresPrimary,
    PostgresReplica,
    RedisServer,
    Scratch,
    alive,
    node_environment,
    stop_process,
)

STATE_FILE = "state.json"


@dataclass(frozen=True)
class SeedSizes:
    """The seed procedure's sizes for a cluster (modest: a person tries it, a test runs it)."""

    customers: int = 200
    products: int = 100
    skus: int = 500
    batches: int = 2000
    pricing_rules: int = 0
    orders: int = 0  # historical orders over the last 90 days
    seed: int = 42

    def argv(self) -> list[str]:
        return ["seed", "--customers", str(self.customers), "--products", str(self.products),
                "--skus", str(self.skus), "--batches", str(self.batches), "--pricing-rules",
                str(self.pricing_rules), "--orders", str(self.orders), "--seed", str(self.seed)]


@dataclass
class Logins:
    customer_password: str = field(default_factory=lambda: "Customer-" + secrets.token_hex(4))
    staff_username: str = "staff"
    staff_password: str = field(default_factory=lambda: "Staff-" + secrets.token_hex(6))
    admin_username: str = "admin"
    admin_password: str = field(default_factory=lambda: "Admin-" + secrets.token_hex(6))


def run_stockline(args: list[str], env: Mapping[str, str], *, log: Path, what: str,
                  timeout: float = 600.0) -> None:
    """Run `stockline ARGS` (this interpreter's) with `env` on top of ours (less any database,
    Redis or seed setting of ours), in the log's folder (no stray .env); its output appended
    to `log`."""
    child_env = {key: value for key, value in os.environ.items()
                 if not key.startswith(("DATABASE_", "REDIS_", "SCALE_"))} | dict(env)
    with open(log, "ab") as out:
        out.write(f"$ stockline {' '.join(args)}\n".encode())
        out.flush()
        try:
            done = subprocess.run([sys.executable, "-m", "stockline.cli", *args], env=child_env,  # noqa: S603
                                  stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                  cwd=log.parent, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise ClusterError(f"{what} took longer than {timeout:.0f} s (log: {log})") from None
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-1500:]
        raise ClusterError(f"{what} failed with status {done.returncode} (log: {log}):\n{tail}")


class Topology:
    """HAProxy → N app nodes → PgBouncer → primary (→ streaming replica), and Redis."""

    def __init__(self, path: str | os.PathLike[str], *, nodes: int = 2, seed: SeedSizes | None = SeedSizes(),
                 node_env: Mapping[str, str] | None = None, workers: int = 1, logins: Logins | None = None,
                 out: TextIO | None = None) -> None:
        if nodes < 1:
            raise ClusterError("a cluster needs at least one app node")
        self.scratch = Scratch(path)
        self.node_count = nodes
        self.workers = workers
        self.seed = seed
        self.extra_env = dict(node_env or {})
        self.logins = logins or Logins()
        self.secret_key = secrets.token_urlsafe(48)
        self.metrics_token = secrets.token_urlsafe(24)
        self.out = out
        self.timings: dict[str, float] = {}
        self.primary: PostgresPrimary | None = None
        self.replica: PostgresReplica | None = None
        self.bouncer: PgBouncer | None = None
        self.redis: RedisServer | None = None
        self.nodes: list[AppNode] = []
        self.haproxy: HAProxy | None = None

    @property
    def path(self) -> Path:
        return self.scratch.path

    def _say(self, text: str) -> None:
        if self.out is not None:
            print(text, file=self.out, flush=True)

    def _step(self, what: str, action) -> Any:
        started = time.monotonic()
        self._say(f"cluster: {what} ...")
        result = action()
        self.timings[what] = round(time.monotonic() - started, 2)
        return result

    def start(self) -> Topology:
        """Start everything; on any failure stop what was started and raise."""
        try:
            self._start()
        except BaseException:
            self.scratch.close()
            raise
        self.write_state()
        return self

    def _start(self) -> None:
        self.primary = self._step("PostgreSQL primary (initdb, TLS, roles, schema)",
                                  PostgresPrimary(self.scratch).start)
        self.replica = self._step("streaming replica (pg_basebackup)",
                                  PostgresReplica(self.scratch, self.primary).start)
        self.bouncer = self._step("PgBouncer (transaction pooling)",
                                  PgBouncer(self.scratch, self.primary).start)
        self.redis = self._step("Redis", RedisServer(self.scratch).start)
        if self.seed is not None:
            self._step(f"seeding {self.seed.customers} customers, {self.seed.batches} batches (the seed "
                       "procedure, on the primary directly)", self._seed)
        env = self.node_env()
        self.nodes = [AppNode(self.scratch, index, env, workers=self.workers)
                      for index in range(1, self.node_count + 1)]
        self._step(f"{self.node_count} app node(s)", self._start_nodes)
        self.haproxy = self._step("HAProxy", HAProxy(self.scratch, self.nodes).start)

    def node_env(self) -> dict[str, str]:
        assert self.primary and self.bouncer
        return node_environment(primary=self.primary, bouncer=self.bouncer, replica=self.replica,
                                redis=self.redis, secret_key=self.secret_key,
                                metrics_token=self.metrics_token, extra=self.extra_env)

    def _seed(self) -> None:
        assert self.primary and self.seed
        env = {"DATABASE_URL": self.primary.url, "STOCKLINE_ENV": "production",
               "STOCKLINE_DATA_DIR": str(self.path / "nodes" / "cli")}
        log = self.scratch.logs / "seed.log"
        run_stockline(self.seed.argv(), env, log=log, what="stockline seed")
        run_stockline(["users", "create-customer-logins", "--password", self.logins.customer_password], env,
                      log=log, what="stockline users create-customer-logins")
        for username, password, role in ((self.logins.staff_username, self.logins.staff_password, "staff"),
                                         (self.logins.admin_username, self.logins.admin_password, "admin")):
            run_stockline(["users", "create-admin", username, "--role", role, "--password", password], env,
                          log=log, what=f"stockline users create-admin {username}")

    def _start_nodes(self) -> None:
        # started together, waited for in turn: the nodes' imports overlap
        for node in self.nodes:
            node._spawn_only()
        for node in self.nodes:
            node.wait_ready()

    # --- the record ---------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        components = [component.record() for component in self.scratch.components]
        return {
            "dir": str(self.path),
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "urls": self.urls(),
            "passwords": {
                "postgres_superuser": self.primary.passwords["postgres"] if self.primary else None,
                "postgres_stockline": self.primary.passwords["stockline"] if self.primary else None,
                "pgbouncer_admin": self.bouncer.admin_password if self.bouncer else None,
                "redis": self.redis.password if self.redis else None,
                "metrics_token": self.metrics_token,
                "secret_key": self.secret_key,
            },
            "logins": {
                "customers": {"usernames": "cust_<customer_id>, e.g. cust_1",
                              "password": self.logins.customer_password},
                "staff": {"username": self.logins.staff_username, "password": self.logins.staff_password},
                "admin": {"username": self.logins.admin_username, "password": self.logins.admin_password},
            } if self.seed is not None else None,
            "node_env": self.node_env() if self.primary and self.bouncer else None,
            "timings_seconds": self.timings,
            "components": components,
        }

    def write_state(self) -> Path:
        path = self.path / STATE_FILE
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.state(), indent=2))
        temporary.chmod(0o600)
        temporary.replace(path)
        return path

    def urls(self) -> dict[str, Any]:
        urls: dict[str, Any] = {}
        if self.haproxy:
            urls["balancer"] = self.haproxy.url
            urls["haproxy_stats"] = self.haproxy.stats_url
        urls["nodes"] = [node.url for node in self.nodes]
        if self.primary:
            urls["primary"] = self.primary.url
            urls["primary_admin"] = self.primary.admin_url
        if self.replica:
            urls["replica"] = self.replica.url
        if self.bouncer:
            urls["pgbouncer"] = self.bouncer.url
            urls["pgbouncer_admin"] = self.bouncer.admin_url
        if self.redis:
            urls["redis"] = self.redis.url
        return urls

    def close(self) -> None:
        self.scratch.close()

    def __enter__(self) -> Topology:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def describe(state: Mapping[str, Any]) -> str:
    """What `stockline cluster up` prints: the URLs and the sign-in credentials."""
    urls = state["urls"]
    lines = [f"Stockline cluster running in {state['dir']}", "",
             f"  balancer (HAProxy)   {urls.get('balancer')}",
             f"  HAProxy stats        {urls.get('haproxy_stats')}"]
    for index, url in enumerate(urls.get("nodes", []), start=1):
        lines.append(f"  app node {index:<11} {url}")
    lines += [f"  PostgreSQL primary   {urls.get('primary')}",
              f"  PostgreSQL replica   {urls.get('replica')}",
              f"  PgBouncer            {urls.get('pgbouncer')}",
              f"  Redis                {urls.get('redis')}",
              f"  superuser            {urls.get('primary_admin')}"]
    logins = state.get("logins")
    if logins:
        lines += ["", "Sign in at the balancer:",
                  f"  customers  {logins['customers']['usernames']}, "
                  f"password {logins['customers']['password']}",
                  f"  staff      {logins['staff']['username']} / {logins['staff']['password']}",
                  f"  admin      {logins['admin']['username']} / {logins['admin']['password']}"]
    lines += ["", f"/metrics on each node: Authorization: Bearer {state['passwords']['metrics_token']}",
              f"Logs: {state['dir']}/logs/   State (passwords included): {state['dir']}/{STATE_FILE}",
              f"Stop: stockline cluster down --dir {state['dir']}"]
    return "\n".join(lines)


def read_state(path: Path) -> dict[str, Any]:
    file = path / STATE_FILE
    if not file.exists():
        raise ClusterError(f"no cluster state in {path} ({STATE_FILE} is missing)")
    return json.loads(file.read_text())


def running(state: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The recorded processes still alive (same pid, same kernel start time)."""
    return [item for item in state["components"]
            if item.get("pid") and alive(item["pid"], item.get("started"))]


def stop_recorded(path: Path, *, bound: float = 20.0, out: TextIO | None = None) -> dict[str, str]:
    """Stop every process the state file records, last started first: its own signal, then
    SIGKILL after `bound` seconds. Returns what happened to each."""
    state = read_state(path)
    outcomes = {}
    for item in reversed(state["components"]):
        if not item.get("pid"):
            continue
        outcome = stop_process(item["pid"], item.get("started"), signal.Signals[item["stop_signal"]], bound)
        outcomes[item["name"]] = outcome
        if out is not None:
            print(f"  {item['name']:<10} pid {item['pid']:<8} {outcome}", file=out, flush=True)
    return outcomes
