"""The catalog version this worker knows, kept current by LISTEN/NOTIFY.

Writers call `announce_change` after a commit that touches stock, prices, rules or
products: it draws the next value of the `catalog_version` sequence and NOTIFYs it. Every
worker LISTENs on its own connection and keeps the highest value seen, so reading the
version costs nothing per request, and a change reaches every worker within the time a
notification takes (about a millisecond on one host). While the listener is down, the
version is read from the sequence on every request instead: never stale, only slower.
A listener that heard nothing for a few seconds checks that its connection still answers,
so a connection lost without a word (a network cut, a failover) is noticed within seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import psycopg
from psycopg_pool import AsyncConnectionPool

from stockline import db
from stockline.sqlfile import queries_beside

log = logging.getLogger(__name__)
Q = queries_beside(__file__)
CHANNEL = "stockline_catalog"
_RECONNECT_SECONDS = 1.0
_QUIET_SECONDS = 5.0  # after this long without a notification, ping the connection


class CatalogVersion:
    def __init__(self, url: str, connect_timeout: int = 5) -> None:
        self.url = url
        self.connect_timeout = connect_timeout
        self.value = 0
        self.listening = False
        self._task: asyncio.Task | None = None
        self._ready = asyncio.Event()

    async def start(self, wait_seconds: float = 2.0) -> None:
        """Start listening; wait (briefly) until the listener is up, so the first requests
        already read the version from memory."""
        self._task = asyncio.create_task(self._listen(), name="catalog-version-listener")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), wait_seconds)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _saw(self, version: int) -> None:
        self.value = max(self.value, version)

    async def current(self, pool: AsyncConnectionPool) -> int:
        if self.listening:
            return self.value
        async with pool.connection() as conn:
            row = await db.fetch_one(conn, Q["catalog_version"])
        self._saw(row["version"])
        return self.value

    async def announce_change(self, conn: psycopg.AsyncConnection) -> None:
        """After a commit: a new version for every worker, this one at once."""
        row = await db.fetch_one(conn, Q["bump_catalog_version"])
        self._saw(row["version"])

    async def _ping(self, conn: psycopg.AsyncConnection) -> None:
        """Raises OperationalError when the connection no longer answers in time."""
        with db.deadline(conn, self.connect_timeout):
            await conn.execute("SELECT 1")

    async def _listen(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                        self.url, autocommit=True, application_name="stockline-listener",
                        connect_timeout=self.connect_timeout) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    # read after LISTEN, so a bump between the two is not missed
                    version = await (await conn.execute(Q["catalog_version"].sql)).fetchone()
                    self._saw(version[0])
                    self.listening = True
                    self._ready.set()
                    while True:
                        async for notice in conn.notifies(timeout=_QUIET_SECONDS):
                            self._saw(int(notice.payload))
                        await self._ping(conn)
            except asyncio.CancelledError:
                self.listening = False
                raise
            except (psycopg.Error, OSError, ValueError) as exc:
                if self.listening:
                    log.warning("catalog version listener lost (%s); reading versions per request",
                                type(exc).__name__)
                self.listening = False
                await asyncio.sleep(_RECONNECT_SECONDS)
