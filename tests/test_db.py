"""db.py: transactions with bounded retry, constraint errors by name, named SQL files,
the embedded server's lifecycle."""

from __future__ import annotations

import asyncio
from pathlib import Path

import psycopg
import pytest
from psycopg import errors as pg_errors

from stockline import db, sqlfile
from stockline.config import Settings
from stockline.errors import Conflict, ServiceUnavailable, ValidationFailed
from tests.test_schema import seed_minimal

SRC = Path(__file__).resolve().parents[1] / "src" / "stockline"


@pytest.fixture
async def pool(settings):
    async with db.create_pool(settings, settings.database_url) as opened:
        yield opened


async def test_a_real_deadlock_is_retried_until_both_transactions_commit(pool, conn):
    ids = seed_minimal(conn)
    conn.execute("INSERT INTO Customers (name) VALUES ('Second')")
    attempts = {"a": 0, "b": 0}
    both_hold_first_lock = asyncio.Barrier(2)

    def work(name: str, first: int, second: int):
        async def run(tx):
            attempts[name] += 1
            await db.execute(tx, "UPDATE Customers SET phone = %s WHERE customer_id = %s", (name, first))
            if attempts[name] == 1:
                await both_hold_first_lock.wait()  # now each waits for the other's row
            await db.execute(tx, "UPDATE Customers SET phone = %s WHERE customer_id = %s", (name, second))
            return name
        return run

    first, second = ids["customer_id"], ids["customer_id"] + 1
    results = await asyncio.gather(db.run_transaction(pool, work("a", first, second)),
                                   db.run_transaction(pool, work("b", second, first)))
    assert sorted(results) == ["a", "b"]
    assert sorted(attempts.values()) == [1, 2]  # exactly one was chosen as the victim and re-run
    phones = {row["phone"] for row in conn.execute("SELECT phone FROM Customers")}
    assert len(phones) == 1  # whichever committed last wrote both rows


async def test_retries_are_bounded_and_end_in_a_503_busy_error(pool):
    calls = 0

    async def always_conflicts(tx):
        nonlocal calls
        calls += 1
        raise pg_errors.SerializationFailure("could not serialize access")

    with pytest.raises(ServiceUnavailable) as caught:
        await db.run_transaction(pool, always_conflicts, attempts=3)
    assert calls == 3
    assert caught.value.status == 503 and caught.value.code == "busy_retry"


async def test_a_failed_transaction_leaves_nothing_behind(pool, conn):
    async def half_done(tx):
        await db.execute(tx, "INSERT INTO Customers (name) VALUES ('Ghost Pharmacy')")
        await db.execute(tx, "INSERT INTO Customers (name, customer_type) VALUES ('X', 'bad')")

    with pytest.raises(ValidationFailed):
        await db.run_transaction(pool, half_done)
    assert conn.execute("SELECT count(*) AS n FROM Customers").fetchone()["n"] == 0


async def test_statements_sent_but_not_read_commit_or_roll_back_with_their_transaction(pool, conn):
    async def queued_then_refused(tx):
        await db.send(tx, "INSERT INTO Customers (name) VALUES ('Queued Pharmacy')")  # never read
        raise ValidationFailed("refused after sending")

    with pytest.raises(ValidationFailed, match="refused after sending"):
        await db.run_transaction(pool, queued_then_refused)

    async def queued_then_broken(tx):  # the second write fails only when the COMMIT goes out
        await db.send(tx, "INSERT INTO Customers (name) VALUES ('Queued Pharmacy')")
        await db.send(tx, "INSERT INTO Customers (name, customer_type) VALUES ('X', 'bad')")

    with pytest.raises(ValidationFailed) as broken:
        await db.run_transaction(pool, queued_then_broken)
    assert broken.value.details == {"constraint": "customers_type_valid"}
    assert conn.execute("SELECT count(*) AS n FROM Customers").fetchone()["n"] == 0

    async def queued_and_fine(tx):
        await db.send(tx, "INSERT INTO Customers (name) VALUES ('Queued Pharmacy')")

    async def read_after_commit(tx, _):
        return (await db.fetch_one(tx, "SELECT count(*) AS n FROM Customers"))["n"]

    assert await db.run_transaction(pool, queued_and_fine, after_commit=read_after_commit) == 1
    async with pool.connection() as idle:  # every connection went back to the pool clean
        assert idle.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


async def test_constraint_violations_become_domain_errors_by_name(pool, conn):
    ids = seed_minimal(conn)
    async with pool.connection() as tx:
        with pytest.raises(ValidationFailed) as negative:
            await db.execute(tx, "UPDATE Inventory_Batches SET quantity_on_hand = -1")
        assert negative.value.message == "Stock cannot go below zero"
        assert negative.value.details == {"constraint": "inventory_batches_qty_nonneg"}
        with pytest.raises(Conflict) as duplicate:
            await db.execute(tx, "INSERT INTO Inventory_Batches (sku_id, batch_no, expiry_date) "
                                 "VALUES (%s, 'AMX-2401', current_date)", (ids["sku_id"],))
        assert duplicate.value.status == 409
        with pytest.raises(Conflict, match="still in use"):
            await db.execute(tx, "DELETE FROM Product_SKUs")
        with pytest.raises(ValidationFailed, match="referenced record does not exist"):
            await db.execute(tx, "INSERT INTO Inventory_Batches (sku_id, batch_no, expiry_date) "
                                 "VALUES (424242, 'Z', current_date)")


def test_sql_files_are_parsed_into_named_queries(tmp_path):
    parsed = sqlfile.parse(
        "-- name: first\n-- Counts things.\n-- Really.\nSELECT 1;\n\n-- name: second\nSELECT %(x)s\n",
        tmp_path / "q.sql")
    assert list(parsed) == ["first", "second"]
    assert parsed["first"].description == "Counts things. Really."
    assert parsed["first"].sql == "SELECT 1"
    with pytest.raises(KeyError, match="no query named 'third'"):
        parsed["third"]
    with pytest.raises(ValueError, match="defined twice"):
        sqlfile.parse("-- name: a\nSELECT 1;\n-- name: a\nSELECT 2;", tmp_path / "dup.sql")


def _all_named_queries():
    for path in sorted(SRC.rglob("*.sql")):
        for query in sqlfile.load(path).values():
            yield pytest.param(path, query, id=f"{path.relative_to(SRC)}:{query.name}")


def _is_ddl(query: sqlfile.Query) -> bool:
    return query.sql.lstrip().upper().startswith("CREATE ")


@pytest.mark.parametrize(("path", "query"), list(_all_named_queries()))
def test_every_named_query_is_valid_sql(conn, path, query):
    """EXPLAIN plans each query against the real schema without running it; the file's
    CREATE statements (staging tables) run first, inside a transaction rolled back after.
    A SET LOCAL (nothing to plan) runs there too."""
    with pytest.raises(_RolledBack), conn.transaction():
        for ddl in filter(_is_ddl, sqlfile.load(path).values()):
            conn.execute(ddl.sql)
        if query.sql.lstrip().upper().startswith("SET LOCAL "):
            conn.execute(query.sql)
        elif not _is_ddl(query):
            params = {name: None for name in sqlfile.PARAMETER.findall(query.sql)}
            conn.execute("EXPLAIN " + query.sql, params or None)
        raise _RolledBack


class _RolledBack(Exception):
    pass


def test_embedded_server_starts_reuses_and_stops(tmp_path):
    settings = Settings(env="test", data_dir=tmp_path / "data")
    url = db.resolve_database_url(settings)
    assert db.database_name(url) == db.EMBEDDED_DATABASE
    assert db.embedded_running(settings)
    try:
        assert db.resolve_database_url(settings) == url  # found running, not started twice
        with psycopg.connect(url) as conn:
            assert conn.execute("SHOW server_version").fetchone()[0].startswith("16")
    finally:
        assert db.stop_embedded(settings) is True
    assert not db.embedded_running(settings)
    assert db.stop_embedded(settings) is False
    try:  # started again in the same process (pgserver keeps a handle per folder)
        assert db.resolve_database_url(settings) == url
        assert db.embedded_running(settings)
    finally:
        db.stop_embedded(settings)


@pytest.mark.parametrize("prepare", [True, False])
async def test_prepared_statements_follow_db_prepare(settings, prepare):
    """DB_PREPARE=0 must leave no server-side prepared statement (PgBouncer transaction mode)."""
    async with db.create_pool(settings.with_overrides(db_prepare=prepare, db_pool_max=1),
                              settings.database_url) as one_connection:
        async with one_connection.connection() as conn:
            for _ in range(8):
                await db.fetch_one(conn, "SELECT count(*) FROM Customers WHERE customer_id > %s", (0,))
            prepared = await db.fetch_one(conn, "SELECT count(*) AS n FROM pg_prepared_statements")
    assert (prepared["n"] > 0) is prepare


def test_search_index_bootstrap_creates_indexes_or_logs_one_line(conn, caplog):
    available = conn.execute(
        "SELECT count(*) AS n FROM pg_available_extensions WHERE name = 'pg_trgm'").fetchone()["n"] > 0
    with caplog.at_level("INFO", logger="stockline.db"):
        created = db.bootstrap_search_indexes(conn)
    assert created is available
    indexes = {row["indexname"] for row in conn.execute(
        "SELECT indexname FROM pg_indexes WHERE indexname LIKE '%%trgm%%'")}
    if available:
        assert "products_name_trgm_idx" in indexes
    else:
        assert indexes == set()
        warnings = [r for r in caplog.records if r.levelname == "WARNING"]
        assert len(warnings) == 1 and "pg_trgm unavailable" in warnings[0].getMessage()
        assert db.missing_tables(conn) == []  # the failed attempt left the schema intact


# --- when the database fails ---------------------------------------------------------------

async def test_a_pooled_connection_found_dead_before_any_answer_is_replaced_and_the_work_done_once(
        settings, conn):
    seed_minimal(conn)
    async with db.create_pool(settings.with_overrides(db_pool_min=2, db_pool_max=2), settings.database_url) as pool:
        await pool.wait()
        killed = conn.execute("SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity "
                              "WHERE application_name = 'stockline' AND datname = current_database()").fetchone()
        assert killed["n"] == 2  # every pooled connection is dead now
        started = finished = 0

        async def work(tx):
            nonlocal started, finished
            started += 1
            # BEGIN and this insert travel with the read below: on the dead connection the
            # read fails before anything ran, and the whole transaction starts again
            await db.send(tx, "INSERT INTO Customers (name) VALUES ('written once')")
            row = await db.fetch_one(tx, "SELECT count(*) AS n FROM Customers WHERE name = 'written once'")
            finished += 1
            return row["n"]

        assert await db.run_transaction(pool, work) == 1
        # the pool hands out the dead connection (work starts, its first answer fails) or
        # finds it dead first (work starts once): either way the work is done once
        assert finished == 1 and started in (1, 2)
        assert conn.execute("SELECT count(*) AS n FROM Customers WHERE name = 'written once'").fetchone()["n"] == 1
        assert pool.drains == 1  # the idle sibling was replaced too (stockline_db_pool_drains_total)


async def test_lock_and_statement_timeouts_answer_503_with_retry_after(settings, conn):
    seed_minimal(conn)
    quick = settings.with_overrides(db_lock_timeout=1, db_statement_timeout=2)
    async with db.create_pool(quick, settings.database_url) as pool:
        with psycopg.connect(settings.database_url) as rival:  # holds a row lock until rolled back
            rival.execute("SELECT 1 FROM Customers FOR UPDATE")
            async with pool.connection() as tx:
                with pytest.raises(ServiceUnavailable) as locked:
                    await db.fetch_all(tx, "SELECT 1 FROM Customers FOR UPDATE")
        assert (locked.value.code, locked.value.headers) == ("busy_retry", {"Retry-After": "2"})
        async with pool.connection() as tx:
            with pytest.raises(ServiceUnavailable) as slow:
                await db.fetch_all(tx, "SELECT pg_sleep(5)")
        assert (slow.value.code, slow.value.headers) == ("database_timeout", {"Retry-After": "2"})


async def test_a_connection_the_database_stops_answering_on_is_cut(settings, conn):
    """The watchdog: a use of a connection that outlasts its bound fails at once with
    OperationalError (here a server-side sleep stands in for a silent network)."""
    pool = db.Pool(settings.database_url, min_size=1, max_size=2, open=False, hang_seconds=0.5,
                   kwargs={"autocommit": True})
    async with pool:
        started = asyncio.get_running_loop().time()
        with pytest.raises(psycopg.OperationalError):
            async with pool.connection() as tx:
                await tx.execute("SELECT pg_sleep(10)")
        assert asyncio.get_running_loop().time() - started < 10
        assert pool.cuts == 1  # stockline_db_connections_cut_total
        async with pool.connection() as tx:  # the pool goes on with a working connection
            assert await (await tx.execute("SELECT 1")).fetchone() == (1,)
