"""What every service call needs, in one typed object built once per worker at start-up.

Services take `ctx: Context` first instead of threading the pool, the catalog version, the
settings and the caches by hand in varying orders; routes and pages receive it with the
`Ctx` dependency. `ctx.transaction` is the one way to run a transaction, so DB_TX_RETRIES
applies everywhere, and, with a read replica, each commit's WAL position is remembered for
the signed-in user there. `ctx.read` runs a read that tolerates a little lag (catalog
pages, reports, the dashboard) where stockline.read_routing says: the replica when it has
what this user wrote and what the catalog version covers, else the primary.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import psycopg
from fastapi import Depends, Request
from psycopg_pool import AsyncConnectionPool

from stockline import db
from stockline.cache import TtlCache
from stockline.config import Settings
from stockline.kernel.catalog_version import CatalogVersion
from stockline.kernel.limits import ConcurrencyLimit
from stockline.read_routing import ReadRouter
from stockline.response_cache import ResponseCache

T = TypeVar("T")
R = TypeVar("R")

@dataclass(frozen=True)
class Context:
    settings: Settings
    pool: AsyncConnectionPool
    versions: CatalogVersion
    secret_key: str
    catalog_cache: ResponseCache  # whole rendered catalog answers
    user_cache: TtlCache[dict]  # users' rows by id, for the per-request token check
    dashboard_cache: TtlCache[dict[str, Any]]  # the dashboard's figures
    hashing: ConcurrencyLimit  # password hashes at once in this worker (HASH_CONCURRENCY)
    reads: ReadRouter  # where ctx.read runs (the primary's pool when there is no replica)

    async def transaction(
        self,
        work: Callable[[psycopg.AsyncConnection], Awaitable[T]],
        *,
        after_commit: Callable[[psycopg.AsyncConnection, T], Awaitable[R]] | None = None,
    ) -> T | R:
        """`db.run_transaction` with the configured retries (DB_TX_RETRIES); with a read
        replica, the commit's position is kept for this request's user (read-your-writes)."""
        return await db.run_transaction(self.pool, work, attempts=self.settings.db_tx_retries,
                                        after_commit=after_commit,
                                        commit_position=self.reads.commit_position())

    async def read(self, work: Callable[[psycopg.AsyncConnection], Awaitable[T]]) -> T:
        """`work(conn)`, read-only and safe to run again, on the replica when it may serve
        this request's user (it has replayed their last write), else on the primary
        (stockline.read_routing); without a replica, on the primary's pool as ever."""
        return await self.reads.run(work)

    async def read_for_cache(self, work: Callable[[psycopg.AsyncConnection], Awaitable[T]], *,
                             versions: tuple[int, int]) -> tuple[T, bool]:
        """`read`, for an answer to be cached under `versions` (catalog, listing); also
        whether it may be: it must include every change they cover, which a lagging replica's
        answer may not (it is then served but not cached)."""
        covering = self.versions.lsn_covering(*versions) if self.reads.enabled else None
        return await self.reads.run_for_cache(work, covering)


def context_of(request: Request) -> Context:
    return request.app.state.context


async def _context(request: Request) -> Context:
    # async: FastAPI runs a plain `def` dependency on its thread pool, a hop per request
    return request.app.state.context


Ctx = Annotated[Context, Depends(_context)]
