"""Seed throughput: the generator against a bare binary COPY of the same rows, same run.

    .venv/bin/python bench/seed_throughput.py [--skus 100000] [--batches 1000000]

Creates two fresh databases on the server in use (DATABASE_URL, or the embedded one):
one is filled by the generator (rows made on the fly, duplicate-safe batch loading, opening
receipts in the ledger), the other by a bare binary COPY of as many SKU and batch rows of
the same shape, built in memory before the clock starts. Prints rows/s for both and the ratio (goal: >= 0.60).
Both databases are dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
from harness import create_database, drop_database

from stockline import db
from stockline.config import SeedSettings, get_settings
from stockline.progress import Progress
from stockline.seeding import rows
from stockline.seeding.service import BATCH_COPY, SKU_COPY, run_seed


def fresh_database(server_url: str, label: str) -> str:
    url = create_database(server_url, f"stockline_bench_{label}")
    with db.connect(url) as conn:
        db.apply_schema(conn)
    return url


def run_generator(url: str, products: int, skus: int, batches: int, chunk_size: int) -> float:
    plan = SeedSettings(customers=0, products=products, skus=skus, batches=batches,
                        chunk_size=chunk_size, seed=1)
    with db.connect(url) as conn:
        report = run_seed(conn, plan)
    return sum(r.seconds for r in report.tables if r.table in ("product_skus", "inventory_batches"))


def _copy(conn: psycopg.Connection, copy: tuple[str, list[str]], rows, progress: Progress,
          chunk_size: int) -> None:
    statement, types = copy
    buffer = []
    for row in rows:
        buffer.append(row)
        if len(buffer) == chunk_size:
            _flush(conn, statement, types, buffer, progress)
            buffer = []
    if buffer:
        _flush(conn, statement, types, buffer, progress)


def _flush(conn, statement, types, buffer, progress) -> None:
    with conn.transaction(), conn.cursor() as cur, cur.copy(statement) as copier:
        copier.set_types(types)
        for row in buffer:
            copier.write_row(row)
    progress.advance(len(buffer))


def realistic_rows(products: int, skus: int, batches: int) -> tuple[list[tuple], list[tuple]]:
    """SKU and batch rows made by the generator's own row factories, built before timing,
    so the baseline pays the same index and key costs for the same shape of data."""
    rng = random.Random(1)
    today = date.today()
    anchor = datetime.combine(today, datetime.min.time(), UTC)
    names = [rows.product_row(rng)[0] for _ in range(products)]
    sku_rows = [rows.sku_row(rng, sku_id, sku_id % products + 1, names[sku_id % products], sku_id // products)
                for sku_id in range(1, skus + 1)]
    facts = [rows.SkuFacts(row[0], row[5], "T") for row in sku_rows]
    serials = rows.BatchSerials(rng)
    batch_rows = []
    for batch_id in range(1, batches + 1):
        sku = rng.choice(facts)
        batch_rows.append((batch_id, *rows.batch_row(rng, sku, serials.next(sku.sku_id), today, anchor)))
    return sku_rows, batch_rows


def run_bare_copy(url: str, products: int, skus: int, batches: int, chunk_size: int) -> float:
    """The same numbers of SKU and batch rows into the same tables, with nothing but COPY."""
    sku_rows, batch_rows = realistic_rows(products, skus, batches)
    with db.connect(url) as conn:
        conn.execute("SET synchronous_commit = off")  # as the generator does
        conn.execute("INSERT INTO Products (name) SELECT 'P' || g FROM generate_series(1, %s) g", (products,))
        started = time.perf_counter()
        progress = Progress("bare skus", skus)
        _copy(conn, SKU_COPY, sku_rows, progress, chunk_size)
        progress.finish()
        progress = Progress("bare batches", batches)
        _copy(conn, BATCH_COPY, batch_rows, progress, chunk_size)
        progress.finish()
        return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--skus", type=int, default=100_000)
    parser.add_argument("--batches", type=int, default=1_000_000)
    parser.add_argument("--chunk-size", type=int, default=SeedSettings.from_env().chunk_size)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    server_url = db.resolve_database_url(get_settings())
    rows = args.skus + args.batches
    generator_url = fresh_database(server_url, "gen")
    bare_url = fresh_database(server_url, "bare")
    try:
        generator_seconds = run_generator(generator_url, args.products, args.skus, args.batches,
                                          args.chunk_size)
        bare_seconds = run_bare_copy(bare_url, args.products, args.skus, args.batches, args.chunk_size)
    finally:
        drop_database(generator_url)
        drop_database(bare_url)

    generator_rate, bare_rate = rows / generator_seconds, rows / bare_seconds
    figures = {
        "rows": rows, "chunk_size": args.chunk_size,
        "generator_seconds": round(generator_seconds, 2), "generator_rows_per_s": round(generator_rate),
        "bare_copy_seconds": round(bare_seconds, 2), "bare_copy_rows_per_s": round(bare_rate),
        "ratio": round(generator_rate / bare_rate, 3),
    }
    print(f"\n{rows:,} rows (SKUs + batches), chunks of {args.chunk_size:,}")
    print(f"  generator  {generator_seconds:8.2f} s  {generator_rate:>10,.0f} rows/s "
          "(rows made on the fly, duplicate-safe, opening receipts in the ledger)")
    print(f"  bare COPY  {bare_seconds:8.2f} s  {bare_rate:>10,.0f} rows/s")
    print(f"  ratio      {figures['ratio']:.2f} of bare COPY (goal >= 0.60)")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
