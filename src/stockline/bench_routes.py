"""Baseline endpoints for benchmarks (only with BENCH_ENDPOINTS=1): the cheapest thing the
same app can serve, so Stockline's own routes are reported as ratios against it."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request, Response

from stockline import db
from stockline.auth.dependencies import OptionalUser
from stockline.kernel.context import context_of

router = APIRouter(prefix="/bench", tags=["benchmark baselines"])

BARE_ROWS_SQL = """
SELECT sku_id, sku_code, package_size, unit_type, base_price
FROM Product_SKUs
ORDER BY sku_id
LIMIT 50
"""


@router.get("/bare", summary="50 rows from one indexed SELECT, as JSON")
async def bare(request: Request, user: OptionalUser) -> Response:
    async with context_of(request).pool.connection() as conn:
        rows = await db.fetch_all(conn, BARE_ROWS_SQL)
    body = json.dumps(rows, default=str, separators=(",", ":")).encode()
    return Response(body, media_type="application/json")
