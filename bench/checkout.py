"""Checkout throughput: POST /api/checkout against pgbench doing the same SQL work, same run.

    .venv/bin/python bench/checkout.py [--duration 15] [--clients 64] [--workers 2] [--credit-limit N]
                                       [--json FILE]

Creates a fresh database (the seed procedure's default sizes, but one customer per client,
and 20 pricing rules), a `cust_<id>` login for each customer, and gives every SKU the bench
orders from exactly one sellable batch of 1,000,000,000 units (its seeded stock written off,
the new batch received: both through the ledger, so `stockline check` still holds). Each
order has 3 lines (1, 2 and 3 units), so every order writes 1 order, 3 items, 3 movements
and changes 3 batches.

- HTTP: `stockline serve --workers 2` (STOCKLINE_ENV=test), driven by an asyncio + aiohttp
  client with `--clients` signed-in customers at once, in rounds: every customer sets its 3
  cart lines (POST /api/cart, timed apart), then all of them POST /api/checkout at once.
  Orders/s = orders placed / summed wall time of the checkout phases; p50/p99 are of each
  checkout request. Runs until the checkout phases add up to `--duration` seconds.
- pgbench: the place-order script (bench/load/pgbench.py, which the load suite runs too),
  `--clients` connections (`-j 2 -M prepared -T --duration`), one transaction per order:
  lock the 3 SKU rows FOR NO KEY UPDATE in ascending order, read their sellable batches,
  insert the order and its 3 items (one statement), insert 3 sale movements and decrement 3
  batches (one statement), commit. The server is stopped first.

`--credit-limit` gives every customer that limit, so each HTTP order is credit-checked under
its customer's row lock (docs/money.md); pgbench's script has no such step.

Both run twice: uncontended (each customer / pgbench client orders its own 3 SKUs) and hot
(everybody orders the same 3 SKUs, with stock enough for all: lock contention only).
Afterwards the invariants of `stockline check` are verified on the bench database, which is
then dropped.

Goal: uncontended HTTP orders/s >= 0.30 x pgbench TPS. The hot case and p50/p99 are reported.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import sys
import tempfile
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import aiohttp

# bench/harness.py and the place-order script of bench/load/pgbench.py (this script runs from bench/)
from harness import (
    create_database,
    drop_database,
    machine_ticks,
    process_cpu,
    say,
    spent,
    start_server,
    stop_server,
)
from load.pgbench import (
    consecutive_skus,
    latencies,
    one_sellable_batch,
    percentile,
    pgbench,
    pgbench_executable,
    place_order_arguments,
    transaction_log,
    transactions,
    user_offset,
)

from stockline import db
from stockline.accounts.service import create_customer_logins
from stockline.config import SeedSettings, get_settings
from stockline.invariants import check_invariants
from stockline.seeding.service import run_seed

PASSWORD = "Bench-password-1"
LINE_QUANTITIES = (1, 2, 3)  # units of the 3 lines of every order
WARMUP_ROUNDS = 5  # untimed rounds first: pool connections opened, statements prepared


def cpu_seconds() -> float:
    """CPU time this process has used (user + system)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- the database --------------------------------------------------------------------------

@dataclass(frozen=True)
class Layout:
    """Which SKUs each case orders from: blocks of consecutive sku_ids."""

    clients: int
    http_uncontended: int  # customer i (1-based) orders base + 3 (i - 1) + 0, 1, 2
    pgbench_uncontended: int  # pgbench client c (0-based) orders base + 3 c + 0, 1, 2
    http_hot: int  # everybody orders base + 0, 1, 2
    pgbench_hot: int

    def http_skus(self, hot: bool) -> list[tuple[int, int, int]]:
        return [self._three(self.http_hot if hot else self.http_uncontended + 3 * i)
                for i in range(self.clients)]

    @staticmethod
    def _three(first: int) -> tuple[int, int, int]:
        return first, first + 1, first + 2


def prepare_database(server_url: str, clients: int, credit_limit: Decimal | None) -> tuple[str, Layout, int]:
    """A fresh seeded database; its URL, the SKU layout and user_id - customer_id of the logins.
    With `credit_limit`, every customer has that limit, so every order takes its customer's row
    lock and reads the customer's exposure (the credit check of stockline_place_order)."""
    url = create_database(server_url, "stockline_bench_checkout")
    try:
        with db.connect(url) as conn:
            db.apply_schema(conn)
            with open(os.devnull, "w") as quiet:
                run_seed(conn, SeedSettings(customers=clients, pricing_rules=20, seed=7), out=quiet)
            say(f"seeded {db.database_name(url)}; creating {clients} customer logins ...")
            result = create_customer_logins(conn, password=PASSWORD)
            if result.created != clients:
                raise SystemExit(f"expected {clients} new customer logins, made {result.created}")
            uid_offset = user_offset(conn, clients)
            skus = consecutive_skus(conn, 2 * 3 * clients + 2 * 3)  # HTTP and pgbench, uncontended and hot
            first = skus[0]
            layout = Layout(clients, first, first + 3 * clients, first + 6 * clients, first + 6 * clients + 3)
            with conn.transaction():
                conn.execute("UPDATE Product_SKUs SET is_active = true WHERE sku_id = ANY(%s)", (skus,))
                conn.execute("UPDATE Products SET is_active = true WHERE product_id IN "
                             "(SELECT product_id FROM Product_SKUs WHERE sku_id = ANY(%s))", (skus,))
                one_sellable_batch(conn, skus, "bench-checkout")
                conn.execute("UPDATE Customers SET credit_limit = %s", (credit_limit,))
            conn.execute("VACUUM ANALYZE")
    except BaseException:
        drop_database(url)
        raise
    return url, layout, uid_offset


# --- HTTP ----------------------------------------------------------------------------------

@dataclass
class HttpResult:
    orders: int = 0
    checkout_seconds: float = 0.0
    rounds: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    cart_requests: int = 0
    cart_seconds: float = 0.0
    client_cpu_seconds: float = 0.0  # this process's CPU time during the checkout phases
    busy_ticks: int = 0  # the machine's, during the checkout phases
    total_ticks: int = 0
    server_cpu_seconds: float = 0.0  # the server's processes, during the checkout phases
    postgres_cpu_seconds: float = 0.0  # the bench database's backends, during the checkout phases

    def figures(self) -> dict:
        return {
            "orders_per_s": round(self.orders / self.checkout_seconds, 1),
            "p50_ms": round(percentile(self.latencies_ms, 0.50), 2),
            "p99_ms": round(percentile(self.latencies_ms, 0.99), 2),
            "orders": self.orders, "rounds": self.rounds,
            "checkout_seconds": round(self.checkout_seconds, 2), "failed_checkouts": self.failures,
            "cart_requests_per_s": round(self.cart_requests / self.cart_seconds, 1),
            "client_cpu_per_order_ms": round(1000 * self.client_cpu_seconds / max(self.orders, 1), 2),
            "server_cpu_per_order_ms": round(1000 * self.server_cpu_seconds / max(self.orders, 1), 2),
            "postgres_cpu_per_order_ms": round(1000 * self.postgres_cpu_seconds / max(self.orders, 1), 2),
            "machine_cpu_busy": round(self.busy_ticks / self.total_ticks, 2) if self.total_ticks else None,
        }


async def sign_in_all(clients: list[aiohttp.ClientSession]) -> None:
    """Sign customer i in on clients[i - 1]; its token goes with that client's requests."""
    gate = asyncio.Semaphore(4)  # argon2 verification is CPU-bound on the server

    async def sign_in(client: aiohttp.ClientSession, customer_id: int) -> None:
        async with gate, client.post("/api/login", json={"username": f"cust_{customer_id}",
                                                         "password": PASSWORD}) as answer:
            answer.raise_for_status()
            token = (await answer.json())["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"

    await asyncio.gather(*(sign_in(client, number) for number, client in enumerate(clients, start=1)))


async def fill_cart(client: aiohttp.ClientSession, skus: tuple[int, int, int]) -> None:
    for sku_id, quantity in zip(skus, LINE_QUANTITIES, strict=True):
        line = {"sku_id": sku_id, "quantity": quantity}
        for attempt in (1, 2):  # setting a line twice is harmless: once more on a lost connection
            try:
                async with client.post("/api/cart", json=line) as answer:
                    status, text = answer.status, await answer.text()
                break
            except aiohttp.ClientConnectionError:
                if attempt == 2:
                    raise
        if status != 200:
            raise RuntimeError(f"POST /api/cart answered {status}: {text[:500]}")


async def check_out(client: aiohttp.ClientSession) -> tuple[float, int, str]:
    started = time.perf_counter()
    try:
        async with client.post("/api/checkout") as answer:
            status, body = answer.status, await answer.read()
    except aiohttp.ClientError as exc:  # counted as a failed checkout, not retried
        return (time.perf_counter() - started) * 1000, 0, type(exc).__name__
    elapsed_ms = (time.perf_counter() - started) * 1000
    code = ""
    if status != 201:
        try:
            code = json.loads(body)["error"]["code"]
        except (ValueError, KeyError, TypeError):
            code = body[:80].decode(errors="replace")
    return elapsed_ms, status, code


async def http_case(base: str, skus: list[tuple[int, int, int]], duration: float, label: str,
                    server_group: int, database: str) -> HttpResult:
    # One client (one keep-alive connection) per customer, aiohttp's: the client shares the
    # machine's two cores with the server and PostgreSQL, and aiohttp spends about a third of
    # the CPU per request httpx does. Idle connections are kept 30 s, below the server's 75.
    async with contextlib.AsyncExitStack() as stack:
        customers = [await stack.enter_async_context(aiohttp.ClientSession(
            base_url=base, timeout=aiohttp.ClientTimeout(total=120),
            connector=aiohttp.TCPConnector(limit=1, keepalive_timeout=30))) for _ in skus]
        await sign_in_all(customers)
        result = HttpResult()
        round_no, last_report = 0, time.monotonic()
        while result.checkout_seconds < duration:
            round_no += 1
            started = time.perf_counter()
            await asyncio.gather(*(fill_cart(client, three)
                                   for client, three in zip(customers, skus, strict=True)))
            cart_seconds = time.perf_counter() - started
            cpu, (busy, total) = cpu_seconds(), machine_ticks()
            processes = process_cpu(server_group, database)
            started = time.perf_counter()
            outcomes = await asyncio.gather(*(check_out(client) for client in customers))
            checkout_seconds = time.perf_counter() - started
            busy_after, total_after = machine_ticks()
            cpu, busy, total = cpu_seconds() - cpu, busy_after - busy, total_after - total
            after = process_cpu(server_group, database)
            server_cpu = spent(processes["server"], after["server"])
            postgres_cpu = spent(processes["postgres"], after["postgres"])
            if round_no <= WARMUP_ROUNDS:
                continue
            result.rounds += 1
            result.cart_requests += 3 * len(customers)
            result.cart_seconds += cart_seconds
            result.checkout_seconds += checkout_seconds
            result.client_cpu_seconds += cpu
            result.busy_ticks += busy
            result.total_ticks += total
            result.server_cpu_seconds += server_cpu
            result.postgres_cpu_seconds += postgres_cpu
            for elapsed_ms, status, code in outcomes:
                result.latencies_ms.append(elapsed_ms)
                if status == 201:
                    result.orders += 1
                else:
                    key = f"{status} {code}".strip()
                    result.failures[key] = result.failures.get(key, 0) + 1
            if time.monotonic() - last_report >= 5:
                last_report = time.monotonic()
                say(f"  HTTP {label}: {result.rounds} rounds, {result.orders} orders in "
                    f"{result.checkout_seconds:.1f} s of checkout "
                    f"({result.orders / result.checkout_seconds:.0f} orders/s so far)")
        return result


# --- pgbench -------------------------------------------------------------------------------

def pgbench_case(url: str, *, hot: bool, sku_base: int, uid_offset: int, clients: int, duration: int,
                 label: str, workdir: Path, log: bool) -> dict:
    logs = workdir / f"log_{label.replace(' ', '_')}"
    logs.mkdir(exist_ok=True)
    arguments = [*place_order_arguments(workdir, clients, sku_base, uid_offset, hot), "-T", str(duration),
                 "-P", "1"]
    if log:  # every transaction's latency and end time, for p50/p99 and CPU per transaction
        arguments += ["-l", f"--log-prefix={logs / 'tx'}"]
    # The backends' CPU is read at each progress line while pgbench runs (they exit with it):
    # from the first line to the one a second before the end, beside the transactions the log
    # shows ending in between.
    samples: list[tuple[float, dict[int, float]]] = []
    database = db.database_name(url)

    def progress(line: str) -> None:
        if line.startswith("progress:"):
            seconds = float(line.split()[1])
            if seconds <= duration - 1:
                samples.append((time.time(), process_cpu(None, database)["postgres"]))
            if seconds % 5 == 0:
                say(f"  pgbench {label}: {line.strip()}")

    figures = transactions(pgbench(url, arguments, workdir, progress))
    log_lines = transaction_log(logs)
    figures |= latencies(log_lines)
    if log_lines and len(samples) >= 2:
        (start, before), (end, after) = samples[0], samples[-1]
        ended = sum(1 for fields in log_lines if start <= int(fields[4]) + int(fields[5]) / 1e6 < end)
        figures["postgres_cpu_per_tx_ms"] = round(1000 * spent(before, after) / max(ended, 1), 2)
    return figures


# --- the run -------------------------------------------------------------------------------

def run_http(url: str, layout: Layout, args: argparse.Namespace, workdir: Path) -> dict[str, dict]:
    say(f"starting stockline serve --workers {args.workers} ...")
    settings = {"STOCKLINE_ENV": "test"}
    if args.pool_max is not None:
        settings["DB_POOL_MAX"] = str(args.pool_max)
    server, base = start_server(url, args.workers, workdir / "server.log", settings)
    try:
        results = {}
        for case, hot in (("uncontended", False), ("hot", True)):
            say(f"HTTP {case}: {args.clients} customers, rounds of cart + checkout, "
                f"{args.duration} s of checkout ...")
            result = asyncio.run(http_case(base, layout.http_skus(hot), args.duration, case, server.pid,
                                           db.database_name(url)))
            results[case] = result.figures()
            say(f"HTTP {case}: {results[case]}")
        return results
    finally:
        stop_server(server)
        problems = [line for line in (workdir / "server.log").read_text(errors="replace").splitlines()
                    if "Traceback" in line or "ERROR" in line or "WARNING" in line]
        if problems:
            say(f"server log ({workdir / 'server.log'}) has {len(problems)} error/warning lines, "
                f"first: {problems[0][:300]}")


def run_pgbench(url: str, layout: Layout, uid_offset: int, args: argparse.Namespace,
                workdir: Path) -> dict[str, dict]:
    results = {}
    for case, hot, base in (("uncontended", False, layout.pgbench_uncontended),
                            ("hot", True, layout.pgbench_hot)):
        say(f"pgbench {case}: -c {args.clients} -j 2 -M prepared, 2 s warm-up then -T {args.duration} ...")
        common = {"hot": hot, "sku_base": base, "uid_offset": uid_offset, "clients": args.clients,
                  "workdir": workdir}
        pgbench_case(url, duration=2, label=f"{case} warm-up", log=False, **common)
        results[case] = pgbench_case(url, duration=args.duration, label=case, log=True, **common)
        say(f"pgbench {case}: {results[case]}")
    return results


def verify(url: str) -> tuple[bool, list[str]]:
    with db.connect(url) as conn:
        results = check_invariants(conn)
    lines = [f"{'ok  ' if r.holds else 'FAIL'} {r.name}: {r.description}"
             + ("" if r.holds else f" ({len(r.offenders)} offending rows)") for r in results]
    return all(r.holds for r in results), lines


def print_table(http: dict[str, dict], bench: dict[str, dict], args: argparse.Namespace) -> None:
    print(f"\ncheckout, {args.clients} concurrent customers, 3 lines per order, "
          f"stockline serve --workers {args.workers}, {args.duration} s per phase")
    print(f"{'case':<13}{'HTTP orders/s':>14}{'p50 ms':>9}{'p99 ms':>9}{'pgbench tps':>13}"
          f"{'p50 ms':>9}{'p99 ms':>9}{'ratio':>8}")
    for case in ("uncontended", "hot"):
        h, b = http[case], bench[case]
        print(f"{case:<13}{h['orders_per_s']:>14,.1f}{h['p50_ms']:>9.1f}{h['p99_ms']:>9.1f}"
              f"{b['tps']:>13,.1f}{b.get('p50_ms', float('nan')):>9.1f}{b.get('p99_ms', float('nan')):>9.1f}"
              f"{h['orders_per_s'] / b['tps']:>8.2f}")
    for case in ("uncontended", "hot"):
        h = http[case]
        busy = "n/a" if h["machine_cpu_busy"] is None else f"{h['machine_cpu_busy']:.0%}"
        print(f"HTTP {case}: {h['orders']} orders in {h['rounds']} rounds, failed checkouts "
              f"{h['failed_checkouts'] or 'none'}; during checkout the machine's CPUs were "
              f"{busy} busy and this client used {h['client_cpu_per_order_ms']:.1f} ms "
              f"CPU per order; carts: {h['cart_requests_per_s']:,.0f} POST /api/cart per s")
    print(f"CPU ms per order    {'server':>8}{'PostgreSQL':>12}{'client':>8}   pgbench: PostgreSQL")
    for case in ("uncontended", "hot"):
        h, b = http[case], bench[case]
        print(f"{case:<20}{h['server_cpu_per_order_ms']:>8.2f}{h['postgres_cpu_per_order_ms']:>12.2f}"
              f"{h['client_cpu_per_order_ms']:>8.2f}   {b.get('postgres_cpu_per_tx_ms', float('nan')):>8.2f}")
    ratio = http["uncontended"]["orders_per_s"] / bench["uncontended"]["tps"]
    print(f"goal: uncontended HTTP >= 0.30 x pgbench: {ratio:.2f} -> {'met' if ratio >= 0.30 else 'MISSED'}")
    p99 = http["uncontended"]["p99_ms"]
    print(f"goal: p99 of a checkout with {args.clients} customers at once < 150 ms: {p99:.1f} ms -> "
          f"{'met' if p99 < 150 else 'MISSED'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=15, help="seconds measured per phase (default 15)")
    parser.add_argument("--clients", type=int, default=64, help="concurrent customers / pgbench clients")
    parser.add_argument("--workers", type=int, default=2, help="server processes (default 2)")
    parser.add_argument("--pool-max", type=int, help="DB_POOL_MAX per server process (default: the app's)")
    parser.add_argument("--credit-limit", type=Decimal, help="give every customer this credit limit, so each "
                        "order is credit-checked under its customer's row lock (default: no limit)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    if not pgbench_executable().exists():
        print(f"no pgbench at {pgbench_executable()}", file=sys.stderr)
        return 2

    load_before = os.getloadavg()
    server_url = db.resolve_database_url(get_settings())
    say(f"preparing a fresh database ({args.clients} customers, default sizes otherwise) ...")
    url, layout, uid_offset = prepare_database(server_url, args.clients, args.credit_limit)
    invariants_hold, invariant_lines = False, []
    try:
        with tempfile.TemporaryDirectory(prefix="bench_checkout_") as tmp:
            workdir = Path(tmp)
            http = run_http(url, layout, args, workdir)
            bench = run_pgbench(url, layout, uid_offset, args, workdir)
        say("checking the invariants of `stockline check` on the bench database ...")
        invariants_hold, invariant_lines = verify(url)
    finally:
        drop_database(url)
        say(f"dropped {db.database_name(url)}")

    print_table(http, bench, args)
    load_after = os.getloadavg()
    print(f"load average (1, 5, 15 min) before: {', '.join(f'{x:.2f}' for x in load_before)}; "
          f"after: {', '.join(f'{x:.2f}' for x in load_after)} ({os.cpu_count()} CPUs)")
    print("invariants after the run: " + ("all hold" if invariants_hold else "BROKEN"))
    for line in invariant_lines:
        print("  " + line)
    if args.json:
        figures = {
            "http": http, "pgbench": bench,
            "uncontended_ratio": round(http["uncontended"]["orders_per_s"] / bench["uncontended"]["tps"], 3),
            "hot_ratio": round(http["hot"]["orders_per_s"] / bench["hot"]["tps"], 3),
            "goal_uncontended_ratio": 0.30, "invariants_hold": invariants_hold,
            "clients": args.clients, "workers": args.workers, "pool_max": args.pool_max,
            "credit_limit": None if args.credit_limit is None else str(args.credit_limit),
            "duration_s": args.duration, "lines_per_order": len(LINE_QUANTITIES),
            "load_average_before": load_before, "load_average_after": load_after, "cpus": os.cpu_count(),
        }
        args.json.write_text(json.dumps(figures, indent=2))
    return 0 if invariants_hold else 1


if __name__ == "__main__":
    sys.exit(main())
