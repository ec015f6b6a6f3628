"""Database access: which database, the embedded server, the schema, the pool, running
queries, transactions.

- `resolve_database_url()`: `DATABASE_URL` when set, otherwise the embedded PostgreSQL
  (pgserver) in `<data dir>/pgdata`, started on first use and left running so later CLI
  calls and server processes reuse it (`stockline db stop` stops it).
- `apply_schema()` / `drop_schema()`: db/schema.sql (tables, sequences and the SQL rule
  functions) in one transaction, under an advisory lock so concurrent start-ups apply it
  once; `bootstrap_search_indexes()` adds the optional pg_trgm indexes where it can.
- `create_pool()`: the app's async pool (`Pool`); autocommit, so a connection is only in a
  transaction inside `run_transaction()`. Every connection carries the server-side timeouts
  (`lock_timeout`, `statement_timeout`, `idle_in_transaction_session_timeout`); every use
  of one has a deadline after which it is cut (the database stopped answering); a connection
  found dead drains the pool's idle ones, so a database restart costs each worker about one
  refused request.
- `send()` / `fetch_all()` / `fetch_one()` / `execute()`: how the app runs a query (usually
  a named `sqlfile.Query`) on an async connection. `send` queues it and returns a `Pending`
  whose answer is read when needed; the others read it at once. All count and time
  themselves (Server-Timing) and turn constraint violations into domain errors by
  constraint name, and lock and statement timeouts into 503s.
- `run_transaction()`: one transaction per use case (services reach it through
  `ctx.transaction`, which applies DB_TX_RETRIES), in pipeline mode: BEGIN travels with the
  first statements, COMMIT with the last ones and with what `after_commit` sends. Retried
  whole on serialization failures and deadlocks a bounded number of times, and on a pooled
  connection found dead before the server answered; never once COMMIT was sent.
- `connect()`: a plain synchronous connection, for the CLI, the seed and tests.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import subprocess
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import psycopg
from psycopg import errors as pg_errors
from psycopg import pq
from psycopg import sql as pgsql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import RowFactory, dict_row
from psycopg_pool import AsyncConnectionPool

from stockline.config import Settings
from stockline.errors import Conflict, ServiceUnavailable, StocklineError, ValidationFailed
from stockline.sqlfile import Query

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "stockline"

# every table schema.sql creates, parents before children
TABLES = (
    "customers", "users", "products", "tax_classes", "tax_rates", "product_skus", "inventory_batches",
    "pricing_rules", "carts", "cart_items", "orders", "order_items", "suppliers", "supplier_skus",
    "purchase_orders", "purchase_order_lines", "recalls", "recall_batches", "batch_status_changes",
    "stock_movements", "sign_in_attempts", "sign_in_failures", "revoked_tokens", "batch_edits",
    "audit_log", "customer_invitations", "document_counters", "invoices",
    "invoice_lines", "payments", "returns", "return_lines", "credit_notes", "credit_note_lines",
)
# tables the schema itself puts rows in (the zero tax class and its rate, by
# stockline_schema_rows()): configuration, not data, so a database holding only those rows
# counts as empty (backup.restore), and whoever empties the tables runs SCHEMA_ROWS_SQL after
SCHEMA_ROW_TABLES = ("tax_classes", "tax_rates")
SCHEMA_ROWS_SQL = "SELECT stockline_schema_rows()"

_SCHEMA_LOCK_KEY = 0x5704C1  # advisory lock so concurrent start-ups apply the schema once
_RETRYABLE = (pg_errors.SerializationFailure, pg_errors.DeadlockDetected)

T = TypeVar("T")
R = TypeVar("R")


# --- files shipped with the schema ---------------------------------------------------------

def sql_file(name: str) -> Path:
    """`db/<name>` of the repository, or the copy packed into the wheel."""
    packaged = Path(__file__).parent / "db" / name
    if packaged.exists():
        return packaged
    return Path(__file__).resolve().parents[2] / "db" / name


# --- the embedded server -------------------------------------------------------------------

def _pgserver():
    # pgserver warns at import when XDG_RUNTIME_DIR is unset (root shells, CI); harmless
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver
    return pgserver


def embedded_pgdata(settings: Settings) -> Path:
    return settings.data_dir / "pgdata"


def _postmaster(pgdata: Path):
    info = _pgserver().utils.PostmasterInfo.read_from_pgdata(pgdata) if pgdata.exists() else None
    return info if info is not None and info.is_running() else None


def start_embedded(settings: Settings) -> str:
    """Start (or find running) the embedded server; returns its URL for `dbname`."""
    pgserver = _pgserver()
    pgdata = embedded_pgdata(settings)
    if _postmaster(pgdata) is None:
        # pgserver keeps one handle per folder and process, and a handle starts its server
        # only when made: a server stopped since (`stop_embedded`) needs a new handle
        pgserver.PostgresServer._instances.pop(pgdata.resolve(), None)
    try:
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        server = pgserver.get_server(pgdata, cleanup_mode=None)  # None: keep running after exit
    except (OSError, subprocess.SubprocessError) as exc:
        raise StocklineError(
            f"the embedded PostgreSQL in {pgdata} did not start ({type(exc).__name__}); "
            f"its log is {pgdata / 'log'}. Set DATABASE_URL to use another server."
        ) from exc
    socket_dir = server.get_postmaster_info().socket_dir
    return f"postgresql://postgres@/{EMBEDDED_DATABASE}?host={quote(str(socket_dir), safe='/')}"


def embedded_running(settings: Settings) -> bool:
    return _postmaster(embedded_pgdata(settings)) is not None


def stop_embedded(settings: Settings) -> bool:
    """Stop the embedded server cleanly (fast shutdown). False if it was not running."""
    pgdata = embedded_pgdata(settings)
    if _postmaster(pgdata) is None:
        return False
    pgserver = _pgserver()
    user = "pgserver" if hasattr(os, "geteuid") and os.geteuid() == 0 else None
    pgserver.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    return True


def psql_executable() -> Path:
    return _pgserver()._commands.POSTGRES_BIN_PATH / "psql"


def with_database(url: str, dbname: str) -> str:
    """The same server, another database (as a libpq key=value string)."""
    return make_conninfo(url, dbname=dbname)


def database_name(url: str) -> str:
    return conninfo_to_dict(url).get("dbname") or "postgres"


def ensure_database_exists(url: str) -> None:
    name = database_name(url)
    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return
        with suppress(pg_errors.DuplicateDatabase):  # another process created it first
            conn.execute(pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(name)))


def resolve_database_url(settings: Settings) -> str:
    """The database in use: DATABASE_URL, or the embedded one (started if needed)."""
    if settings.database_url:
        return settings.database_url
    url = start_embedded(settings)
    ensure_database_exists(url)
    return url


# --- schema --------------------------------------------------------------------------------

def apply_schema(conn: psycopg.Connection) -> None:
    """Apply db/schema.sql in one transaction, serialised across processes."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK_KEY,))
        conn.execute(sql_file("schema.sql").read_text(encoding="utf-8"))


def bootstrap_search_indexes(conn: psycopg.Connection) -> bool:
    """Create the pg_trgm search indexes if the server allows; log one line if not."""
    try:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK_KEY,))
            conn.execute(sql_file("search_indexes.sql").read_text(encoding="utf-8"))
    except psycopg.Error as exc:
        reason = (exc.diag.message_primary or type(exc).__name__) if exc.diag else str(exc)
        log.warning("search index bootstrap skipped: pg_trgm unavailable (%s); "
                    "search works without it, only slower", reason)
        return False
    log.info("search index bootstrap: pg_trgm indexes present")
    return True


MISSING_TABLES_SQL = "SELECT t AS table_name FROM unnest(%s::text[]) AS t WHERE to_regclass(t) IS NULL"


def missing_tables(conn: psycopg.Connection) -> list[str]:
    """Tables of the schema that this database lacks (empty when the schema is applied)."""
    return [row[0] for row in conn.execute(MISSING_TABLES_SQL, (list(TABLES),)).fetchall()]


def connect(url: str, **kwargs: Any) -> psycopg.Connection:
    """A plain synchronous connection, for the CLI and tests."""
    return psycopg.connect(url, autocommit=True, application_name="stockline-cli", **kwargs)


# --- the pool ------------------------------------------------------------------------------

def session_options(settings: Settings) -> str:
    """The server-side limits every app connection carries (libpq `options`): a lock wait,
    a statement and an idle transaction each end with an error instead of hanging."""
    return (f"-c lock_timeout={settings.db_lock_timeout}s "
            f"-c statement_timeout={settings.db_statement_timeout}s "
            f"-c idle_in_transaction_session_timeout={settings.db_statement_timeout}s")


def cut_connection(conn: psycopg.AsyncConnection, seconds: float) -> bool:
    """Shut down the connection's socket, as the kernel's TCP timeout would: whatever waits
    on it fails at once with OperationalError. Cancelling the waiting task instead would
    make psycopg send a cancel request over the same silent network and wait 10 s more.
    False when there was nothing to cut."""
    if conn.closed:
        return False
    log.warning("the database did not answer within %.0f s: cutting the connection", seconds)
    with suppress(OSError), socket.socket(fileno=os.dup(conn.pgconn.socket)) as sock:
        sock.shutdown(socket.SHUT_RDWR)
    return True


@contextmanager
def deadline(conn: psycopg.AsyncConnection, seconds: float,
             on_cut: Callable[[], None] | None = None) -> Iterator[None]:
    """Cut `conn` (see `cut_connection`) if the block is still running after `seconds`."""
    def expire() -> None:
        if cut_connection(conn, seconds) and on_cut is not None:
            on_cut()

    timer = asyncio.get_running_loop().call_later(seconds, expire)
    try:
        yield
    finally:
        timer.cancel()


class Pool(AsyncConnectionPool):
    """The app's pool: a deadline on every use of a connection, and a drain of every idle
    connection when one is found dead (after a restart or a failover all of them are)."""

    _DRAIN_INTERVAL_SECONDS = 1.0

    def __init__(self, *args: Any, hang_seconds: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hang_seconds = hang_seconds
        self.cuts = 0  # connections cut by the deadline
        self.drains = 0
        self._drained = 0.0

    @asynccontextmanager
    async def connection(self, timeout: float | None = None,  # noqa: ASYNC109 - the pool's signature
                         ) -> AsyncIterator[psycopg.AsyncConnection]:
        async with super().connection(timeout) as conn:
            with deadline(conn, self.hang_seconds, self._count_cut):
                try:
                    yield conn
                except psycopg.OperationalError:
                    if conn.broken:
                        await self.drain_dead()
                    raise

    def _count_cut(self) -> None:
        self.cuts += 1

    async def drain_dead(self) -> None:
        """A connection died: its idle siblings most likely did too. Replace them all (at
        most once a second, however many requests notice)."""
        now = time.monotonic()
        if now - self._drained < self._DRAIN_INTERVAL_SECONDS:
            return
        self._drained = now
        self.drains += 1
        log.warning("a database connection was lost; replacing the pool's idle connections")
        await self.drain()


def create_pool(settings: Settings, url: str, *, name: str = "stockline") -> Pool:
    """The pool of the primary (`name` "stockline"), or of a read replica ("stockline-read",
    `create_read_pool`): the same settings, sizes and watchdog."""
    kwargs: dict[str, Any] = {
        "autocommit": True,
        "row_factory": dict_row,
        "application_name": name,
        "connect_timeout": settings.db_connect_timeout,
        "options": session_options(settings),
    }
    if not settings.db_prepare:
        kwargs["prepare_threshold"] = None  # PgBouncer transaction pooling
    # The pool retries a failed connect with doubling delays until `reconnect_timeout`,
    # then gives up and starts afresh at the next request. Kept short, a database back from
    # an outage is found within seconds, not after a delay that doubled all through it.
    return Pool(
        url, min_size=settings.db_pool_min, max_size=settings.db_pool_max, kwargs=kwargs,
        open=False, name=name, timeout=float(settings.db_connect_timeout),
        reconnect_timeout=float(2 * settings.db_connect_timeout), hang_seconds=settings.db_hang_seconds,
    )


def create_read_pool(settings: Settings, url: str) -> Pool:
    """The pool of the replica DATABASE_READ_URL names (stockline.read_routing uses it)."""
    return create_pool(settings, url, name="stockline-read")


# --- queries -------------------------------------------------------------------------------

@dataclass
class DbUsage:
    """Queries run and seconds spent in them, within one measure_db_time() block."""

    queries: int = 0
    seconds: float = 0.0


_db_usage: ContextVar[DbUsage | None] = ContextVar("stockline_db_usage", default=None)


@contextmanager
def measure_db_time() -> Iterator[DbUsage]:
    """Counts the queries run within the block and the time spent in them."""
    usage = DbUsage()
    token = _db_usage.set(usage)
    try:
        yield usage
    finally:
        _db_usage.reset(token)


# constraint name -> what the user is told; anything unlisted gets a generic message
CONSTRAINT_MESSAGES: dict[str, str] = {
    "inventory_batches_qty_nonneg": "Stock cannot go below zero",
    "stock_movements_batch_fk": "A stock movement names a batch that does not exist",
    "inventory_batches_sku_batch_no_key": "This SKU already has a batch with that batch number",
    "product_skus_sku_code_key": "Another SKU already uses that SKU code",
    "product_skus_base_price_nonneg": "Base price cannot be negative",
    "pricing_rules_discount_range": "Discount must be between 0 and 100 percent",
    "users_username_key": "That username is taken",
    "users_username_lower_key": "That username is taken",
    "orders_customer_idempotency_key": "That idempotency key was already used",
}


def _constraint_error(exc: psycopg.errors.IntegrityError) -> Exception:
    constraint = exc.diag.constraint_name or ""
    message = CONSTRAINT_MESSAGES.get(constraint)
    details = {"constraint": constraint} if constraint else None
    if isinstance(exc, pg_errors.UniqueViolation):
        return Conflict(message or "A record with these values already exists", details=details)
    if isinstance(exc, pg_errors.ForeignKeyViolation):
        if "is still referenced" in (exc.diag.message_detail or ""):
            return Conflict(message or "The record is still in use", details=details)
        return ValidationFailed(message or "A referenced record does not exist", details=details)
    return ValidationFailed(message or "A value is out of range or missing", details=details)


def _timeout_error(exc: pg_errors.LockNotAvailable | pg_errors.QueryCanceled) -> ServiceUnavailable:
    if isinstance(exc, pg_errors.LockNotAvailable):
        return ServiceUnavailable("Another operation is holding these records; please retry",
                                  code="busy_retry", headers={"Retry-After": "2"})
    return ServiceUnavailable("The database took too long to answer; please retry",
                              code="database_timeout", headers={"Retry-After": "2"})


@contextmanager
def _translated(name: str) -> Iterator[None]:
    """Database errors a user can cause or wait out, as domain errors. In a pipeline an
    error surfaces where an answer is awaited, so `name` is the statement awaited then (the
    failing one, or one sent after it)."""
    try:
        yield
    except psycopg.errors.IntegrityError as exc:
        raise _constraint_error(exc) from exc
    except (pg_errors.LockNotAvailable, pg_errors.QueryCanceled) as exc:  # lock_timeout, statement_timeout
        limit = "lock_timeout" if isinstance(exc, pg_errors.LockNotAvailable) else "statement_timeout"
        log.warning("%s in query %s: answered 503", limit, name)
        raise _timeout_error(exc) from exc


@contextmanager
def _timed() -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        usage = _db_usage.get()
        if usage is not None:
            usage.seconds += time.perf_counter() - started


class Pending:
    """A statement sent, whose answer is read when needed. Inside `run_transaction` the
    connection is in pipeline mode: statements sent one after another travel together and
    their answers come back together, in one round trip, when the first answer is read."""

    def __init__(self, cursor: psycopg.AsyncCursor[Any], name: str) -> None:
        self._cursor = cursor
        self.name = name

    async def all(self) -> list[Any]:
        with _translated(self.name), _timed():
            rows = await self._cursor.fetchall()
        _answered()
        return rows

    async def one(self) -> Any:
        with _translated(self.name), _timed():
            row = await self._cursor.fetchone()
        _answered()
        return row

    async def rowcount(self) -> int:
        if self._cursor.pgresult is None:  # still on its way in a pipeline: wait for it
            with suppress(psycopg.ProgrammingError):  # "no rows to fetch": the answer is in
                await self.all()
        return self._cursor.rowcount


async def send(conn: psycopg.AsyncConnection, query: Query | str, params: Any = None, *,
               row_factory: RowFactory | None = None) -> Pending:
    """Send a statement; read its answer from the Pending (rows are dicts unless
    `row_factory` says otherwise). Outside a pipeline it has run (and raised) already; in
    one, an error surfaces at the next answer read or at COMMIT."""
    name = query.name if isinstance(query, Query) else "(inline)"
    sql = query.sql if isinstance(query, Query) else query
    usage = _db_usage.get()
    if usage is not None:
        usage.queries += 1
    cursor = conn.cursor(row_factory=row_factory) if row_factory is not None else conn.cursor()
    with _translated(name), _timed():
        await cursor.execute(sql, params)
    return Pending(cursor, name)


async def fetch_all(conn: psycopg.AsyncConnection, query: Query | str,
                    params: Any = None) -> list[dict[str, Any]]:
    return await (await send(conn, query, params)).all()


async def fetch_one(conn: psycopg.AsyncConnection, query: Query | str,
                    params: Any = None) -> dict[str, Any] | None:
    return await (await send(conn, query, params)).one()


async def execute(conn: psycopg.AsyncConnection, query: Query | str, params: Any = None) -> int:
    """Run a statement and return its row count (in a pipeline: waits for it; `send` does not)."""
    return await (await send(conn, query, params)).rowcount()


# --- transactions --------------------------------------------------------------------------

@dataclass
class _Attempt:
    answered: bool = False  # the server answered a statement of this attempt
    committing: bool = False  # COMMIT was sent
    committed: bool = False  # ... and an error came after it had happened


_attempt: ContextVar[_Attempt | None] = ContextVar("stockline_tx_attempt", default=None)


def _answered() -> None:
    attempt = _attempt.get()
    if attempt is not None:
        attempt.answered = True


# the primary's WAL position right after a COMMIT: at or past the commit's record, so a
# replica that replayed it has the transaction (stockline.read_routing, read-your-writes)
COMMIT_POSITION_SQL = "SELECT pg_current_wal_insert_lsn()::text AS position"

CommitPosition = Callable[[str], Awaitable[None]]


async def _in_transaction(conn: psycopg.AsyncConnection, attempt: _Attempt,
                          work: Callable[[psycopg.AsyncConnection], Awaitable[T]],
                          after_commit: Callable[[psycopg.AsyncConnection, T], Awaitable[R]] | None,
                          commit_position: CommitPosition | None = None,
                          ) -> T | R:
    """One attempt, pipelined: BEGIN travels with the first statements of `work`, COMMIT
    with its last ones and with what `after_commit` sends (and the WAL position asked for
    `commit_position`). A transaction that failed is rolled back before the error goes up."""
    token = _attempt.set(attempt)
    try:
        with _translated("(sent with COMMIT)"):
            async with conn.pipeline():
                await conn.execute("BEGIN")
                result = await work(conn)
                attempt.committing = True
                await conn.execute("COMMIT")
                position = await conn.execute(COMMIT_POSITION_SQL) if commit_position else None
                answer = result if after_commit is None else await after_commit(conn, result)
            if position is not None and commit_position is not None:
                row = await position.fetchone()
                await commit_position(row["position"] if isinstance(row, dict) else row[0])
            return answer
    except Exception:
        if not conn.broken:  # the pipeline has synced: the status is the server's
            if conn.pgconn.transaction_status == pq.TransactionStatus.IDLE:
                attempt.committed = attempt.committing
            else:
                with suppress(psycopg.Error):
                    await conn.rollback()
        raise
    finally:
        _attempt.reset(token)


async def run_transaction(pool: Pool,
                          work: Callable[[psycopg.AsyncConnection], Awaitable[T]],
                          *, attempts: int = 5,
                          after_commit: Callable[[psycopg.AsyncConnection, T], Awaitable[R]] | None = None,
                          commit_position: CommitPosition | None = None,
                          ) -> T | R:
    """Run `work(conn)` in one transaction; retry it whole on serialization failure or
    deadlock, up to `attempts` times with jittered backoff, and on a pooled connection that
    turns out dead before the server answered anything (nothing can have happened). `work`
    must be safe to re-run: it reads everything it decides on inside the transaction.
    `after_commit(conn, result)` runs once, after COMMIT is sent, on the same connection
    (cache bumps, reading the result back): what it sends travels with the COMMIT, what it
    reads waits for it; its value is returned instead. A connection lost after COMMIT was
    sent is not retried: whether it happened only the caller can find out (an
    Idempotency-Key does).

    The connection is in pipeline mode throughout: `send` queues a statement, and the
    first answer read sends everything queued in one round trip.

    `commit_position(lsn)`, when given, is called once the transaction committed with the
    primary's WAL position read right after COMMIT (`pg_current_wal_insert_lsn()`, sent with it):
    read routing remembers it so the writer's next reads see the write."""
    for number in range(1, attempts + 1):
        async with pool.connection() as conn:
            attempt = _Attempt()
            try:
                return await _in_transaction(conn, attempt, work, after_commit, commit_position)
            except _RETRYABLE as exc:
                if attempt.committed:
                    raise
                if number == attempts:
                    log.warning("transaction gave up after %d attempts: %s", attempts,
                                type(exc).__name__)
                    raise ServiceUnavailable(
                        "The system is busy; please retry", code="busy_retry",
                        headers={"Retry-After": "1"},
                    ) from exc
            except psycopg.OperationalError:
                if attempt.answered or attempt.committing or not conn.broken or number == attempts:
                    raise
                await pool.drain_dead()
                continue  # a stale connection; take another at once
        await asyncio.sleep(random.uniform(0, 0.005 * 2**number))
    raise AssertionError("unreachable")


# --- operator views ------------------------------------------------------------------------

# the five counts step 4 of the seed procedure verifies, in one round trip
SEED_COUNTS_SQL = """
SELECT (SELECT count(*) FROM Customers) AS customers,
       (SELECT count(*) FROM Users WHERE role = 'customer') AS customer_users,
       (SELECT count(*) FROM Products) AS products,
       (SELECT count(*) FROM Product_SKUs) AS skus,
       (SELECT count(*) FROM Inventory_Batches) AS batches
"""


def seed_counts(conn: psycopg.Connection) -> dict[str, int]:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(SEED_COUNTS_SQL).fetchone()
    return dict(row) if row else {}


def drop_schema(conn: psycopg.Connection) -> None:
    """Drop every Stockline table and function (not the database, not other objects)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK_KEY,))
        for table in reversed(TABLES):
            conn.execute(pgsql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(pgsql.Identifier(table)))
        conn.execute("DROP FUNCTION IF EXISTS product_skus_fill_code() CASCADE")
        conn.execute("DROP FUNCTION IF EXISTS audit_log_append_only() CASCADE")
        conn.execute("DROP FUNCTION IF EXISTS stockline_price(integer, integer, integer, date, numeric)")
        conn.execute("DROP FUNCTION IF EXISTS stockline_sellable(integer, date, date, boolean)")
        conn.execute("DROP FUNCTION IF EXISTS stockline_expired(date, date)")
        conn.execute("DROP FUNCTION IF EXISTS stockline_low_stock(boolean, integer, integer)")
        conn.execute("DROP FUNCTION IF EXISTS stockline_catalog_item_head("
                     "integer, text, text, text, integer, text, text, text, numeric)")
        conn.execute("DROP FUNCTION IF EXISTS stockline_catalog_item_stock(integer, date, boolean)")
        conn.execute("DROP FUNCTION IF EXISTS stockline_catalog_item_tail("
                     "numeric, numeric, numeric, numeric, integer, integer, numeric)")
        conn.execute("DROP FUNCTION IF EXISTS "
                     "stockline_place_order(integer, integer, integer[], integer[], text, date, date)")
        conn.execute("DROP FUNCTION IF EXISTS stockline_place_order("
                     "integer, integer, integer[], integer[], text, date, date, integer)")
        conn.execute("DROP FUNCTION IF EXISTS pricing_rules_bump_versions() CASCADE")
        conn.execute("DROP FUNCTION IF EXISTS stockline_lock_skus(integer[])")
        conn.execute("DROP FUNCTION IF EXISTS stockline_record_movements("
                     "integer[], integer[], text[], bigint[], integer[], text[], integer[], integer[])")
        conn.execute("DROP FUNCTION IF EXISTS stockline_po_open(text) CASCADE")  # and the Incoming_Stock view
        conn.execute("DROP FUNCTION IF EXISTS issued_document_immutable() CASCADE")
        conn.execute("DROP FUNCTION IF EXISTS users_announce_state_change() CASCADE")
        conn.execute("DROP FUNCTION IF EXISTS stockline_tax_rate(text, date)")
        conn.execute("DROP FUNCTION IF EXISTS stockline_line_tax(numeric, numeric)")
        conn.execute("DROP FUNCTION IF EXISTS stockline_take_document_number(text, date)")
        conn.execute("DROP FUNCTION IF EXISTS stockline_next_document_number(text, integer)")
        conn.execute("DROP FUNCTION IF EXISTS stockline_customer_exposure(integer)")
        conn.execute("DROP FUNCTION IF EXISTS stockline_schema_rows()")
        conn.execute("DROP FUNCTION IF EXISTS "
                     "stockline_invoice_status(numeric, numeric, numeric, date, date)")
        conn.execute("DROP SEQUENCE IF EXISTS catalog_version")
        conn.execute("DROP SEQUENCE IF EXISTS catalog_listing_version")
