"""Read routing (stockline.read_routing): lag-tolerant reads on a streaming replica, a
user's reads after their own write on something that has it, catalog caches never holding
a lagging replica's page under a newer version, and a replica behind or gone costing
nothing but load on the primary.

The first tests need only the test database. The rest (slow) run on real servers started
by stockline.cluster.components: a PostgreSQL 15 primary with a streaming replica (replay
paused for artificial lag), Redis shared by two app instances (two nodes: a user's next
request may land on the other one), and PgBouncer for the transaction-pooling test. They
skip in one line where those binaries are missing.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg.rows import dict_row

from stockline import db, read_routing
from stockline.config import Settings
from stockline.errors import ConfigError
from stockline.kernel.catalog_version import CatalogVersion
from stockline.read_routing import ReadRouter, WritePositions, format_lsn, parse_lsn
from tests.conftest import TEST_SECRET, serve
from tests.ordering_world import bearer, build_world


async def _until(condition: Callable[[], Awaitable[Any]], seconds: float, what: str, every: float = 0.05) -> Any:
    """Poll `condition` until it answers something true; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        value = await condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} did not happen within {seconds} s"
        await asyncio.sleep(every)


# --- without a replica, and the parts on their own --------------------------------------------

def test_lsn_text_round_trips() -> None:
    for text in ("0/0", "0/16B3F40", "16/B374D848", "FFFFFFFF/FFFFFFFF"):
        assert format_lsn(parse_lsn(text)) == text
    assert parse_lsn("1/0") > parse_lsn("0/FFFFFFFF")
    assert parse_lsn(None) == 0  # a standby that has replayed nothing yet


def test_the_write_window_outlasts_the_lag_a_replica_may_have() -> None:
    base = {"DATABASE_READ_URL": "postgresql://replica/stockline"}
    settings = Settings.from_env(base)
    assert (settings.replica_max_lag_seconds, settings.read_your_writes_seconds) == (5, 30)
    with pytest.raises(ConfigError, match="READ_YOUR_WRITES_SECONDS"):
        Settings.from_env(base | {"REPLICA_MAX_LAG_SECONDS": "30", "READ_YOUR_WRITES_SECONDS": "30"})
    assert Settings.from_env({}).database_read_url is None
    assert Settings.from_env({"DATABASE_LISTEN_URL": "postgresql://primary/x"}).database_listen_url


def test_lag_is_zero_when_the_replica_has_what_the_primary_wrote_however_old() -> None:
    router = ReadRouter(Settings(replica_max_lag_seconds=5), primary=None, replica=None)  # type: ignore[arg-type]
    now = 1000.0
    router._samples.extend([(now - 3, 100), (now - 2, 100), (now - 1, 100)])
    # an idle primary: the last commit replayed an hour ago, and nothing since
    assert router._lag(now, 100, replay_age=3600.0) == 0.0
    # the primary moved on 2 s ago; the replica has what it had 3 s and 2 s ago
    router._samples.extend([(now - 0.5, 200)])
    assert router._lag(now, 100, replay_age=3600.0) == pytest.approx(1.0)
    # a replica that replays steadily: its last commit is the better bound
    assert router._lag(now, 100, replay_age=0.2) == pytest.approx(0.2)
    # older than every sample kept: at least as old as the oldest
    assert router._lag(now, 50, replay_age=None) == pytest.approx(3.0)


async def test_write_positions_keep_each_users_latest() -> None:
    positions = WritePositions(ttl=30)
    await positions.remember(7, 500)
    await positions.remember(7, 300)  # a slower request of the same user finishing later
    assert await positions.recall(7) == 500
    assert await positions.recall(8) is None


async def test_a_commit_reports_a_position_at_or_past_itself(clean_db: str) -> None:
    settings = Settings(env="test", database_url=clean_db, db_pool_min=1, db_pool_max=2)
    pool = db.create_pool(settings, clean_db)
    await pool.open()
    seen: list[str] = []

    async def keep(lsn: str) -> None:
        seen.append(lsn)

    async def work(conn: psycopg.AsyncConnection) -> int:
        return (await db.fetch_one(conn, "INSERT INTO Products (name) VALUES ('x') RETURNING product_id"))[
            "product_id"]

    try:
        async with pool.connection() as conn:
            before = parse_lsn((await db.fetch_one(conn, "SELECT pg_current_wal_insert_lsn()::text AS p"))["p"])
        product_id = await db.run_transaction(pool, work, commit_position=keep)
        async with pool.connection() as conn:
            # the commit's own record ends at or before the reported position
            after = await db.fetch_one(conn, "SELECT pg_current_wal_insert_lsn()::text AS p")
    finally:
        await pool.close()
    assert product_id and len(seen) == 1
    assert before < parse_lsn(seen[0]) <= parse_lsn(after["p"])


async def test_version_positions_follow_the_listener(clean_db: str) -> None:
    versions = CatalogVersion(clean_db, track_lsn=True)
    await versions.start()
    try:
        assert versions.listening and versions.lsn is not None
        start = versions.value
        assert versions.lsn_covering(start) == versions.lsn
        with psycopg.connect(clean_db, autocommit=True) as conn:
            # the position inside the bump's statement is short of its commit record (a fresh
            # sequence's first nextval is the value already read: bump until it moves)
            version = start
            while version <= start:
                _, version, inside = conn.execute(
                    "SELECT pg_notify('stockline_catalog', v::text), v, pg_current_wal_insert_lsn()::text "
                    "FROM nextval('catalog_version') AS v").fetchone()

        async def covered() -> int | None:
            return versions.lsn_covering(version)

        position = await _until(covered, 5, "the listener learning the bump's position")
        assert position > parse_lsn(inside)  # read after the bump's commit
        assert versions.lsn_covering(version + 1) is None  # a version not seen yet: unknown
    finally:
        await versions.stop()


async def test_without_a_replica_nothing_changes(clean_db: str, world) -> None:
    settings = Settings(env="test", database_url=clean_db, secret_key=TEST_SECRET, db_pool_min=1, db_pool_max=4)
    async with serve(settings) as http:
        headers = await bearer(http, "cust_1")
        placed = await http.post("/api/orders", json={"sku_id": 2, "quantity": 1}, headers=headers)
        assert placed.status_code == 201, placed.text
        catalog = await http.get("/api/products", headers=headers)
        assert catalog.status_code == 200
        assert read_routing.READ_HEADER not in catalog.headers
        ready = (await http.get("/ready")).json()
        assert ready == {"status": "ready", "database": "up"}
        metrics = (await http.get("/metrics")).text
        assert "stockline_db_reads" not in metrics and "stockline_replica" not in metrics


# --- with a replica (real servers) ------------------------------------------------------------

def _missing(*packages: str) -> str | None:
    from stockline.cluster import components

    missing = [package for package in components.missing_packages() if package in packages]
    if missing:
        return f"needs the Debian packages {', '.join(missing)}"
    try:
        components.service_account()
    except components.ClusterError as exc:
        return str(exc)
    return None


@dataclass
class Servers:
    primary: Any
    replica: Any
    redis: Any
    scratch: Any

    def settings(self, **changes: Any) -> Settings:
        # the catalog's response cache off unless a test wants it, so each request reads;
        # a generous lag limit, so paused replay stays "lag" and not "too far behind"
        base = Settings(env="test", database_url=self.primary.url, database_read_url=self.replica.url,
                        redis_url=self.redis.url, secret_key=TEST_SECRET, db_pool_min=1, db_pool_max=4,
                        cache_ttl_products=0, replica_max_lag_seconds=60, read_your_writes_seconds=70)
        return base.with_overrides(**changes)


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    reason = _missing("postgresql-15", "redis-server", "openssl")
    if reason:
        pytest.skip(f"read routing with a replica: {reason}")
    from stockline.cluster.components import PostgresPrimary, PostgresReplica, RedisServer, Scratch

    # under /tmp: PostgreSQL runs as an unprivileged user, who must reach the folder
    folder = Path(tempfile.mkdtemp(prefix="stockline-read-routing-", dir="/tmp"))
    scratch = Scratch(folder)
    try:
        primary = PostgresPrimary(scratch).start()
        replica = PostgresReplica(scratch, primary).start()
        redis = RedisServer(scratch).start()
        with psycopg.connect(primary.url, autocommit=True, row_factory=dict_row) as conn:
            build_world(conn)
        replica.wait_replayed()
        yield Servers(primary, replica, redis, scratch)
    finally:
        scratch.close()
        shutil.rmtree(folder, ignore_errors=True)


async def _replica_state(http: httpx.AsyncClient) -> str:
    return (await http.get("/ready")).json()["replica"]["state"]


async def _replica_in_use(*nodes: httpx.AsyncClient) -> None:
    for http in nodes:
        async def up(http: httpx.AsyncClient = http) -> bool:
            return await _replica_state(http) == "up"

        await _until(up, 15, "the replica in use")


def _stock(catalog: httpx.Response, sku_id: int) -> int:
    assert catalog.status_code == 200, catalog.text
    return next(item["total_on_hand"] for item in catalog.json()["items"] if item["sku_id"] == sku_id)


def _served(response: httpx.Response) -> str | None:
    return response.headers.get(read_routing.READ_HEADER)


def _reads(metrics_text: str) -> dict[tuple[str, str], float]:
    counts = {}
    for line in metrics_text.splitlines():
        if line.startswith("stockline_db_reads_total{"):
            labels, value = line[len("stockline_db_reads_total{"):].split("} ")
            parts = dict(part.split("=") for part in labels.split(","))
            counts[(parts["served_by"].strip('"'), parts["reason"].strip('"'))] = float(value)
    return counts


@pytest.mark.slow
async def test_writers_read_their_writes_on_any_node_while_others_read_the_replica(servers: Servers) -> None:
    settings = servers.settings()
    async with serve(settings) as node1, serve(settings) as node2:
        await _replica_in_use(node1, node2)
        writer, other = await bearer(node1, "cust_1"), await bearer(node1, "cust_2")
        # nobody has written: everyone reads the replica, anonymous callers too
        for headers in (writer, other, {}):
            catalog = await node2.get("/api/products", headers=headers)
            assert _served(catalog) == "replica", catalog.headers
        before = _stock(catalog, 2)

        servers.replica.pause_replay()
        try:
            placed = await node1.post("/api/orders", json={"sku_id": 2, "quantity": 1}, headers=writer)
            assert placed.status_code == 201, placed.text
            # the writer, even on the other node: the primary, with the sale
            mine = await node2.get("/api/products", headers=writer)
            assert (_served(mine), _stock(mine, 2)) == ("primary", before - 1)
            detail = await node2.get("/api/products/2", headers=writer)
            assert _served(detail) == "primary"
            assert sum(batch["quantity_on_hand"] for batch in detail.json()["batches"]) == before - 1
            orders = await node2.get("/api/my-orders", headers=writer)  # always the primary
            assert placed.json()["order_id"] in [order["order_id"] for order in orders.json()["items"]]
            # someone else: the replica, which has not replayed the sale
            theirs = await node2.get("/api/products", headers=other)
            assert (_served(theirs), _stock(theirs, 2)) == ("replica", before)
            assert (await node1.get("/ready")).status_code == 200
        finally:
            servers.replica.resume_replay()

        # once the replica has replayed the sale, the writer is back on it
        async def writer_on_replica() -> httpx.Response | None:
            response = await node2.get("/api/products", headers=writer)
            return response if _served(response) == "replica" else None

        again = await _until(writer_on_replica, 15, "the writer's reads returning to the replica")
        assert _stock(again, 2) == before - 1
        reads = _reads((await node2.get("/metrics")).text)
        on_replica = sum(count for (served_by, _), count in reads.items() if served_by == "replica")
        assert reads[("primary", "own_write")] >= 2 and on_replica >= 5


@pytest.mark.slow
async def test_a_lagging_replica_never_fills_the_cache_under_a_newer_version(servers: Servers) -> None:
    settings = servers.settings(cache_ttl_products=300)  # the shared (Redis) response cache on
    async with serve(settings) as node1, serve(settings) as node2:
        await _replica_in_use(node1, node2)
        writer, colleague = await bearer(node1, "cust_1"), await bearer(node1, "cust_1b")  # one customer
        before = _stock(await node2.get("/api/products", headers=colleague), 2)
        servers.replica.pause_replay()
        try:
            placed = await node1.post("/api/orders", json={"sku_id": 2, "quantity": 1}, headers=writer)
            assert placed.status_code == 201, placed.text
            version = (await db_version(servers))

            async def node2_knows() -> bool:
                return node2_app_version(node2) >= version

            await _until(node2_knows, 5, "node 2 hearing of the new catalog version")
            # the colleague has written nothing: the replica answers, without the sale, and
            # that page must not be stored under the new version (the cache key is per customer)
            stale = await node2.get("/api/products", headers=colleague)
            assert (_served(stale), _stock(stale, 2)) == ("replica", before)
            # the writer gets the primary's page, which is what the cache may keep
            fresh = await node2.get("/api/products", headers=writer)
            assert (_served(fresh), _stock(fresh, 2)) == ("primary", before - 1)
            # from the cache now (no read at all): the fresh page, for both
            for headers in (writer, colleague):
                cached = await node1.get("/api/products", headers=headers)
                assert (_served(cached), _stock(cached, 2)) == (None, before - 1)
        finally:
            servers.replica.resume_replay()
        reads = _reads((await node2.get("/metrics")).text)
        assert reads[("replica", "not_cached")] >= 1


async def db_version(servers: Servers) -> int:
    with psycopg.connect(servers.primary.url, autocommit=True) as conn:
        return conn.execute("SELECT last_value FROM catalog_version").fetchone()[0]


def node2_app_version(http: httpx.AsyncClient) -> int:
    return http._transport.app.state.context.versions.value  # type: ignore[attr-defined]


@pytest.mark.slow
async def test_a_replica_too_far_behind_is_not_used_and_readiness_holds(servers: Servers) -> None:
    settings = servers.settings(replica_max_lag_seconds=1, read_your_writes_seconds=3)
    async with serve(settings) as http:
        await _replica_in_use(http)
        staff = await bearer(http, "staffer")
        servers.replica.pause_replay()
        try:
            # paused replay makes the replica late once the primary writes something
            received = await http.post("/api/admin/inventory/batches", headers=staff, json={
                "sku_id": 3, "batch_no": f"LAG-{time.time_ns()}", "expiry_date": "2099-01-01",
                "quantity": 5, "cost_price": "1.00"})
            assert received.status_code == 201, received.text

            async def lagging() -> bool:
                return await _replica_state(http) == "lagging"

            await _until(lagging, 10, "the replica reported lagging")
            ready = await http.get("/ready")
            assert ready.status_code == 200 and ready.json()["replica"]["lag_seconds"] > 1
            anonymous = await http.get("/api/products")
            assert (anonymous.status_code, _served(anonymous)) == (200, "primary")
            report = await http.get("/api/admin/reports/low-stock", headers=staff)
            assert (report.status_code, _served(report)) == (200, "primary")
        finally:
            servers.replica.resume_replay()
        await _replica_in_use(http)
        assert _served(await http.get("/api/products")) == "replica"
        reads = _reads((await http.get("/metrics")).text)
        assert reads[("primary", "replica_lagging")] >= 2


@pytest.mark.slow
async def test_a_replica_that_stops_costs_no_error(servers: Servers) -> None:
    settings = servers.settings()
    async with serve(settings) as http:
        await _replica_in_use(http)
        staff = await bearer(http, "staffer")
        assert _served(await http.get("/api/admin/reports/low-stock", headers=staff)) == "replica"
        servers.replica.stop()
        try:
            # the first reads meet dead connections, later ones a replica known down: all answered
            for _ in range(5):
                for path, headers in (("/api/products", {}), ("/api/products/2", {}),
                                      ("/api/admin/reports/stock-valuation", staff)):
                    response = await http.get(path, headers=headers)
                    assert response.status_code == 200, (path, response.text)
                    assert _served(response) == "primary"
            dashboard = await http.get("/api/admin/dashboard-stats", headers=staff)
            assert (dashboard.status_code, _served(dashboard)) == (200, "primary")
            ready = await http.get("/ready")
            assert ready.status_code == 200 and ready.json()["replica"]["state"] == "down"
        finally:
            servers.replica.start()
        await _replica_in_use(http)
        assert _served(await http.get("/api/products")) == "replica"
        reads = _reads((await http.get("/metrics")).text)
        assert reads.get(("primary", "replica_error"), 0) + reads.get(("primary", "replica_down"), 0) >= 16


@pytest.mark.slow
async def test_behind_pgbouncer_orders_go_through_and_versions_move(servers: Servers) -> None:
    reason = _missing("pgbouncer")
    if reason:
        pytest.skip(f"PgBouncer: {reason}")
    from stockline.cluster.components import PgBouncer

    bouncer = PgBouncer(servers.scratch, servers.primary).start()
    try:
        settings = servers.settings(database_url=bouncer.url, db_prepare=False,
                                    database_listen_url=servers.primary.url)
        async with serve(settings) as http:
            await _replica_in_use(http)
            versions = http._transport.app.state.context.versions  # type: ignore[attr-defined]
            assert versions.listening
            headers = await bearer(http, "cust_2")
            for _ in range(3):
                start = versions.value
                placed = await http.post("/api/orders", json={"sku_id": 3, "quantity": 1}, headers=headers)
                assert placed.status_code == 201, placed.text

                async def moved(start: int = start) -> bool:
                    return versions.value > start and versions.lsn_covering(versions.value) is not None

                await _until(moved, 5, "the catalog version moving")
            catalog = await http.get("/api/products", headers=headers)
            assert catalog.status_code == 200 and _served(catalog) in ("primary", "replica")
            # the app's pool is PgBouncer's client (the listener alone talks to the primary)
            assert any(row["database"] == "stockline" for row in bouncer.show("CLIENTS"))
    finally:
        bouncer.stop()


@pytest.mark.slow
async def test_without_redis_signed_in_users_read_the_primary(servers: Servers) -> None:
    # nothing listens on this port: where a user last wrote cannot be told, so their reads
    # go to the primary; anonymous callers, who wrote nothing anywhere, still read the replica
    settings = servers.settings(redis_url=f"redis://127.0.0.1:{servers.scratch.free_port()}/0")
    async with serve(settings) as http:
        await _replica_in_use(http)
        headers = await bearer(http, "cust_1b")
        signed_in = await http.get("/api/products", headers=headers)
        anonymous = await http.get("/api/products")
        assert (signed_in.status_code, _served(signed_in)) == (200, "primary")
        assert (anonymous.status_code, _served(anonymous)) == (200, "replica")
        placed = await http.post("/api/orders", json={"sku_id": 3, "quantity": 1}, headers=headers)
        assert placed.status_code == 201, placed.text  # a write does not need Redis
        reads = _reads((await http.get("/metrics")).text)
        assert reads[("primary", "redis_unknown")] >= 1
