"""Database baselines measured in the same run as the load, on the same database:
pgbench's select-only test, and a place-order script doing the SQL work of one 3-line order
(the idea of bench/checkout.py's script: lock the SKUs in ascending order, read their FEFO
batches, insert the order and its items, write the sale movements and take the stock)."""

from __future__ import annotations

import math
import os
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from psycopg.conninfo import conninfo_to_dict

from stockline import db

BASELINE_STOCK = 1_000_000_000  # units of the one batch of every SKU pgbench orders from


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of `values` (not empty)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]

PLACE_ORDER_SCRIPT = r"""
\set s1 :sku_base + 3 * :client_id
\set s2 :s1 + 1
\set s3 :s1 + 2
\set cid :client_id + 1
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
  AND expiry_date > current_date
\gset
WITH new_order AS (
    INSERT INTO Orders (customer_id, user_id, total_amount, idempotency_key, request_hash)
    VALUES (:cid::int, (SELECT user_id FROM Users WHERE customer_id = :cid::int ORDER BY user_id LIMIT 1),
            12.00, NULL, 'pgbench')
    RETURNING order_id, user_id
), items AS (
    INSERT INTO Order_Items (order_id, sku_id, batch_id, quantity_ordered, base_price, discount_percentage,
                             sale_price, unit_cost, pricing_rule_id)
    SELECT new_order.order_id, i.*
    FROM new_order, (VALUES (:s1::int, :b1::int, 1, 2.00, 0.00, 2.00, 1.00, NULL::int),
                            (:s2::int, :b2::int, 2, 2.00, 0.00, 2.00, 1.00, NULL::int),
                            (:s3::int, :b3::int, 3, 2.00, 0.00, 2.00, 1.00, NULL::int)) AS i
)
SELECT order_id, user_id AS uid FROM new_order
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


def one_sellable_batch(conn, skus: list[int], label: str) -> None:
    """Leave every SKU of `skus` exactly one sellable batch (named `label`) of BASELINE_STOCK
    units expiring in three years, through the ledger, in one transaction."""
    expiry = datetime.now(UTC).date() + timedelta(days=3 * 365)
    with conn.transaction():
        conn.execute(_WRITE_OFF_SQL, {"skus": skus, "label": label})
        conn.execute(_RECEIVE_SQL, {"skus": skus, "label": label, "stock": BASELINE_STOCK, "expiry": expiry})


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


def _pgbench(url: str, arguments: list[str], cwd: Path) -> str:
    done = subprocess.run([str(pgbench_executable()), *arguments], env=pgbench_env(url), cwd=cwd,
                          capture_output=True, text=True, timeout=900, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"pgbench {' '.join(arguments)} failed:\n{(done.stdout + done.stderr)[-3000:]}")
    return done.stdout + done.stderr


def _tps(output: str) -> float:
    return round(float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", output)[1]), 1)


def pgbench_select_only(url: str, clients: int, duration_s: int, workdir: Path) -> dict[str, Any]:
    """pgbench's built-in select-only test (`-S`) on its own tables, created in the same
    database for the occasion and dropped again."""
    _pgbench(url, ["-i", "-s", "1", "-q"], workdir)
    try:
        output = _pgbench(url, ["-n", "-S", "-M", "prepared", "-c", str(clients), "-j", "2",
                                "-T", str(duration_s)], workdir)
    finally:
        _pgbench(url, ["-i", "-I", "d"], workdir)
    latency = re.search(r"latency average = ([\d.]+) ms", output)
    return {"tps": _tps(output), "latency_average_ms": float(latency[1]) if latency else None,
            "clients": clients, "duration_s": duration_s}


def pgbench_place_order(url: str, clients: int, duration_s: int, workdir: Path) -> dict[str, Any]:
    """The SQL work of one 3-line order, uncontended (each client orders its own 3 SKUs)."""
    needed = 3 * clients
    with db.connect(url) as conn:
        first, last, count = conn.execute(
            "SELECT min(sku_id), max(sku_id), count(*) FROM (SELECT sku_id FROM Product_SKUs "
            "ORDER BY sku_id DESC LIMIT %s) AS s", (needed,)).fetchone()
        customers = conn.execute("SELECT count(DISTINCT customer_id) FROM Users WHERE customer_id <= %s",
                                 (clients,)).fetchone()[0]
        if count < needed or last - first + 1 != count or customers < clients:
            raise RuntimeError(f"the place-order baseline needs {needed} consecutive sku_ids and "
                               f"customers 1..{clients} with logins")
        skus = list(range(first, last + 1))
        one_sellable_batch(conn, skus, "bench-load-pgbench")
        conn.execute("VACUUM ANALYZE Inventory_Batches")
    script = workdir / "place_order.sql"
    script.write_text(PLACE_ORDER_SCRIPT)
    common = ["-n", "-M", "prepared", "-c", str(clients), "-j", "2", "-f", str(script),
              "-D", f"sku_base={first}"]
    _pgbench(url, [*common, "-T", "2" if duration_s >= 10 else "1"], workdir)  # warm-up
    logs = workdir / "place_order_log"
    logs.mkdir()
    output = _pgbench(url, [*common, "-T", str(duration_s), "-l", f"--log-prefix={logs / 'tx'}"], workdir)
    latencies = [int(line.split()[2]) / 1000 for path in logs.glob("tx*") for line in path.open()]
    failed = re.search(r"number of failed transactions: (\d+)", output)
    figures = {"tps": _tps(output), "clients": clients, "duration_s": duration_s,
               "transactions": int(re.search(r"number of transactions actually processed: (\d+)", output)[1]),
               "failed_transactions": int(failed[1]) if failed else 0, "lines_per_order": 3}
    if latencies:
        figures |= {f"p{n}_ms": round(percentile(latencies, n / 100), 2) for n in (50, 95, 99)}
    return figures
