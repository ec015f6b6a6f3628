"""The database baselines, run on the same database as what they are compared with:
pgbench's select-only test, and a place-order script doing the SQL work of one 3-line order
(lock the SKUs in ascending order, read their FEFO batches, insert the order and its items,
write the sale movements and take the stock). The load suite runs both; bench/checkout.py
runs the place-order script, uncontended and hot."""

from __future__ import annotations

import math
import os
import re
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from stockline import db

BASELINE_STOCK = 1_000_000_000  # units of the one batch of every SKU pgbench orders from


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of `values` (not empty)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


# --- the place-order script ----------------------------------------------------------------

# Its first line sets s1, the first of the client's 3 consecutive SKUs: its own 3 from
# sku_base on (uncontended), or the same 3 for every client (hot). Client c orders as
# customer c + 1 with that customer's login, uid_offset above it (user_offset()).
_FIRST_SKU = {False: r"\set s1 :sku_base + 3 * :client_id", True: r"\set s1 :sku_base"}
_PLACE_ORDER = r"""
\set s2 :s1 + 1
\set s3 :s1 + 2
\set cid :client_id + 1
\set uid :cid + :uid_offset
BEGIN;
SELECT s.sku_id, s.is_active AND p.is_active AS is_active
FROM Product_SKUs AS s JOIN Products AS p USING (product_id)
WHERE s.sku_id = ANY(ARRAY[:s1::int, :s2::int, :s3::int])
ORDER BY s.sku_id
FOR NO KEY UPDATE OF s;
SELECT (array_agg(batch_id ORDER BY expiry_date, batch_id) FILTER (WHERE sku_id = :s1::int))[1] AS b1,
       (array_agg(batch_id ORDER BY expiry_date, batch_id) FILTER (WHERE sku_id = :s2::int))[1] AS b2,
       (array_agg(batch_id ORDER BY expiry_date, batch_id) FILTER (WHERE sku_id = :s3::int))[1] AS b3
FROM Inventory_Batches
WHERE sku_id = ANY(ARRAY[:s1::int, :s2::int, :s3::int]) AND quantity_on_hand > 0
  AND expiry_date > current_date AND NOT quarantined
\gset
WITH new_order AS (
    INSERT INTO Orders (customer_id, user_id, total_amount, idempotency_key, request_hash)
    VALUES (:cid::int, :uid::int, 12.00, NULL, 'pgbench')
    RETURNING order_id
), items AS (
    INSERT INTO Order_Items (order_id, sku_id, batch_id, quantity_ordered, base_price, discount_percentage,
                             sale_price, unit_cost, pricing_rule_id)
    SELECT new_order.order_id, i.*
    FROM new_order, (VALUES (:s1::int, :b1::int, 1, 2.00, 0.00, 2.00, 1.00, NULL::int),
                            (:s2::int, :b2::int, 2, 2.00, 0.00, 2.00, 1.00, NULL::int),
                            (:s3::int, :b3::int, 3, 2.00, 0.00, 2.00, 1.00, NULL::int)) AS i
)
SELECT order_id FROM new_order
\gset
WITH moves AS (
    SELECT * FROM (VALUES (:b1::int, -1), (:b2::int, -2), (:b3::int, -3)) AS m (batch_id, quantity_delta)
), updated AS (
    UPDATE Inventory_Batches AS b SET quantity_on_hand = b.quantity_on_hand + moves.quantity_delta
    FROM moves WHERE b.batch_id = moves.batch_id
    RETURNING b.batch_id
)
INSERT INTO Stock_Movements (batch_id, quantity_delta, reason, order_id, user_id)
SELECT m.batch_id, m.quantity_delta, 'sale', :order_id::bigint, :uid::int
FROM moves AS m JOIN updated USING (batch_id);
COMMIT;
"""


def place_order_arguments(workdir: Path, clients: int, sku_base: int, uid_offset: int,
                          hot: bool = False) -> list[str]:
    """pgbench's arguments for the place-order script (written into `workdir`), less -T."""
    script = workdir / f"place_order_{'hot' if hot else 'uncontended'}.sql"
    script.write_text("\n" + _FIRST_SKU[hot] + _PLACE_ORDER)
    return ["-n", "-M", "prepared", "-c", str(clients), "-j", "2", "-f", str(script),
            "-D", f"sku_base={sku_base}", "-D", f"uid_offset={uid_offset}"]


def consecutive_skus(conn: psycopg.Connection, count: int, *, last: bool = False) -> list[int]:
    """The first (or the last) `count` sku_ids, which the script needs consecutive."""
    low, high, found = conn.execute(sql.SQL(
        "SELECT min(sku_id), max(sku_id), count(*) FROM (SELECT sku_id FROM Product_SKUs ORDER BY sku_id {} "
        "LIMIT %s) AS s").format(sql.SQL("DESC" if last else "ASC")), (count,)).fetchone()
    if found < count or high - low + 1 != found:
        raise RuntimeError(f"the place-order script needs {count} consecutive sku_ids")
    return list(range(low, high + 1))


def user_offset(conn: psycopg.Connection, customers: int) -> int:
    """user_id - customer_id of the logins of customers 1..`customers`, which the script needs
    to be one constant (create_customer_logins() makes them in customer order)."""
    count, low, high = conn.execute(
        "SELECT count(DISTINCT customer_id), min(user_id - customer_id), max(user_id - customer_id) "
        "FROM Users WHERE role = 'customer' AND customer_id BETWEEN 1 AND %s", (customers,)).fetchone()
    if count < customers or low != high:
        raise RuntimeError(f"the place-order script needs customers 1..{customers} with logins whose "
                           "user_ids are customer_id + a constant")
    return low


# Every SKU a baseline orders from gets exactly one sellable batch with stock enough for any
# run: the rest of its stock written off, one batch received, both through the ledger (so
# the books still balance).
_WRITE_OFF_SQL = """
WITH old AS (
    SELECT batch_id, quantity_on_hand FROM Inventory_Batches
    WHERE sku_id = ANY(%(skus)s) AND quantity_on_hand > 0
), moved AS (
    INSERT INTO Stock_Movements (batch_id, quantity_delta, reason, note)
    SELECT batch_id, -quantity_on_hand, 'write_off', %(label)s || ': one batch per benchmark SKU' FROM old
)
UPDATE Inventory_Batches AS b SET quantity_on_hand = 0 FROM old WHERE b.batch_id = old.batch_id
"""
_RECEIVE_SQL = """
WITH received AS (
    INSERT INTO Inventory_Batches (sku_id, batch_no, expiry_date, quantity_on_hand, cost_price)
    SELECT sku_id, upper(%(label)s), %(expiry)s, %(stock)s, 1.00 FROM unnest(%(skus)s::int[]) AS sku_id
    RETURNING batch_id, quantity_on_hand
)
INSERT INTO Stock_Movements (batch_id, quantity_delta, reason, note)
SELECT batch_id, quantity_on_hand, 'receipt', %(label)s FROM received
"""


def one_sellable_batch(conn: psycopg.Connection, skus: list[int], label: str) -> None:
    """Leave every SKU of `skus` exactly one sellable batch (named `label`) of BASELINE_STOCK
    units expiring in three years, through the ledger, in one transaction."""
    expiry = datetime.now(UTC).date() + timedelta(days=3 * 365)
    with conn.transaction():
        conn.execute(_WRITE_OFF_SQL, {"skus": skus, "label": label})
        conn.execute(_RECEIVE_SQL, {"skus": skus, "label": label, "stock": BASELINE_STOCK, "expiry": expiry})


# --- running pgbench -----------------------------------------------------------------------

def pgbench_executable() -> Path:
    return db.psql_executable().parent / "pgbench"


def pgbench_env(url: str) -> dict[str, str]:
    parts = conninfo_to_dict(url)
    env = os.environ | {"PGHOST": str(parts.get("host", "")), "PGUSER": str(parts.get("user") or "postgres"),
                        "PGDATABASE": str(parts["dbname"])}
    for key, name in (("port", "PGPORT"), ("password", "PGPASSWORD"), ("sslmode", "PGSSLMODE")):
        if parts.get(key):
            env[name] = str(parts[key])
    return env


def pgbench(url: str, arguments: list[str], workdir: Path,
            on_line: Callable[[str], None] | None = None) -> str:
    """pgbench on `url` with `arguments`; each line of its output goes to `on_line` as it comes
    (the progress lines of -P while it runs). Returns the whole output."""
    lines = []
    with subprocess.Popen([str(pgbench_executable()), *arguments], env=pgbench_env(url), cwd=workdir,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
        for line in process.stdout:
            lines.append(line)
            if on_line is not None:
                on_line(line)
    if process.returncode != 0:
        raise RuntimeError(f"pgbench {' '.join(arguments)} failed:\n{''.join(lines)[-3000:]}")
    return "".join(lines)


def _tps(output: str) -> float:
    return round(float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", output)[1]), 1)


def transactions(output: str) -> dict[str, Any]:
    """TPS and transactions (processed, failed) from pgbench's report."""
    failed = re.search(r"number of failed transactions: (\d+)", output)
    return {"tps": _tps(output),
            "transactions": int(re.search(r"number of transactions actually processed: (\d+)", output)[1]),
            "failed_transactions": int(failed[1]) if failed else 0}


def transaction_log(logs: Path) -> list[list[str]]:
    """The lines of the per-transaction logs (-l) in `logs`: client, transaction, latency in
    microseconds, script, the transaction's end (epoch seconds, microseconds)."""
    return [line.split() for path in logs.glob("tx*") for line in path.open()]


def latencies(log: list[list[str]]) -> dict[str, float]:
    """p50, p95 and p99 in milliseconds of the transactions of transaction_log()."""
    if not log:
        return {}
    milliseconds = [int(fields[2]) / 1000 for fields in log]
    return {f"p{n}_ms": round(percentile(milliseconds, n / 100), 2) for n in (50, 95, 99)}


# --- the load suite's baselines ------------------------------------------------------------

def pgbench_select_only(url: str, clients: int, duration_s: int, workdir: Path) -> dict[str, Any]:
    """pgbench's built-in select-only test (`-S`) on its own tables, created in the same
    database for the occasion and dropped again."""
    pgbench(url, ["-i", "-s", "1", "-q"], workdir)
    try:
        output = pgbench(url, ["-n", "-S", "-M", "prepared", "-c", str(clients), "-j", "2",
                               "-T", str(duration_s)], workdir)
    finally:
        pgbench(url, ["-i", "-I", "d"], workdir)
    latency = re.search(r"latency average = ([\d.]+) ms", output)
    return {"tps": _tps(output), "latency_average_ms": float(latency[1]) if latency else None,
            "clients": clients, "duration_s": duration_s}


def pgbench_place_order(url: str, clients: int, duration_s: int, workdir: Path) -> dict[str, Any]:
    """The SQL work of one 3-line order, uncontended (each client orders its own 3 SKUs)."""
    with db.connect(url) as conn:
        skus = consecutive_skus(conn, 3 * clients, last=True)
        uid_offset = user_offset(conn, clients)
        one_sellable_batch(conn, skus, "bench-load-pgbench")
        conn.execute("VACUUM ANALYZE Inventory_Batches")
    common = place_order_arguments(workdir, clients, skus[0], uid_offset)
    pgbench(url, [*common, "-T", "2" if duration_s >= 10 else "1"], workdir)  # warm-up
    logs = workdir / "place_order_log"
    logs.mkdir()
    output = pgbench(url, [*common, "-T", str(duration_s), "-l", f"--log-prefix={logs / 'tx'}"], workdir)
    return {**transactions(output), "clients": clients, "duration_s": duration_s, "lines_per_order": 3,
            **latencies(transaction_log(logs))}
