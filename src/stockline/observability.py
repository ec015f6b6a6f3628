"""Request id, Prometheus metrics and Server-Timing, as one pure ASGI middleware.

With a read replica, a response whose reads were routed says where they ran:
`X-Stockline-Read: replica`, `primary` or `mixed` (stockline.read_routing).

Metrics are labelled by route template (`/api/my-orders/{order_id}`), never by raw path,
so label cardinality stays bounded. Each process has its own registry: with several
workers, each worker's /metrics reports that worker (scrape them all, or run one worker per
container).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stockline.db import measure_db_time
from stockline.read_routing import READ_HEADER, request_scope

REQUEST_ID_HEADER = "x-request-id"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
disable_created_metrics()  # the *_created series only add noise to every scrape
_LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "stockline_http_requests_total", "HTTP requests by route, method and status",
            ("method", "route", "status"), registry=self.registry)
        self.latency = Histogram(
            "stockline_http_request_duration_seconds", "Time to the response's first byte",
            ("method", "route"), buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.errors = Counter(
            "stockline_http_errors_total", "Error answers by status and error code "
            "(503 database_unavailable / busy_retry / database_timeout: the database is failing)",
            ("status", "code"), registry=self.registry)

    def watch_pool(self, pool: Any, *, replica: bool = False) -> None:
        """Report the database pool's state and its failures at every scrape (`replica`:
        the read replica's pool, as `stockline_db_read_pool_*` and so on)."""
        self.registry.register(_PoolCollector(pool, "stockline_db_read_" if replica else "stockline_db_"))

    def watch_reads(self, router: Any) -> None:
        """Report where routed reads went, and the replica's state (stockline.read_routing)."""
        self.registry.register(_ReadsCollector(router))


class _ReadsCollector(Collector):
    """Reads by where they were served and why (nothing without a replica), the replica's
    state and lag, commit positions kept for read-your-writes, Redis failures there."""

    def __init__(self, router: Any) -> None:
        self.router = router

    def collect(self) -> Iterator[Metric]:
        router = self.router
        if not router.enabled:
            return
        reads = CounterMetricFamily(
            "stockline_db_reads", "Reads that tolerate lag, by where they ran: served_by replica (reason "
            "ok, or not_cached: behind the catalog version, so served but not cached) or primary "
            "(reason own_write: the user's last write is not replayed yet; the rest are fallbacks: "
            "replica_down, replica_lagging, replica_starting, replica_not_standby, replica_error, "
            "replica_busy, redis_unknown)",
            labels=("served_by", "reason"))
        for (served_by, reason), count in sorted(router.counts.items()):
            reads.add_metric((served_by, reason), count)
        yield reads
        status = router.status
        yield GaugeMetricFamily("stockline_replica_up", "1 while the read replica is in use, else 0",
                                value=1 if status.state == "up" else 0)
        if status.lag_seconds is not None and status.lag_seconds != float("inf"):
            yield GaugeMetricFamily("stockline_replica_lag_seconds", "How far the replica is behind the "
                                    "primary (an upper bound), at the last check", value=status.lag_seconds)
        yield CounterMetricFamily("stockline_db_write_positions", "Commit positions kept for "
                                  "read-your-writes", value=router.write_positions_kept)
        yield CounterMetricFamily("stockline_read_your_writes_redis_errors", "Redis failures reading or "
                                  "keeping users' write positions", value=router.positions.redis_errors)


class _PoolCollector(Collector):
    """The pool's figures, read when scraped: its size now, and since start-up the failed
    connects, connections found dead, requests that waited too long for one, connections
    the watchdog cut and pool drains."""

    _GAUGES = (
        ("stockline_db_pool_connections", "Connections held by the pool", "pool_size"),
        ("stockline_db_pool_available", "Idle connections in the pool", "pool_available"),
        ("stockline_db_pool_waiting", "Requests waiting for a connection", "requests_waiting"),
        ("stockline_db_pool_max", "Largest size the pool may grow to", "pool_max"),
    )
    _COUNTERS = (
        ("stockline_db_connect_errors", "Connection attempts that failed", "connections_errors"),
        ("stockline_db_connections_lost", "Connections found broken when returned", "connections_lost"),
        ("stockline_db_pool_timeouts", "Requests that got no connection within DB_CONNECT_TIMEOUT",
         "requests_errors"),
    )

    def __init__(self, pool: Any, prefix: str = "stockline_db_") -> None:
        self.pool = pool
        self.prefix = prefix

    def _name(self, name: str) -> str:
        return self.prefix + name.removeprefix("stockline_db_")

    def collect(self) -> Iterator[Metric]:
        stats = self.pool.get_stats()
        stats["pool_max"] = self.pool.max_size
        for name, description, key in self._GAUGES:
            yield GaugeMetricFamily(self._name(name), description, value=stats.get(key, 0))
        for name, description, key in self._COUNTERS:
            yield CounterMetricFamily(self._name(name), description, value=stats.get(key, 0))
        yield CounterMetricFamily(self._name("stockline_db_connections_cut"), "Connections cut because the "
                                  "database stopped answering on them", value=self.pool.cuts)
        yield CounterMetricFamily(self._name("stockline_db_pool_drains"), "Times every idle connection was "
                                  "replaced after one was found dead", value=self.pool.drains)


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    return getattr(route, "path", None) or "<unmatched>"


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics, server_timing: bool) -> None:
        self.app = app
        self.metrics = metrics
        self.server_timing = server_timing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, REQUEST_ID_HEADER.encode())
        request_id = incoming if incoming and _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status_holder: dict[str, Any] = {}

        with measure_db_time() as db_usage, request_scope() as reads:
            async def send_wrapper(message: Message) -> None:
                if message["type"] == "http.response.start":
                    elapsed = time.perf_counter() - started
                    status_holder["status"] = message["status"]
                    status_holder["elapsed"] = elapsed
                    headers = list(message.get("headers", []))
                    headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                    served = reads.header()  # with a read replica: where this request's reads ran
                    if served is not None:
                        headers.append((READ_HEADER.encode(), served.encode()))
                    if self.server_timing:
                        timing = (f"app;dur={elapsed * 1000:.1f}, "
                                  f'db;dur={db_usage.seconds * 1000:.1f};desc="{db_usage.queries} queries"')
                        headers.append((b"server-timing", timing.encode()))
                    message = {**message, "headers": headers}
                await send(message)

            try:
                await self.app(scope, receive, send_wrapper)
            finally:
                method = scope["method"]
                route = _route_template(scope)
                status = status_holder.get("status", 500)
                elapsed = status_holder.get("elapsed", time.perf_counter() - started)
                self.metrics.requests.labels(method, route, str(status)).inc()
                self.metrics.latency.labels(method, route).observe(elapsed)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None
