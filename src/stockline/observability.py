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
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
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
        self.pool_size = Gauge(
            "stockline_db_pool_connections", "Connections held by the pool",
            registry=self.registry)
        self.pool_available = Gauge(
            "stockline_db_pool_available", "Idle connections in the pool",
            registry=self.registry)
        self.pool_waiting = Gauge(
            "stockline_db_pool_waiting", "Requests waiting for a connection",
            registry=self.registry)
        self.pool_max = Gauge(
            "stockline_db_pool_max", "Largest size the pool may grow to", registry=self.registry)

    def observe_pool(self, stats: dict[str, int], max_size: int) -> None:
        self.pool_size.set(stats.get("pool_size", 0))
        self.pool_available.set(stats.get("pool_available", 0))
        self.pool_waiting.set(stats.get("requests_waiting", 0))
        self.pool_max.set(max_size)


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
