"""The catalog versions this worker knows, kept current by LISTEN/NOTIFY.

Two versions, two sequences:

- the catalog version (`catalog_version`) moves on every change a customer could see in
  the catalog, stock included: a sale, a receipt, an adjustment. Whole rendered responses
  are cached under it (CACHE_TTL_PRODUCTS).
- the listing version (`catalog_listing_version`) moves only on changes to what a listing
  shows apart from stock: which SKUs match a filter, their count, names and prices (products,
  SKUs, pricing rules, a customer's rules, active flags). The listing skeleton (a page's
  SKUs, total and items rendered around their stock figures, catalog/service.py) is cached
  under it, so it survives live ordering traffic.

After a commit, writers call `announce_change` when they changed stock only: the next
catalog version, NOTIFYed on `stockline_catalog`. Writers that changed anything else call
`announce_listing_change`: the next catalog version and the next listing version, both
announced in one statement (a listing change is a catalog change too). Every worker
LISTENs on its own connection and keeps the highest value seen of each, so reading them
costs nothing per request, and a change reaches every worker within the time a
notification takes (about a millisecond on one host). While the listener is down, both are
read from the sequences on every request instead: never stale, only slower.
The same listener hears `stockline_user_state` (a user's token state changed: db/schema.sql
announces it by trigger) and tells `on_user_state`, which drops that user's cached state, so
a deactivation or a sign-out takes effect on every node at once; while the listener is down,
within the cache's TTL (stockline.auth.service).
A listener that heard nothing for a few seconds checks that its connection still answers,
so a connection lost without a word (a network cut, a failover) is noticed within seconds.

The listener connects to DATABASE_LISTEN_URL (default DATABASE_URL): LISTEN needs a session
of its own, which PgBouncer's transaction pooling does not give, so behind PgBouncer it
names the primary directly.

With a read replica (`track_lsn`), each version also has a WAL position: one at or past
the commit of every change the version covers (the primary's `pg_current_wal_insert_lsn()` read
after the version was learnt: on the listener's connection after each batch of
notifications, or with the versions when they are read from the sequences). A page
rendered on the replica is cached under a version only if the replica had replayed that
far (`lsn_covering`; stockline.read_routing), so a lagging replica never stores an older
catalog under a newer version.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import psycopg
from psycopg_pool import AsyncConnectionPool

from stockline import db
from stockline.read_routing import parse_lsn
from stockline.sqlfile import queries_beside

log = logging.getLogger(__name__)
Q = queries_beside(__file__)
CHANNEL = "stockline_catalog"
LISTING_CHANNEL = "stockline_listing"
USER_STATE_CHANNEL = "stockline_user_state"  # a user's token state changed (db/schema.sql's triggers)
_RECONNECT_SECONDS = 1.0
_QUIET_SECONDS = 5.0  # after this long without a notification, ping the connection
POSITION_SQL = "SELECT pg_current_wal_insert_lsn()::text"


class CatalogVersion:
    def __init__(self, url: str, connect_timeout: int = 5, *, track_lsn: bool = False) -> None:
        self.url = url
        self.connect_timeout = connect_timeout
        self.track_lsn = track_lsn
        self.value = 0
        self.listing = 0
        self.lsn: int | None = None  # a WAL position covering the versions in `lsn_covers`
        self.lsn_covers = (0, 0)
        self.listening = False
        self._task: asyncio.Task | None = None
        self._ready = asyncio.Event()
        self._bump: asyncio.Future | None = None  # the shared bump not sent yet
        self._bump_task: asyncio.Task | None = None  # the latest one's sender (kept referenced)
        # called with a user_id whose token state changed (a deactivation, a sign-out...), so
        # this worker's cached state of that user goes at once, not at the end of its TTL
        self.on_user_state: Callable[[int], None] | None = None

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

    def _saw(self, version: int, listing: int | None = None) -> None:
        self.value = max(self.value, version)
        if listing is not None:
            self.listing = max(self.listing, listing)

    def _covered(self, position: str | None, versions: tuple[int, int]) -> None:
        """`position`, read after `versions` were committed, covers them (and whatever an
        earlier, lower position covered)."""
        if position is None:
            return
        lsn = parse_lsn(position)
        if self.lsn is None or lsn >= self.lsn:
            self.lsn = lsn
            self.lsn_covers = (max(self.lsn_covers[0], versions[0]), max(self.lsn_covers[1], versions[1]))

    def lsn_covering(self, version: int, listing: int = 0) -> int | None:
        """A WAL position at or past the commit of every change up to these versions, or
        None when none is known yet (the caller then reads the primary)."""
        covered_version, covered_listing = self.lsn_covers
        if self.lsn is None or version > covered_version or listing > covered_listing:
            return None
        return self.lsn

    async def _read(self, pool: AsyncConnectionPool) -> None:
        async with pool.connection() as conn:
            row = await db.fetch_one(conn, Q["catalog_version_and_position" if self.track_lsn
                                             else "catalog_version"])
        self._saw(row["version"], row["listing_version"])
        if self.track_lsn:  # read in one statement: the position covers the versions read
            self._covered(row["position"], (row["version"], row["listing_version"]))

    async def refresh(self, pool: AsyncConnectionPool) -> None:
        """Read both versions from the sequences now, not waiting for their NOTIFY: a change
        committed by someone who announces nothing to this worker (a rule typed into psql,
        moved by the Pricing_Rules trigger) is then seen by the very next request. One small
        query; PharmAssist's catalog route (stockline.compat) pays it, as its scripts write
        rules by SQL and read the catalog at once."""
        await self._read(pool)

    async def current(self, pool: AsyncConnectionPool) -> int:
        """The catalog version (moves with stock too)."""
        if not self.listening:
            await self._read(pool)
        return self.value

    async def current_pair(self, pool: AsyncConnectionPool) -> tuple[int, int]:
        """The catalog version and the listing version (which does not move with stock)."""
        if not self.listening:
            await self._read(pool)
        return self.value, self.listing

    async def announce_change(self, conn: psycopg.AsyncConnection) -> None:
        """After a commit that changed stock only: a new catalog version for every worker,
        this one at once."""
        row = await db.fetch_one(conn, Q["bump_stock_version"])
        self._saw(row["version"])

    async def announce_committed_change(self, pool: AsyncConnectionPool) -> None:
        """`announce_change` for a stock change already committed (its COMMIT answered),
        from a connection of the pool. Changes committed while a bump is waiting to be sent
        share it: one version drawn after all their commits covers them all, so under heavy
        ordering a worker sends one bump per batch of orders instead of one per order (each
        NOTIFY serialises commits on a lock and wakes every worker's listener)."""
        if self._bump is None:
            self._bump = asyncio.get_running_loop().create_future()
            self._bump_task = asyncio.create_task(self._send_bump(pool, self._bump))
        await asyncio.shield(self._bump)

    async def _send_bump(self, pool: AsyncConnectionPool, bump: asyncio.Future) -> None:
        try:
            async with pool.connection() as conn:  # changes committed meanwhile join this bump
                self._bump = None  # from here on, a change needs the next bump
                row = await db.fetch_one(conn, Q["bump_stock_version"])
            self._saw(row["version"])
            bump.set_result(None)
        except BaseException as exc:
            if self._bump is bump:
                self._bump = None
            if isinstance(exc, Exception):
                bump.set_exception(exc)
            else:  # cancelled (shutting down): the waiters are too
                bump.cancel()
                raise

    async def announce_listing_change(self, conn: psycopg.AsyncConnection) -> None:
        """After a commit that changed products, SKUs, prices or pricing rules (anything a
        listing shows but stock): a new catalog version and a new listing version for every
        worker, this one at once."""
        row = await db.fetch_one(conn, Q["bump_catalog_version"])
        self._saw(row["version"], row["listing_version"])

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
                    await conn.execute(f"LISTEN {LISTING_CHANNEL}")
                    await conn.execute(f"LISTEN {USER_STATE_CHANNEL}")
                    # read after LISTEN, so a bump between the two is not missed
                    if self.track_lsn:
                        version, listing, position = await (await conn.execute(
                            Q["catalog_version_and_position"].sql)).fetchone()
                        self._saw(version, listing)
                        self._covered(position, (version, listing))
                    else:
                        version, listing = await (await conn.execute(Q["catalog_version"].sql)).fetchone()
                        self._saw(version, listing)
                    self.listening = True
                    self._ready.set()
                    while True:
                        heard = False
                        # tracking positions: stop at the first packet, to learn the position
                        async for notice in conn.notifies(timeout=_QUIET_SECONDS,
                                                          stop_after=1 if self.track_lsn else None):
                            heard = True
                            if notice.channel == USER_STATE_CHANNEL:
                                if self.on_user_state is not None:
                                    self.on_user_state(int(notice.payload))
                            elif notice.channel == LISTING_CHANNEL:
                                self.listing = max(self.listing, int(notice.payload))
                            else:
                                self._saw(int(notice.payload))
                        if heard and self.track_lsn:
                            # what is known before the position is asked for is covered by it
                            # (a bump this worker makes meanwhile is not); notifications
                            # arriving meanwhile wait in psycopg's backlog
                            known = (self.value, self.listing)
                            with db.deadline(conn, self.connect_timeout):
                                row = await (await conn.execute(POSITION_SQL)).fetchone()
                            self._covered(row[0], known)
                        elif not heard:
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
