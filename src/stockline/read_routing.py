"""Read routing: lag-tolerant reads on a streaming replica (DATABASE_READ_URL), and every
user's reads after their own write on something that has that write.

Without DATABASE_READ_URL nothing here does anything: `ReadRouter.run` takes a connection
of the primary's pool, as the callers did before, and no position is read or remembered.

With it:

- **Which reads.** Only what a caller hands to `ReadRouter.run` (through `ctx.read`): the
  catalog's pages, the reports, the dashboard. Transactions, and every read that decides a
  write (cart, checkout, stock checks), stay on the primary because they never come here.
- **Read-your-writes across nodes.** After a user's transaction commits, the primary's WAL
  position read right after COMMIT (`pg_current_wal_insert_lsn()`, sent with it by
  `stockline.db.run_transaction`: the insert position, which unlike the write position
  `pg_current_wal_lsn()` is past the commit even under synchronous_commit=off) is
  remembered for that user for READ_YOUR_WRITES_SECONDS: in Redis when REDIS_URL is set
  (every node sees it; a Lua script keeps the highest), and in this process always. A later
  read of that user goes to the replica only when the replica has replayed that position
  (`pg_last_wal_replay_lsn()`, asked on the replica connection itself, and only when the
  last figure known here is older); otherwise to the primary. Users without a recent write
  and anonymous callers read the replica without a question. If Redis cannot say, the
  read goes to the primary (never a stale answer).
- **Cached answers.** Catalog pages, listing skeletons and dashboard figures are cached
  under a catalog version, which moves when the primary commits (LISTEN/NOTIFY). Such a
  read (`run_for_cache`) gets the WAL position the version covers (from
  stockline.kernel.catalog_version) and learns whether its answer may be cached: from the
  replica only if the replica had replayed that position when the read began; otherwise
  the answer is served (it is as fresh as any lag-tolerant read) but not stored, so no page
  older than a version is ever kept under it.
- **A replica that is behind or gone.** A monitor checks the replica every second: the
  primary's position, then the replica's replay position and last replayed commit time. Its
  lag is 0 when it has replayed what the primary had written; otherwise the smaller of
  "time since the last replayed commit" and "time since the newest primary sample it has
  replayed" (an idle primary does not make an up-to-date replica look behind). A replica
  lagging more than REPLICA_MAX_LAG_SECONDS, down, or not in recovery at all is not used;
  a replica failing in the middle of a read (a lost connection, a query cancelled by a
  recovery conflict) has the read run again on the primary. The state is logged when it
  changes and shown on /ready; /metrics counts reads by where they went and why.

The user comes from the request: `request_scope()` (the observability middleware) opens a
record per request, `identify()` (stockline.auth.service.authenticate) puts the signed-in
user in it, and the record also notes where the request's reads went (the
`X-Stockline-Read` response header).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

import psycopg
from psycopg import errors as pg_errors
from psycopg_pool import PoolTimeout

from stockline import db
from stockline.cache import TtlCache
from stockline.config import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

READ_HEADER = "x-stockline-read"
CHECK_SECONDS = 1.0  # how often the monitor looks at the replica
_ACQUIRE_SECONDS = 1.0  # a replica connection not had within this: the read goes to the primary
_PROBE_SECONDS = 2.0  # the monitor's queries answer within this or the replica counts as down

# replica states
STARTING, UP, LAGGING, DOWN, NOT_STANDBY = "starting", "up", "lagging", "down", "not_standby"

REPLICA_SQL = """
SELECT pg_is_in_recovery() AS standby,
       pg_last_wal_replay_lsn()::text AS replayed,
       extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 AS replay_age
"""
PRIMARY_SQL = "SELECT pg_current_wal_insert_lsn()::text AS position"
REPLAYED_SQL = "SELECT pg_last_wal_replay_lsn()::text AS replayed"


# --- WAL positions ---------------------------------------------------------------------------

def parse_lsn(text: str | None) -> int:
    """`16/B374D848` as a number of bytes (None, from a standby that replayed nothing: 0)."""
    if not text:
        return 0
    high, _, low = text.partition("/")
    return (int(high, 16) << 32) + int(low, 16)


def format_lsn(position: int) -> str:
    return f"{position >> 32:X}/{position & 0xFFFFFFFF:X}"


# --- the request's record --------------------------------------------------------------------

@dataclass
class RequestReads:
    """Who is asking in this request (None: anonymous) and where its routed reads went."""

    user_id: int | None = None
    served: set[str] = field(default_factory=set)

    def header(self) -> str | None:
        """`replica`, `primary`, `mixed`, or None when no read was routed."""
        if not self.served:
            return None
        return next(iter(self.served)) if len(self.served) == 1 else "mixed"


_request: ContextVar[RequestReads | None] = ContextVar("stockline_request_reads", default=None)


@contextlib.contextmanager
def request_scope() -> Iterator[RequestReads]:
    """A fresh record for one request (the observability middleware opens it)."""
    record = RequestReads()
    token = _request.set(record)
    try:
        yield record
    finally:
        _request.reset(token)


def identify(user_id: int) -> None:
    """The signed-in user of this request (a no-op outside a request)."""
    record = _request.get()
    if record is not None:
        record.user_id = user_id


def current_user_id() -> int | None:
    record = _request.get()
    return record.user_id if record is not None else None


def _served(where: str) -> None:
    record = _request.get()
    if record is not None:
        record.served.add(where)


# --- users' last write positions -------------------------------------------------------------

class Unknown(Exception):
    """Where a user last wrote cannot be told now (Redis did not answer)."""


# SET the key to ARGV[1] unless it holds a later position (fixed-width hex compares as text)
_KEEP_HIGHEST = """
local held = redis.call('GET', KEYS[1])
if (not held) or held < ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
else
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return 1
"""


class WritePositions:
    """Each user's latest commit position for `ttl` seconds: in this process, and in Redis
    when a URL is given (shared by every node behind the balancer)."""

    KEY = "stockline:wrote:{}"

    def __init__(self, ttl: int, redis_url: str | None = None) -> None:
        self.ttl = ttl
        self.local: TtlCache[int] = TtlCache(float(ttl), max_entries=100_000)
        self.client: Any = None
        self.redis_errors = 0
        self._redis_failing = False
        if redis_url:
            import redis.asyncio as redis

            self.client = redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
            self._keep_highest = self.client.register_script(_KEEP_HIGHEST)

    def _redis_trouble(self, exc: Exception) -> None:
        self.redis_errors += 1
        if not self._redis_failing:
            log.warning("read-your-writes: Redis failed (%s); reads of signed-in users go to the primary",
                        type(exc).__name__)
        self._redis_failing = True

    def _redis_fine(self) -> None:
        if self._redis_failing:
            log.info("read-your-writes: Redis answers again")
        self._redis_failing = False

    async def remember(self, user_id: int, position: int) -> None:
        if position > (self.local.get(user_id) or 0):
            self.local.set(user_id, position)
        if self.client is None:
            return
        try:
            await self._keep_highest(keys=[self.KEY.format(user_id)], args=[f"{position:016X}", self.ttl])
        except Exception as exc:  # any Redis failure; this node still remembers
            self._redis_trouble(exc)
        else:
            self._redis_fine()

    async def recall(self, user_id: int) -> int | None:
        """The user's latest write position within the window, None for none; Unknown when
        Redis cannot say."""
        local = self.local.get(user_id)
        if self.client is None:
            return local
        try:
            held = await self.client.get(self.KEY.format(user_id))
        except Exception as exc:
            self._redis_trouble(exc)
            raise Unknown from exc
        self._redis_fine()
        shared = int(held, 16) if held else None
        if local is None or shared is None:
            return shared if local is None else local
        return max(local, shared)

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()


# --- the router ------------------------------------------------------------------------------

@dataclass
class ReplicaStatus:
    state: str = STARTING
    lag_seconds: float | None = None
    replayed: int = 0  # the highest replay position seen (monotonic while the replica is up)
    replay_age_seconds: float | None = None  # since the last replayed commit (the primary's clock)
    checked_at: float | None = None  # time.time() of the last check

    def as_dict(self) -> dict[str, Any]:
        return {"state": self.state,
                "lag_seconds": None if self.lag_seconds is None else round(self.lag_seconds, 3),
                "replay_lsn": format_lsn(self.replayed) if self.replayed else None,
                "last_replayed_commit_age_seconds":
                    None if self.replay_age_seconds is None else round(self.replay_age_seconds, 3)}


class ReadRouter:
    """Where a lag-tolerant read runs (see the module's docstring). `replica` None: always the
    primary, as before read routing existed."""

    def __init__(self, settings: Settings, primary: db.Pool, replica: db.Pool | None,
                 positions: WritePositions | None = None) -> None:
        self.settings = settings
        self.primary = primary
        self.replica = replica
        self.positions = positions or WritePositions(settings.read_your_writes_seconds)
        self.max_lag = float(settings.replica_max_lag_seconds)
        self.status = ReplicaStatus()
        # reads by (served_by, reason): ("replica", "ok"), ("primary", "own_write"), ...
        self.counts: dict[tuple[str, str], int] = {}
        self.write_positions_kept = 0
        self._samples: deque[tuple[float, int]] = deque()  # (monotonic time, primary position)
        self._history_seconds = max(2 * self.max_lag, 10.0)
        self._task: asyncio.Task | None = None

    @property
    def enabled(self) -> bool:
        return self.replica is not None

    # -- life cycle

    async def start(self) -> None:
        """Open the replica's pool and start the monitor (nothing without a replica)."""
        if self.replica is None:
            return
        await self.replica.open(wait=False)  # start even if the replica is down
        self._task = asyncio.create_task(self._monitor(), name="replica-monitor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.replica is not None:
            await self.replica.close()
        await self.positions.close()

    # -- writes

    def commit_position(self) -> db.CommitPosition | None:
        """What `db.run_transaction` calls with a commit's WAL position: remembers it for
        this request's user. None (no position is even asked for) without a replica or a
        signed-in user."""
        if self.replica is None:
            return None
        user_id = current_user_id()
        if user_id is None:
            return None

        async def keep(lsn: str) -> None:
            self.write_positions_kept += 1
            await self.positions.remember(user_id, parse_lsn(lsn))

        return keep

    # -- reads

    def _count(self, served_by: str, reason: str) -> None:
        key = (served_by, reason)
        self.counts[key] = self.counts.get(key, 0) + 1
        _served(served_by)

    async def run(self, work: Callable[[psycopg.AsyncConnection], Awaitable[T]]) -> T:
        """`work(conn)` (read-only, safe to run again) on the replica when it may serve this
        request's user, else on the primary."""
        result, _ = await self.run_for_cache(work, None, for_cache=False)
        return result

    async def run_for_cache(self, work: Callable[[psycopg.AsyncConnection], Awaitable[T]],
                            covering: int | None, *, for_cache: bool = True) -> tuple[T, bool]:
        """`run`, for an answer to be cached under a version whose changes are all at or
        before WAL position `covering` (None: not known yet). Also says whether the answer
        may be cached under it: always from the primary; from the replica only if it had
        replayed `covering` (otherwise it is served, being no older than a lag-tolerant read
        may be, but not kept)."""
        if self.replica is None:
            async with self.primary.connection() as conn:
                return await work(conn), True
        reason = None if self.status.state == UP else "replica_" + self.status.state
        position = None
        if reason is None:
            try:
                position = await self._user_position()
            except Unknown:
                reason = "redis_unknown"
        if reason is None:
            need = position or 0
            try:
                async with self.replica.connection(timeout=_ACQUIRE_SECONDS) as conn:
                    replayed = self.status.replayed
                    if need > replayed or (for_cache and covering is not None and covering > replayed):
                        replayed = await self._replayed(conn)
                    if need > replayed:
                        reason = "own_write"
                    else:
                        result = await work(conn)
                        fresh = not for_cache or (covering is not None and replayed >= covering)
                        self._count("replica", "ok" if fresh else "not_cached")
                        return result, fresh
            except PoolTimeout:
                reason = "replica_busy"  # no replica connection free in time: the primary helps out
            except (psycopg.OperationalError, pg_errors.SerializationFailure) as exc:
                # lost or refused (the replica is not used until the monitor sees it again),
                # or a query cancelled by a recovery conflict
                if isinstance(exc, psycopg.OperationalError):
                    self._set(DOWN, None, f"a read failed: {type(exc).__name__}")
                reason = "replica_error"
        async with self.primary.connection() as conn:
            result = await work(conn)
        self._count("primary", reason)
        return result, True

    async def _user_position(self) -> int | None:
        user_id = current_user_id()
        if user_id is None:
            return None
        return await self.positions.recall(user_id)

    async def _replayed(self, conn: psycopg.AsyncConnection) -> int:
        """How far the replica has replayed, asked on the read's own connection (its next
        statement's snapshot has at least that)."""
        row = await db.fetch_one(conn, REPLAYED_SQL)
        replayed = parse_lsn(row["replayed"] if row else None)
        self.status.replayed = max(self.status.replayed, replayed)
        return replayed

    # -- the monitor

    async def _monitor(self) -> None:
        while True:
            await self.check()
            await asyncio.sleep(CHECK_SECONDS)  # a pace, not a wait for anything

    async def check(self) -> ReplicaStatus:
        """Look at the replica once: its state, lag and replay position."""
        assert self.replica is not None
        now = time.monotonic()
        try:
            async with self.primary.connection(timeout=_PROBE_SECONDS) as conn:
                with db.deadline(conn, _PROBE_SECONDS):
                    row = await db.fetch_one(conn, PRIMARY_SQL)
            self._samples.append((now, parse_lsn(row["position"])))
        except (psycopg.Error, PoolTimeout, OSError) as exc:
            log.debug("replica monitor: the primary did not answer (%s)", type(exc).__name__)
        while self._samples and self._samples[0][0] < now - self._history_seconds:
            self._samples.popleft()
        try:
            async with self.replica.connection(timeout=_PROBE_SECONDS) as conn:
                with db.deadline(conn, _PROBE_SECONDS):
                    row = await db.fetch_one(conn, REPLICA_SQL)
        except (psycopg.Error, PoolTimeout, OSError) as exc:
            self._set(DOWN, None, f"{type(exc).__name__}")
            self.status.replayed = 0  # a replica back from the dead is asked again
            return self.status
        self.status.checked_at = time.time()
        if not row["standby"]:
            self._set(NOT_STANDBY, None, "pg_is_in_recovery() is false")
            return self.status
        replayed = parse_lsn(row["replayed"])
        self.status.replayed = max(self.status.replayed, replayed)
        self.status.replay_age_seconds = row["replay_age"]
        lag = self._lag(time.monotonic(), replayed, row["replay_age"])
        self._set(UP if lag <= self.max_lag else LAGGING, lag,
                  f"{lag:.1f} s behind (REPLICA_MAX_LAG_SECONDS={self.max_lag:g})")
        return self.status

    def _lag(self, now: float, replayed: int, replay_age: float | None) -> float:
        """How far behind the replica is, in seconds (an upper bound): 0 when it replayed
        all the primary had written at the last sample; else the smaller of the time since
        its last replayed commit and the time since the newest sample it has replayed."""
        if not self._samples:
            return float("inf")  # the primary has not answered: no telling
        if replayed >= self._samples[-1][1]:
            return 0.0
        by_samples = now - self._samples[0][0]  # older than anything remembered: at least this
        for sampled_at, position in reversed(self._samples):
            if position <= replayed:
                by_samples = now - sampled_at
                break
        by_commit = max(0.0, replay_age) if replay_age is not None else float("inf")
        return min(by_samples, by_commit)

    def _set(self, state: str, lag: float | None, why: str) -> None:
        previous = self.status.state
        self.status.state = state
        self.status.lag_seconds = lag
        if state == previous:
            return
        if state == UP:
            log.info("read replica in use (%s)", why if lag else "caught up")
        else:
            log.warning("read replica not used: %s (%s); its reads go to the primary", state, why)

    def describe(self) -> dict[str, Any] | None:
        """The replica's state for /ready (None without one)."""
        if self.replica is None:
            return None
        return self.status.as_dict()
