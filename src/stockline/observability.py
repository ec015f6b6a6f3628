"""Request id, Prometheus metrics and Server-Timing, as one pure ASGI middleware.

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

    def watch_pool(self, pool: Any) -> None:
        """Report the database pool's state and its failures at every scrape."""
        self.registry.register(_PoolCollector(pool))


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

    def __init__(self, pool: Any) -> None:
        self.pool = pool

    def collect(self) -> Iterator[Metric]:
        stats = self.pool.get_stats()
        stats["pool_max"] = self.pool.max_size
        for name, description, key in self._GAUGES:
            yield GaugeMetricFamily(name, description, value=stats.get(key, 0))
        for name, description, key in self._COUNTERS:
            yield CounterMetricFamily(name, description, value=stats.get(key, 0))
        yield CounterMetricFamily("stockline_db_connections_cut", "Connections cut because the database "
                                  "stopped answering on them", value=self.pool.cuts)
        yield CounterMetricFamily("stockline_db_pool_drains", "Times every idle connection was replaced "
                                  "after one was found dead", value=self.pool.drains)


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

        with measure_db_time() as db_usage:
            async def send_wrapper(message: Message) -> None:
                if message["type"] == "http.response.start":
                    elapsed = time.perf_counter() - started
                    status_holder["status"] = message["status"]
                    status_holder["elapsed"] = elapsed
                    headers = list(message.get("headers", []))
                    headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
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
