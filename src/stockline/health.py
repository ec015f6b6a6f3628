"""Liveness, readiness and metrics: the routes operators and load balancers poll.

With a read replica (DATABASE_READ_URL), /ready also reports it — state (`up`, `lagging`,
`down`, `not_standby`, `starting`), lag and replay position as the read router last saw
them — but readiness depends on the primary only: a replica that is down or behind sends
its reads to the primary, so the node still serves everything.
"""

from __future__ import annotations

import logging

import psycopg
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from psycopg_pool import PoolTimeout
from starlette.exceptions import HTTPException

from stockline import db
from stockline.errors import Unauthorized, error_response
from stockline.kernel.context import context_of
from stockline.kernel.inputs import same_secret

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])

_PROBE_SECONDS = 2.0


async def _missing_tables(request: Request) -> list[str] | None:
    """Tables the schema lacks, or None when the database does not answer."""
    try:
        async with context_of(request).pool.connection(timeout=_PROBE_SECONDS) as conn:
            # a probe answers within its timeout even when the database has gone silent
            with db.deadline(conn, _PROBE_SECONDS):
                rows = await db.fetch_all(conn, db.MISSING_TABLES_SQL, (list(db.TABLES),))
    except (psycopg.Error, PoolTimeout) as exc:
        log.info("database probe failed: %s", type(exc).__name__)
        return None
    return [row["table_name"] for row in rows]


@router.get("/health", summary="Liveness: always 200; says whether the database answers")
async def health(request: Request) -> dict[str, str]:
    missing = await _missing_tables(request)
    return {"status": "ok", "database": "down" if missing is None else "up"}


@router.get("/ready", summary="Readiness: 200 once the database answers and has the schema",
            responses={503: {"description": "database down or schema not applied"}})
async def ready(request: Request) -> Response:
    missing = await _missing_tables(request)
    replica = context_of(request).reads.describe()  # None without DATABASE_READ_URL
    extra = {} if replica is None else {"replica": replica}
    if missing is None:
        return error_response(503, "not_ready", "The database is not answering",
                              {"database": "down", **extra}, headers={"Retry-After": "2"})
    if missing:
        return error_response(503, "not_ready", "The schema is not applied (run `stockline db init`)",
                              {"database": "up", "missing_tables": missing, **extra},
                              headers={"Retry-After": "2"})
    return JSONResponse({"status": "ready", "database": "up", **extra})


def _check_metrics_access(request: Request) -> None:
    """METRICS_TOKEN set: only its bearer may scrape. Unset: anyone outside production, and in
    production nobody (the route is not there)."""
    settings = context_of(request).settings
    if not settings.serves_metrics:
        raise HTTPException(404)
    expected = settings.metrics_token
    if expected is None:
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not same_secret(expected, given.strip()):
        raise Unauthorized("/metrics wants 'Authorization: Bearer <METRICS_TOKEN>'",
                           headers={"WWW-Authenticate": "Bearer"})


@router.get("/metrics", summary="Prometheus metrics of this process",
            response_class=Response,
            responses={401: {"description": "METRICS_TOKEN is set and the bearer token is not it"},
                       404: {"description": "production without a METRICS_TOKEN: not served"}})
async def metrics(request: Request) -> Response:
    _check_metrics_access(request)
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
