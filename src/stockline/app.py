"""Builds the ASGI app: settings, database pool, routers, error handlers, middleware.

`uvicorn stockline.app:create_app --factory` serves it; `stockline serve` does that with the
database resolved and the schema applied first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import psycopg
from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from stockline import __version__, api_docs, db, health
from stockline.auth import routes as auth_routes
from stockline.auth.service import new_user_state_cache
from stockline.billing import admin_routes as invoice_admin_routes
from stockline.billing import routes as invoice_routes
from stockline.billing.account import routes as account_routes
from stockline.billing.returns import routes as returns_routes
from stockline.body_limit import BodyLimitMiddleware
from stockline.catalog import routes as catalog_routes
from stockline.catalog.admin import routes as catalog_admin_routes
from stockline.config import Settings, get_settings
from stockline.customers import external_sign_in_routes
from stockline.customers import routes as customer_routes
from stockline.errors import install_error_handlers
from stockline.inventory.batches import routes as batch_routes
from stockline.inventory.entry import routes as stock_entry_routes
from stockline.inventory.stock import routes as stock_routes
from stockline.inventory.trace import routes as trace_routes
from stockline.kernel.catalog_version import CatalogVersion
from stockline.kernel.context import Context
from stockline.kernel.limits import ConcurrencyLimit
from stockline.observability import Metrics, ObservabilityMiddleware
from stockline.ordering import routes as ordering_routes
from stockline.ordering.admin import routes as ordering_admin_routes
from stockline.pricing.admin import routes as pricing_admin_routes
from stockline.purchasing import routes as purchasing_routes
from stockline.read_routing import ReadRouter, WritePositions
from stockline.recalls import customer_routes as recall_customer_routes
from stockline.recalls import routes as recall_routes
from stockline.reporting import dashboard, finance_routes
from stockline.reporting import routes as reporting_routes
from stockline.response_cache import create_response_cache
from stockline.security_headers import SecurityHeadersMiddleware
from stockline.tax import routes as tax_routes
from stockline.web import routes as web_routes

log = logging.getLogger(__name__)
CORS_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
CORS_HEADERS = ("Authorization", "Content-Type", "X-CSRF-Token", "Idempotency-Key", "If-None-Match")


def _bootstrap_search_indexes(url: str) -> None:
    try:
        with db.connect(url) as conn:
            db.bootstrap_search_indexes(conn)
    except psycopg.OperationalError as exc:
        log.warning("search index bootstrap skipped: database not reachable (%s)",
                    type(exc).__name__)


class StocklineApp(FastAPI):
    """FastAPI with layers outside all of its own, Starlette's ServerErrorMiddleware included,
    so that even the 500 it answers for an unhandled error gets the security headers and an
    X-Request-ID and is counted, and the proxy-header rewrite comes before anything reads the
    client or the scheme."""

    outer_layers: tuple[Callable[[ASGIApp], ASGIApp], ...] = ()  # innermost first

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        for layer in self.outer_layers:
            stack = layer(stack)
        return stack


def _outer_layers(settings: Settings, metrics: Metrics) -> tuple[Callable[[ASGIApp], ASGIApp], ...]:
    def observability(app: ASGIApp) -> ASGIApp:
        return ObservabilityMiddleware(app, metrics=metrics, server_timing=settings.log_timing)

    def security_headers(app: ASGIApp) -> ASGIApp:
        return SecurityHeadersMiddleware(app, always_https=settings.public_https)

    def proxy_headers(app: ASGIApp) -> ASGIApp:  # everything inside sees the real client and scheme
        return ProxyHeadersMiddleware(app, trusted_hosts=list(settings.trusted_proxies))

    def cors(app: ASGIApp) -> ASGIApp:
        # outside Starlette's 500 handler: errors, 500s and preflights all carry the headers
        return CORSMiddleware(app, allow_origins=list(settings.cors_origins),
                              allow_credentials=settings.cors_allow_credentials,
                              allow_methods=list(CORS_METHODS), allow_headers=list(CORS_HEADERS),
                              expose_headers=["X-Request-ID", "Retry-After", "ETag"], max_age=600)

    layers = (observability, security_headers)
    if settings.cors_origins:
        layers = (cors, *layers)
    if settings.pharmassist_compat:  # innermost: its error bodies are what CORS and the rest wrap
        from stockline.compat.pharmassist import ErrorShape

        layers = (ErrorShape, *layers)
    return (*layers, proxy_headers) if settings.trusted_proxies else layers


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    secret_key = settings.resolved_secret_key()  # fail at start-up, not at first login

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = await asyncio.to_thread(db.resolve_database_url, settings)
        if settings.run_index_bootstrap:
            await asyncio.to_thread(_bootstrap_search_indexes, url)
        pool = db.create_pool(settings, url)
        await pool.open(wait=False)  # start even if the database is down; /ready tells
        app.state.metrics.watch_pool(pool)
        read_pool = None
        if settings.database_read_url:  # a replica for lag-tolerant reads (stockline.read_routing)
            read_pool = db.create_read_pool(settings, settings.database_read_url)
            app.state.metrics.watch_pool(read_pool, replica=True)
        reads = ReadRouter(settings, pool, read_pool, WritePositions(
            settings.read_your_writes_seconds, settings.redis_url if read_pool is not None else None))
        app.state.metrics.watch_reads(reads)
        # LISTEN needs a session of its own: behind PgBouncer, DATABASE_LISTEN_URL names the primary
        versions = CatalogVersion(settings.database_listen_url or url, settings.db_connect_timeout,
                                  track_lsn=reads.enabled)
        ctx = app.state.context = Context(
            settings=settings, pool=pool, versions=versions,
            secret_key=secret_key, catalog_cache=create_response_cache(settings),
            user_cache=new_user_state_cache(), dashboard_cache=dashboard.new_cache(),
            hashing=ConcurrencyLimit(settings.hash_concurrency, settings.hash_wait_seconds,
                                     "password checks"),
            reads=reads)
        ctx.versions.on_user_state = ctx.user_cache.discard  # a revoked token fails on every node at once
        await reads.start()
        await ctx.versions.start()
        try:
            yield
        finally:
            await ctx.versions.stop()
            await reads.stop()
            await ctx.catalog_cache.close()
            await pool.close()

    app = StocklineApp(
        title="Stockline",
        version=__version__,
        description="B2B ordering and batch inventory with first-expiry-first-out allocation.",
        lifespan=lifespan,
        openapi_url=None, docs_url=None, redoc_url=None,  # api_docs serves them, when API_DOCS is on
    )
    app.state.metrics = Metrics()
    app.outer_layers = _outer_layers(settings, app.state.metrics)
    install_error_handlers(app)
    if settings.pharmassist_compat:  # first: on the paths both serve, PharmAssist's answer wins
        from stockline.compat import pharmassist

        pharmassist.install(app)
    app.include_router(health.router)
    app.include_router(auth_routes.router)
    app.include_router(external_sign_in_routes.router)  # POST /api/oauth/{provider}/exchange
    app.include_router(catalog_routes.router)
    app.include_router(ordering_routes.router)
    for money in (invoice_routes, returns_routes, account_routes):
        app.include_router(money.router)
    app.include_router(recall_customer_routes.router)
    for back_office in (catalog_admin_routes, customer_routes, batch_routes, stock_routes, stock_entry_routes,
                        ordering_admin_routes, pricing_admin_routes, reporting_routes, finance_routes,
                        tax_routes, invoice_admin_routes, purchasing_routes, recall_routes, trace_routes):
        app.include_router(back_office.router)
    web_routes.install(app)
    if settings.serves_api_docs:
        api_docs.install(app)
    if settings.bench_endpoints:
        from stockline import bench_routes

        app.include_router(bench_routes.router)
    # inside the observability layer (an outer one), so a 413 is counted and carries X-Request-ID
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    return app
