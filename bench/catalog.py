"""Catalog throughput: GET /api/products against a bare endpoint of the same app, same run.

    .venv/bin/python bench/catalog.py [--duration 10] [--connections 32] [--workers 1]

Creates a fresh database with the seed procedure's default sizes, 20 pricing rules and a
customer login, then serves it with `stockline serve` twice (catalog cache off, then on)
and drives each with wrk, as the signed-in customer:

- bare:     /bench/bare (50 rows from one indexed SELECT; the baseline)
- uncached: /api/products?page=1&limit=50&quantity=1 with CACHE_TTL_PRODUCTS=0
- cached:   the same URL with the cache on

Goals: uncached >= 0.5 x bare, cached >= 2 x bare. Needs wrk (apt-get install wrk).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

from psycopg import sql

from stockline import db
from stockline.auth.passwords import hash_password
from stockline.config import SeedSettings, get_settings
from stockline.seeding.service import run_seed

CATALOG_PATH = "/api/products?page=1&limit=50&quantity=1"
PASSWORD = "Bench-password-1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prepare_database(server_url: str) -> str:
    name = f"stockline_bench_catalog_{uuid.uuid4().hex[:6]}"
    with db.connect(db.with_database(server_url, "postgres")) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = db.with_database(server_url, name)
    with db.connect(url) as conn, open(os.devnull, "w") as quiet:
        db.apply_schema(conn)
        run_seed(conn, SeedSettings(pricing_rules=20, seed=7), out=quiet)
        conn.execute("INSERT INTO Users (customer_id, username, password_hash, role) "
                     "VALUES (1, 'cust_1', %s, 'customer')", (hash_password(PASSWORD),))
    return url


def start_server(url: str, port: int, workers: int, cache_ttl: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "STOCKLINE_ENV": "production",
           "SECRET_KEY": secrets.token_urlsafe(48), "BENCH_ENDPOINTS": "1",
           "CACHE_TTL_PRODUCTS": str(cache_ttl), "DB_POOL_MAX": "20"}
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("stockline")), "serve", "--port", str(port), "--workers",
         str(workers), "--no-access-log", "--no-init"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=1) as answer:
                if answer.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit(f"the server did not become ready: {server.stderr.read().decode()[-2000:]}")


def sign_in(port: int) -> str:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/login", method="POST",
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
        "p50_ms": _milliseconds(re.search(r"^\s+50%\s+(\S+)$", out, re.MULTILINE)[1]),
        "p99_ms": _milliseconds(re.search(r"^\s+99%\s+(\S+)$", out, re.MULTILINE)[1]),
        "non_2xx": int(errors[1]) if errors else 0,
    }


def measure(url: str, workers: int, cache_ttl: int, paths: list[str], duration: int,
            connections: int) -> dict[str, dict[str, float]]:
    port = free_port()
    server = start_server(url, port, workers, cache_ttl)
    try:
        token = sign_in(port)
        results = {}
        for path in paths:
            wrk(f"http://127.0.0.1:{port}{path}", token, 2, connections)  # warm-up
            results[path] = wrk(f"http://127.0.0.1:{port}{path}", token, duration, connections)
            print(f"  {path} (cache {'on' if cache_ttl else 'off'}): {results[path]}", file=sys.stderr)
        return results
    finally:
        server.terminate()
        server.wait(timeout=15)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
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
        off = measure(url, args.workers, 0, ["/bench/bare", CATALOG_PATH], args.duration, args.connections)
        on = measure(url, args.workers, 30, [CATALOG_PATH], args.duration, args.connections)
    finally:
        with db.connect(db.with_database(url, "postgres")) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(db.database_name(url))))

    bare, uncached, cached = off["/bench/bare"], off[CATALOG_PATH], on[CATALOG_PATH]
    figures = {"bare": bare, "uncached": uncached, "cached": cached,
               "uncached_ratio": round(uncached["requests_per_s"] / bare["requests_per_s"], 2),
               "cached_ratio": round(cached["requests_per_s"] / bare["requests_per_s"], 2),
               "workers": args.workers, "connections": args.connections, "duration_s": args.duration}
    print(f"\n{'endpoint':<34}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}{'x bare':>8}")
    for label, result in (("bare (/bench/bare)", bare), ("catalog, cache off", uncached),
                          ("catalog, cache on", cached)):
        print(f"{label:<34}{result['requests_per_s']:>10,.0f}{result['p50_ms']:>9.2f}{result['p99_ms']:>9.2f}"
              f"{result['non_2xx']:>9}{result['requests_per_s'] / bare['requests_per_s']:>8.2f}")
    print("goals: cache off >= 0.50 x bare, cache on >= 2.00 x bare")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
