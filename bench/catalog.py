"""Catalog throughput: GET /api/products against a bare endpoint of the same app, same run.

    .venv/bin/python bench/catalog.py [--duration 5] [--rounds 6] [--connections 32] [--workers 1]

Creates a fresh database with the seed procedure's default sizes, 20 pricing rules and a
customer login (then VACUUM ANALYZE, as autovacuum would on a live system), and serves it
with `stockline serve` twice, catalog cache off and then on. On each server, wrk (as the
signed-in customer) measures two URLs back to back, round after round, their order
alternating:

- bare:     /bench/bare (50 rows from one indexed SELECT; the baseline)
- catalog:  /api/products?page=1&limit=50&quantity=1 (CACHE_TTL_PRODUCTS=0, then 30)

"Uncached" is the response cache off (CACHE_TTL_PRODUCTS=0): every request reads the page's
stock figures from the database, while the listing skeleton (the page's SKUs, total, names
and prices, keyed by the listing version) stays cached as in production (CACHE_TTL_LISTING's
default); with a steady catalog and no orders it is computed once per worker.

Each round gives a ratio, catalog req/s over the bare req/s measured next to it; the
summary gives the median over the rounds. Goals: uncached >= 0.5 x bare, cached >= 2 x
bare. Needs wrk (apt-get install wrk).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

from harness import create_database, drop_database, start_server, stop_server

from stockline import db
from stockline.auth.passwords import hash_password
from stockline.config import SeedSettings, get_settings
from stockline.seeding.service import run_seed

CATALOG_PATH = "/api/products?page=1&limit=50&quantity=1"
BARE_PATH = "/bench/bare"
PASSWORD = "Bench-password-1"


def prepare_database(server_url: str) -> str:
    url = create_database(server_url, "stockline_bench_catalog")
    with db.connect(url) as conn, open(os.devnull, "w") as quiet:
        db.apply_schema(conn)
        run_seed(conn, SeedSettings(pricing_rules=20, seed=7), out=quiet)
        conn.execute("INSERT INTO Users (customer_id, username, password_hash, role) "
                     "VALUES (1, 'cust_1', %s, 'customer')", (hash_password(PASSWORD),))
        # what autovacuum does soon after a load on a live system: statistics, and a visibility
        # map so stock figures come from index-only scans; done here so runs do not depend on
        # whether autovacuum got there first
        conn.execute("VACUUM ANALYZE")
    return url


def sign_in(base: str) -> str:
    request = urllib.request.Request(  # noqa: S310 (our own server)
        f"{base}/api/login", method="POST",
        data=json.dumps({"username": "cust_1", "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        return json.load(answer)["access_token"]


def _milliseconds(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, token: str, duration: int, connections: int) -> dict[str, float]:
    done = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency",
         "-H", f"Authorization: Bearer {token}", url], capture_output=True, text=True, check=True)
    out = done.stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1]),
        "p50_ms": _milliseconds(re.search(r"^\s+50%\s+(\S+)\s*$", out, re.MULTILINE)[1]),
        "p99_ms": _milliseconds(re.search(r"^\s+99%\s+(\S+)\s*$", out, re.MULTILINE)[1]),
        "non_2xx": int(errors[1]) if errors else 0,
    }


def measure_pairs(url: str, workers: int, cache_ttl: int, rounds: int, duration: int, connections: int,
                  log_path: Path) -> list[dict[str, Any]]:
    """One server; each round measures the bare endpoint and the catalog URL back to back,
    in alternating order, so that a change in the machine's load favours neither and each
    ratio compares two measurements taken seconds apart."""
    settings = {"STOCKLINE_ENV": "production", "BENCH_ENDPOINTS": "1", "CACHE_TTL_PRODUCTS": str(cache_ttl),
                "DB_POOL_MAX": "20"}
    server, base = start_server(url, workers, log_path, settings)
    try:
        token = sign_in(base)
        for path in (BARE_PATH, CATALOG_PATH):
            wrk(f"{base}{path}", token, 2, connections)  # warm-up
        pairs = []
        for round_no in range(rounds):
            results = {}
            for path in ([BARE_PATH, CATALOG_PATH] if round_no % 2 == 0 else [CATALOG_PATH, BARE_PATH]):
                results[path] = wrk(f"{base}{path}", token, duration, connections)
                print(f"  {path} (cache {'on' if cache_ttl else 'off'}): {results[path]}", file=sys.stderr)
            bare, catalog = results[BARE_PATH], results[CATALOG_PATH]
            pairs.append({"bare": bare, "catalog": catalog,
                          "ratio": round(catalog["requests_per_s"] / bare["requests_per_s"], 3)})
        return pairs
    finally:
        stop_server(server)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=5, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=6, help="bare/catalog pairs per server")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("bench/catalog.py needs wrk: apt-get install wrk", file=sys.stderr)
        return 2

    server_url = db.resolve_database_url(get_settings())
    print("preparing a database with the seed procedure's default sizes ...", file=sys.stderr)
    url = prepare_database(server_url)
    try:
        with tempfile.TemporaryDirectory(prefix="bench_catalog_") as logs:
            runs = {mode: measure_pairs(url, args.workers, ttl, args.rounds, args.duration, args.connections,
                                        Path(logs) / f"server_{mode}.log")
                    for mode, ttl in (("uncached", 0), ("cached", 30))}
    finally:
        drop_database(url)

    print(f"\n{'round':<7}{'catalog cache':<15}{'bare req/s':>11}{'catalog req/s':>14}{'p50 ms':>8}"
          f"{'p99 ms':>8}{'non-2xx':>9}{'x bare':>8}")
    for mode in runs:
        for round_no, run in enumerate(runs[mode]):
            catalog = run["catalog"]
            print(f"{round_no + 1:<7}{'off' if mode == 'uncached' else 'on':<15}"
                  f"{run['bare']['requests_per_s']:>11,.0f}{catalog['requests_per_s']:>14,.0f}"
                  f"{catalog['p50_ms']:>8.2f}{catalog['p99_ms']:>8.2f}"
                  f"{catalog['non_2xx'] + run['bare']['non_2xx']:>9}{run['ratio']:>8.2f}")
    figures = {"workers": args.workers, "connections": args.connections, "duration_s": args.duration,
               "rounds": runs}
    for mode, goal in (("uncached", 0.5), ("cached", 2.0)):
        ratios = [run["ratio"] for run in runs[mode]]
        figures[f"{mode}_ratio_median"] = statistics.median(ratios)
        print(f"catalog cache {'off' if mode == 'uncached' else 'on '}: x bare median "
              f"{statistics.median(ratios):.2f} (min {min(ratios):.2f}, max {max(ratios):.2f}); "
              f"goal >= {goal:.2f}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
