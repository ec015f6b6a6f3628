"""The scale-data generator behind `stockline seed` and `db/generate_scale_data.py`.

Each table is topped up to its target (or, in append mode, grows by the full amount) in
chunks: one COPY and one commit per chunk, so an interrupted run keeps what it loaded and a
second run resumes. Batches go through a staging table so (sku_id, batch_no) duplicates
are skipped (ON CONFLICT DO NOTHING) and every batch with stock gets its opening receipt
in the ledger in the same statement.
"""

from __future__ import annotations

import queue
import random
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, TextIO

import psycopg
from psycopg.conninfo import make_conninfo

from stockline import db
from stockline.config import SeedSettings, Settings, get_settings
from stockline.errors import ValidationFailed
from stockline.inventory import ledger
from stockline.kernel import catalog_version
from stockline.pricing.rules import PricingRule
from stockline.progress import Progress
from stockline.seeding import history, rows
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__)
CATALOG_Q = queries_beside(catalog_version.__file__)

CUSTOMER_COPY = ("COPY Customers (name, address, customer_type, email, phone, created_at) "
                 "FROM STDIN (FORMAT BINARY)", ["text", "text", "text", "text", "text", "timestamptz"])
PRODUCT_COPY = ("COPY Products (name, manufacturer, description, category) FROM STDIN (FORMAT BINARY)",
                ["text", "text", "text", "text"])
SKU_COPY = ("COPY Product_SKUs (sku_id, product_id, sku_code, package_size, unit_type, base_price, "
            "reorder_level) FROM STDIN (FORMAT BINARY)",
            ["int4", "int4", "text", "text", "text", "numeric", "int4"])
BATCH_STAGE_COPY = ("COPY seed_batch_stage (sku_id, batch_no, expiry_date, quantity_on_hand, cost_price, "
                    "received_at) FROM STDIN (FORMAT BINARY)",
                    ["int4", "text", "date", "int4", "numeric", "timestamptz"])

BATCH_COPY = ("COPY Inventory_Batches (batch_id, sku_id, batch_no, expiry_date, quantity_on_hand, "
              "cost_price, received_at) FROM STDIN (FORMAT BINARY)",
              ["int4", "int4", "text", "date", "int4", "numeric", "timestamptz"])
OPENING_NOTE = "opening stock (seed)"

_MAX_BARREN_CHUNKS = 5  # chunks in a row that add nothing (all duplicates) before giving up
BATCH_WRITERS = 2  # connections loading batches at once: PostgreSQL ingests on two cores


@dataclass(frozen=True)
class TableResult:
    table: str
    rows: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


@dataclass
class SeedReport:
    seed: int
    tables: list[TableResult] = field(default_factory=list)

    def rows(self, table: str) -> int:
        return sum(result.rows for result in self.tables if result.table == table)


def _copy_rows(conn: psycopg.Connection, copy: tuple[str, list[str]], batch: list[tuple]) -> None:
    statement, types = copy
    with conn.cursor() as cur, cur.copy(statement) as copier:
        copier.set_types(types)
        for row in batch:
            copier.write_row(row)


@contextmanager
def prefetched(make_chunk: Callable[[], list[tuple]], depth: int = 2) -> Iterator[Iterator[list[tuple]]]:
    """Chunks made by `make_chunk` on a background thread, `depth` ahead, so Python builds
    the next chunk while PostgreSQL ingests this one (psycopg releases the GIL on I/O)."""
    made: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            while not stop.is_set():
                chunk = make_chunk()
                while not stop.is_set():
                    try:
                        made.put(chunk, timeout=0.1)
                        break
                    except queue.Full:
                        continue
        except BaseException as exc:  # surfaces in the consumer
            made.put(exc)

    def consume() -> Iterator[list[tuple]]:
        while True:
            item = made.get()
            if isinstance(item, BaseException):
                raise item
            yield item

    previous_interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)  # hand the GIL back quickly when a database round trip ends
    thread = threading.Thread(target=produce, name="seed-prefetch", daemon=True)
    thread.start()
    try:
        yield consume()
    finally:
        stop.set()
        thread.join(timeout=5)
        sys.setswitchinterval(previous_interval)


class BatchWriters:
    """A few extra connections to the same database, each writing whole chunks of batches."""

    def __init__(self, conn: psycopg.Connection, size: int) -> None:
        self.conninfo = make_conninfo(conn.info.dsn, password=conn.info.password or None)
        self.size = size
        self.idle: queue.Queue[psycopg.Connection] = queue.Queue()
        self.pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="seed-writer")

    def __enter__(self) -> BatchWriters:
        for _ in range(self.size):
            writer = db.connect(self.conninfo)
            writer.execute("SET synchronous_commit = off")
            writer.execute(Q["create_batch_stage"].sql)
            self.idle.put(writer)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        while not self.idle.empty():
            self.idle.get().close()

    def submit(self, batch: list[tuple], batch_ids: list[int], movement_ids: list[int]) -> Future[int]:
        return self.pool.submit(self._write, batch, batch_ids, movement_ids)

    def _write(self, batch: list[tuple], batch_ids: list[int], movement_ids: list[int]) -> int:
        writer = self.idle.get()
        try:
            return write_batches(writer, batch, batch_ids, movement_ids)
        finally:
            self.idle.put(writer)


def write_batches(conn: psycopg.Connection, batch: list[tuple], batch_ids: list[int],
                  movement_ids: list[int]) -> int:
    """Fast path: COPY straight into the table under the reserved ids, with the opening
    receipts (one per batch with stock, in order) built beside them. A chunk that hits an
    existing (sku_id, batch_no) is redone through the staging table with ON CONFLICT DO
    NOTHING: duplicates are skipped, never fatal. Returns the batches added."""
    try:
        with conn.transaction():
            numbered = list(zip(batch_ids, batch, strict=True))
            _copy_rows(conn, BATCH_COPY, [(batch_id, *row) for batch_id, row in numbered])
            stocked = [batch_id for batch_id, row in numbered if row[3] > 0]
            ledger.record_opening_receipts(conn, stocked, OPENING_NOTE, movement_ids)
        return len(batch)
    except psycopg.errors.UniqueViolation:
        with conn.transaction():
            _copy_rows(conn, BATCH_STAGE_COPY, batch)
            added = conn.execute(Q["move_staged_batches"].sql).fetchall()
            ledger.record_opening_receipts(conn, [batch_id for (batch_id,) in added], OPENING_NOTE)
            return len(added)


class Seeder:
    def __init__(self, conn: psycopg.Connection, plan: SeedSettings, out: TextIO,
                 now: datetime | None = None, settings: Settings | None = None) -> None:
        self.conn = conn
        self.plan = plan
        self.out = out
        self.settings = settings or get_settings()  # history sells by its MIN_SHELF_LIFE_DAYS
        seed = plan.seed if plan.seed is not None else random.SystemRandom().randrange(2**31)
        self.report = SeedReport(seed)
        # every generated date hangs off the start of today (UTC), so a seed repeats exactly
        self.today: date = (now or datetime.now(UTC)).astimezone(UTC).date()
        self.anchor = datetime.combine(self.today, time(0), UTC)

    def rng(self, table: str) -> random.Random:
        return random.Random(f"{self.report.seed}/{table}")

    def to_add(self, target: int, existing: int) -> int:
        return target if self.plan.append else max(0, target - existing)

    def load(self, table: str, count: int, write_chunk: Callable[[int], int]) -> None:
        """Run `write_chunk(size)`, each in a transaction of its own, until `count` rows
        were added."""
        if count == 0:
            return
        progress = Progress(table, count, self.out)
        barren = 0
        while progress.done < count:
            size = min(self.plan.chunk_size, count - progress.done)
            with self.conn.transaction():
                added = write_chunk(size)
            progress.advance(added)
            barren = barren + 1 if added == 0 else 0
            if barren >= _MAX_BARREN_CHUNKS:
                raise ValidationFailed(f"{table}: nothing more could be added (generated rows collide with "
                                       f"existing ones, or no stock is left to sell); stopped at "
                                       f"{progress.done:,} of {count:,}")
        self.report.tables.append(TableResult(table, progress.done, progress.finish()))

    def run(self) -> SeedReport:
        # a commit per chunk need not wait for the disk: a crash loses at most the last
        # chunks, never consistency, and a top-up run fills them in again
        self.conn.execute("SET synchronous_commit = off")
        existing = db.seed_counts(self.conn)
        self.seed_customers(self.to_add(self.plan.customers, existing["customers"]))
        self.seed_products(self.to_add(self.plan.products, existing["products"]))
        self.seed_skus(self.to_add(self.plan.skus, existing["skus"]))
        self.seed_batches(self.to_add(self.plan.batches, existing["batches"]))
        rule_count, order_count = self.conn.execute(Q["history_counts"].sql).fetchone()
        self.seed_pricing_rules(self.to_add(self.plan.pricing_rules, rule_count))
        self.seed_orders(self.to_add(self.plan.orders, order_count))
        if self.report.tables:
            # fresh statistics and visibility maps, as autovacuum would leave them later: the
            # catalog's stock figures then come from index-only scans from the first request
            if not self.conn.info.transaction_status:  # VACUUM cannot run inside a transaction
                self.conn.execute("VACUUM (ANALYZE)")
            self.conn.execute(CATALOG_Q["bump_catalog_version"].sql)  # cached catalog pages are stale now
        return self.report

    def seed_customers(self, count: int) -> None:
        rng = self.rng("customers")

        def chunk(size: int) -> int:
            _copy_rows(self.conn, CUSTOMER_COPY, [rows.customer_row(rng, self.anchor) for _ in range(size)])
            return size

        self.load("customers", count, chunk)

    def seed_products(self, count: int) -> None:
        rng = self.rng("products")

        def chunk(size: int) -> int:
            _copy_rows(self.conn, PRODUCT_COPY, [rows.product_row(rng) for _ in range(size)])
            return size

        self.load("products", count, chunk)

    def seed_skus(self, count: int) -> None:
        if count == 0:
            return
        products = self.conn.execute(Q["products_with_sku_counts"].sql).fetchall()
        if not products:
            raise ValidationFailed("SKUs need products: set SCALE_PRODUCTS above 0")
        names = {product_id: name for product_id, name, _ in products}
        sku_counts = {product_id: sku_count for product_id, _, sku_count in products}
        product_ids = list(names)
        rng = self.rng("skus")

        def chunk(size: int) -> int:
            ids = [row[0] for row in self.conn.execute(Q["reserve_sku_ids"].sql, {"count": size})]
            batch = []
            for sku_id in ids:
                product_id = rng.choice(product_ids)
                batch.append(rows.sku_row(rng, sku_id, product_id, names[product_id], sku_counts[product_id]))
                sku_counts[product_id] += 1
            _copy_rows(self.conn, SKU_COPY, batch)
            return size

        self.load("product_skus", count, chunk)

    def seed_batches(self, count: int) -> None:
        if count == 0:
            return
        skus = [rows.SkuFacts(sku_id, base_price, rows.presentation_of(name).form.batch_prefix)
                for sku_id, base_price, name in self.conn.execute(Q["skus_for_batches"].sql)]
        if not skus:
            raise ValidationFailed("batches need SKUs: set SCALE_SKUS above 0")
        rng = self.rng("batches")
        serials = rows.BatchSerials(rng)

        def make_chunk() -> list[tuple]:
            made = []
            for _ in range(self.plan.chunk_size):
                sku = rng.choice(skus)
                made.append(rows.batch_row(rng, sku, serials.next(sku.sku_id), self.today, self.anchor))
            return made

        with prefetched(make_chunk) as chunks, BatchWriters(self.conn, BATCH_WRITERS) as writers:
            self._load_batches(count, chunks, writers)

    def _load_batches(self, count: int, chunks: Iterator[list[tuple]], writers: BatchWriters) -> None:
        """Chunks go to several writer connections at once, so PostgreSQL ingests on more
        than one core. Ids are reserved here, in chunk order, so a seed still gives the same
        rows under the same ids."""
        progress = Progress("inventory_batches", count, self.out)
        in_flight: deque[tuple[int, Future[int]]] = deque()
        pending = barren = 0
        while progress.done < count:
            while len(in_flight) < writers.size and progress.done + pending < count:
                size = min(self.plan.chunk_size, count - progress.done - pending)
                batch = next(chunks)[:size]
                receipts = sum(1 for row in batch if row[3] > 0)
                ids = self.conn.execute(Q["reserve_batch_and_movement_ids"].sql,
                                        {"batches": size, "receipts": receipts}).fetchone()
                in_flight.append((size, writers.submit(batch, *ids)))
                pending += size
            size, future = in_flight.popleft()
            pending -= size
            added = future.result()
            progress.advance(added)
            barren = barren + 1 if added == 0 else 0
            if barren >= _MAX_BARREN_CHUNKS:
                raise ValidationFailed(f"inventory_batches: generated batch numbers keep colliding with "
                                       f"existing ones; stopped at {progress.done:,} of {count:,}")
        self.report.tables.append(TableResult("inventory_batches", progress.done, progress.finish()))


    def seed_pricing_rules(self, count: int) -> None:
        if count == 0:
            return
        sku_ids = [row[0] for row in self.conn.execute(Q["all_sku_ids"].sql)]
        customer_ids = [row[0] for row in self.conn.execute(Q["all_customer_ids"].sql)]
        if not sku_ids or not customer_ids:
            raise ValidationFailed("pricing rules need customers and SKUs to refer to")
        taken = {tuple(row) for row in self.conn.execute(Q["pricing_rule_keys"].sql)}
        rng = self.rng("pricing_rules")

        def chunk(size: int) -> int:
            made = history.pricing_rule_rows(rng, size, sku_ids, customer_ids, taken, self.today)
            _copy_rows(self.conn, history.RULE_COPY, made)
            return len(made)

        self.load("pricing_rules", count, chunk)

    def seed_orders(self, count: int) -> None:
        if count == 0:
            return
        customers = [tuple(row) for row in self.conn.execute(Q["customers_with_login"].sql)]
        batches = [history.Batch(*row) for row in self.conn.execute(Q["batches_with_stock"].sql)]
        if not customers or not batches:
            raise ValidationFailed("order history needs customers and batches with stock")
        rules = [PricingRule(*row) for row in self.conn.execute(Q["all_pricing_rules"].sql)]
        rng = self.rng("orders")
        simulator = history.OrderSimulator(rng, batches, customers, rules, self.anchor, self.settings)

        def chunk(size: int) -> int:
            order_ids = [row[0] for row in self.conn.execute(Q["reserve_order_ids"].sql, {"count": size})]
            simulated = simulator.simulate(order_ids, simulator.order_dates(size))
            _copy_rows(self.conn, history.ORDER_COPY, simulated.orders)
            _copy_rows(self.conn, history.ITEM_COPY, simulated.items)
            ledger.copy_movements(self.conn, simulated.movements)
            return len(simulated.orders)

        self.load("orders", count, chunk)


def run_seed(conn: psycopg.Connection, plan: SeedSettings, out: TextIO | None = None,
             now: datetime | None = None, settings: Settings | None = None) -> SeedReport:
    """Seed `conn`'s database to `plan`; progress goes to `out` (stderr by default). Order
    history sells by the rules of `settings` (by default the environment's, as the app)."""
    return Seeder(conn, plan, out or sys.stderr, now, settings).run()


def format_summary(report: SeedReport, counts: dict[str, Any]) -> str:
    lines = [f"{'table':<18}{'added':>10}{'seconds':>10}{'rows/s':>12}"]
    for result in report.tables:
        lines.append(f"{result.table:<18}{result.rows:>10,}{result.seconds:>10.2f}"
                     f"{result.rows_per_second:>12,.0f}")
    if not report.tables:
        lines.append("(every table already holds its target; nothing added)")
    lines.append("")
    lines.append("now: " + ", ".join(f"{name} {count:,}" for name, count in counts.items()))
    lines.append(f"seed {report.seed} (SCALE_SEED={report.seed} repeats this run on an empty database)")
    return "\n".join(lines)
