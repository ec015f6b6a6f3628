"""The orchestration of `stockline bench load`: database, seed, server, Locust phases,
accounting, `stockline check`, baselines, report (see this package's docstring)."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import (
    STOCKLINE,
    create_database,
    drop_database,
    machine_ticks,
    process_cpu,
    say,
    spent,
    start_server,
    stop_server,
)

from stockline import db
from stockline.accounts.service import create_customer_logins, create_staff_user
from stockline.config import SeedSettings, get_settings
from stockline.seeding.service import run_seed

from . import wrk
from .pgbench import pgbench_place_order, pgbench_select_only
from .report import BARE, write_report

BENCH_DIR = Path(__file__).resolve().parents[1]
LOCUSTFILE = BENCH_DIR / "locustfile.py"
RESULTS_DIR = BENCH_DIR / "results"
STAFF_USERNAME = "load_staff"
PRICING_RULES = 60  # the demo data's count, when SCALE_PRICING_RULES does not say
PROBE_USERS = 4


@dataclass
class LoadOptions:
    users: int = 500
    duration_s: int = 180
    spawn_rate: float = 50.0
    workers: int = 2
    pool_max: int | None = None
    host: str | None = None
    setup: bool = True
    customers: str | None = None  # ids for --no-setup, e.g. "1-500"
    password: str = "Customer@123"
    staff_user: str | None = None
    staff_password: str | None = None
    staff_share: float = 0.02
    think_time: str = "1-5"
    staff_think_time: str = "2-8"
    weights: str = ""
    staff_weights: str = ""
    capacity_users: int = 32
    capacity_client: str = "auto"  # the capacity phases' load generator: auto (wrk if any), wrk, locust
    baseline_duration_s: int = 20
    pgbench_clients: int | None = None
    baselines: bool = True
    capacity: bool = True
    out_dir: Path | None = None
    keep_db: bool = False


def id_ranges(ids: list[int]) -> str:
    """[1, 2, 3, 7, 9, 10] -> '1-3,7,9-10' (what the locustfile reads)."""
    runs: list[list[int]] = []
    for value in sorted(set(ids)):
        if runs and value == runs[-1][1] + 1:
            runs[-1][1] = value
        else:
            runs.append([value, value])
    return ",".join(str(first) if first == last else f"{first}-{last}" for first, last in runs)


# --- the database --------------------------------------------------------------------------

def seed(url: str, options: LoadOptions, customers_needed: int) -> dict[str, Any]:
    """The seed procedure's sizes (SCALE_* win), at least one customer per virtual customer,
    pricing rules, a login per customer and one staff login."""
    plan = SeedSettings.from_env()
    rules_given = bool(os.environ.get("SCALE_PRICING_RULES", "").strip())
    plan = dataclasses.replace(plan, customers=max(plan.customers, customers_needed),
                               pricing_rules=plan.pricing_rules if rules_given else PRICING_RULES,
                               seed=7 if plan.seed is None else plan.seed)
    say(f"seeding: {plan.customers:,} customers, {plan.products:,} products, {plan.skus:,} SKUs, "
        f"{plan.batches:,} batches, {plan.pricing_rules:,} pricing rules (seed {plan.seed}) ...")
    with db.connect(url) as conn:
        db.apply_schema(conn)
        run_seed(conn, plan, out=sys.stderr)
        say(f"creating {plan.customers:,} customer logins (argon2id) ...")
        started = time.perf_counter()
        result = create_customer_logins(conn, password=options.password)
        say(f"{result.created:,} customer logins in {time.perf_counter() - started:.1f} s; "
            f"staff login {STAFF_USERNAME!r}")
        create_staff_user(conn, STAFF_USERNAME, options.password, role="staff")
        conn.execute("VACUUM ANALYZE")
        counts = db.seed_counts(conn)
    return {"plan": asdict(plan), "counts": counts}


def customer_ids(url: str, count: int) -> list[int]:
    with db.connect(url) as conn:
        rows = conn.execute("SELECT DISTINCT customer_id FROM Users WHERE role = 'customer' AND is_active "
                            "ORDER BY customer_id LIMIT %s", (count,)).fetchall()
    return [row[0] for row in rows]


def well_stocked_skus(url: str, minimum: int = 100) -> list[int]:
    """Active SKUs with at least `minimum` sellable units: what the capacity buyers order."""
    with db.connect(url) as conn:
        rows = conn.execute("""
            SELECT s.sku_id FROM Product_SKUs AS s JOIN Products AS p USING (product_id)
            JOIN Inventory_Batches AS b USING (sku_id)
            WHERE s.is_active AND p.is_active AND b.quantity_on_hand > 0 AND b.expiry_date > current_date
            GROUP BY s.sku_id HAVING sum(b.quantity_on_hand) >= %s ORDER BY s.sku_id""",
                            (minimum,)).fetchall()
    return [row[0] for row in rows]


def stock_snapshot(url: str) -> dict[str, Any]:
    with db.connect(url) as conn:
        row = conn.execute("SELECT now() AS at, (SELECT coalesce(sum(quantity_on_hand), 0) "
                           "FROM Inventory_Batches) AS on_hand").fetchone()
    return {"at": row[0], "on_hand": int(row[1])}


ACCOUNTING_SQL = """
WITH run_orders AS (
    SELECT order_id, status FROM Orders WHERE order_date >= %(since)s
), items AS (
    SELECT o.status, sum(oi.quantity_ordered) AS units
    FROM run_orders AS o JOIN Order_Items AS oi USING (order_id) GROUP BY o.status
)
SELECT (SELECT count(*) FROM run_orders) AS orders,
       (SELECT count(*) FROM run_orders WHERE status = 'cancelled') AS cancelled_orders,
       (SELECT coalesce(sum(units), 0) FROM items WHERE status <> 'cancelled') AS units_sold,
       (SELECT coalesce(sum(units), 0) FROM items WHERE status = 'cancelled') AS units_cancelled,
       (SELECT coalesce(-sum(quantity_delta), 0) FROM Stock_Movements
        WHERE reason = 'sale' AND created_at >= %(since)s) AS ledger_sales,
       (SELECT coalesce(sum(quantity_delta), 0) FROM Stock_Movements
        WHERE reason = 'cancel' AND created_at >= %(since)s) AS ledger_returns,
       (SELECT count(*) FROM Stock_Movements
        WHERE reason NOT IN ('sale', 'cancel') AND created_at >= %(since)s) AS other_movements
"""


def account(url: str, before: dict[str, Any]) -> dict[str, Any]:
    """Orders placed during the run, and whether units sold match the stock that left."""
    after = stock_snapshot(url)
    with db.connect(url) as conn:
        cur = conn.execute(ACCOUNTING_SQL, {"since": before["at"]})
        row = dict(zip([column.name for column in cur.description], cur.fetchone(), strict=True))
    figures = {key: int(value) for key, value in row.items()}
    figures["stock_consumed"] = before["on_hand"] - after["on_hand"]
    figures["units_match"] = (figures["units_sold"] == figures["stock_consumed"]
                              == figures["ledger_sales"] - figures["ledger_returns"]
                              and figures["other_movements"] == 0)
    return figures


def capacity_orders(url: str, since: datetime, phase: dict[str, Any]) -> dict[str, Any]:
    """The wrk order phase's orders as the client saw them (201, and 200 for a checkout
    sent again after its connection broke) beside the orders the database holds since the
    phase started: equal, or more by at most the requests still in flight when wrk stopped."""
    with db.connect(url) as conn:
        in_db = conn.execute("SELECT count(*) FROM Orders WHERE order_date >= %s", (since,)).fetchone()[0]
    statuses = phase["outcomes"]["statuses"]
    seen = (statuses.get("POST /api/checkout", {}).get("201", 0)
            + sum(statuses.get("POST /api/checkout [200 sent again, same key]", {}).values()))
    in_flight = phase["outcomes"].get("in_flight_at_the_end", 0)
    return {"answered_201": seen, "in_database": int(in_db), "in_flight_at_the_end": in_flight,
            "match": seen <= in_db <= seen + in_flight}


def run_check(url: str, out_dir: Path) -> dict[str, Any]:
    """`stockline check --json` on the database, as a user would run it."""
    done = subprocess.run([STOCKLINE, "check", "--json"],
                          env=os.environ | {"DATABASE_URL": url}, capture_output=True, text=True,
                          timeout=600, check=False)
    (out_dir / "check.json").write_text(done.stdout)
    try:
        report = json.loads(done.stdout)
    except ValueError:
        return {"ok": False, "ran": False, "error": (done.stderr or done.stdout)[-2000:]}
    broken = [item["name"] for item in report["invariants"] if not item["holds"]]
    return {"ok": report["ok"] and done.returncode == 0, "ran": True,
            "invariants": len(report["invariants"]), "broken": broken}


# --- the server ----------------------------------------------------------------------------

def bare_endpoint_answers(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/bench/bare", timeout=10) as answer:  # noqa: S310
            return answer.status == 200
    except OSError:
        return False


# --- where the CPU went --------------------------------------------------------------------

def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # waited-for children: the Locust or wrk run
    return usage.ru_utime + usage.ru_stime


def measured_cpu(phase: Callable[[], dict[str, Any]], server_pid: int | None,
                 database: str | None, client: str = "Locust") -> dict[str, Any]:
    """Run a phase (one Locust or wrk process, started and waited for inside `phase`) and add
    where the machine's CPU went meanwhile, in cores: the server's processes, the PostgreSQL
    backends of the run's database, the client (the load generator), and the rest (other
    work on the machine, PostgreSQL's own background processes); and the client's share of
    the CPU the machine was busy with."""
    started, (busy, total) = time.monotonic(), machine_ticks()
    processes, client_before = process_cpu(server_pid, database), _children_cpu_seconds()
    result = phase()
    wall = time.monotonic() - started
    busy_after, total_after = machine_ticks()
    after = process_cpu(server_pid, database)
    cpus = os.cpu_count() or 1
    busy_share = (busy_after - busy) / (total_after - total) if total_after > total else None
    server_cores = spent(processes["server"], after["server"]) / wall if server_pid else None
    postgres_cores = spent(processes["postgres"], after["postgres"]) / wall if database else None
    client_cores = (_children_cpu_seconds() - client_before) / wall
    known = [value for value in (server_cores, postgres_cores, client_cores) if value is not None]
    busy_cores = None if busy_share is None else busy_share * cpus
    result["cpu"] = {
        "wall_s": round(wall, 1), "machine_busy": None if busy_share is None else round(busy_share, 2),
        "server_cores": None if server_cores is None else round(server_cores, 2),
        "postgres_cores": None if postgres_cores is None else round(postgres_cores, 2),
        "client": client, "client_cores": round(client_cores, 2),
        "client_share_of_busy": round(client_cores / busy_cores, 3) if busy_cores else None,
        "other_cores": None if busy_cores is None else round(max(0.0, busy_cores - sum(known)), 2)}
    return result


# --- Locust --------------------------------------------------------------------------------

def _locust_percentile(response_times: dict[float, int], count: int, fraction: float) -> float | None:
    """Locust's own rule (stats.calculate_response_time_percentile) on its rounded times."""
    if not count:
        return None
    wanted, seen = int(count * fraction), 0
    for response_time in sorted(response_times, reverse=True):
        seen += response_times[response_time]
        if count - seen <= wanted:
            return response_time
    return 0.0


def read_stats(json_path: Path) -> dict[str, dict[str, Any]]:
    """Locust's final stats (--json-file), one row per request name (the CSV files are
    written by a loop that can miss the last second, so the figures come from here).
    Rates are over the steady state: from the statistics' reset to the last request."""
    entries = [entry for entry in json.loads(json_path.read_text()) if entry["num_requests"]]
    if not entries:
        return {}
    last = max(entry["last_request_timestamp"] for entry in entries)
    window = max(last - min(entry["start_time"] for entry in entries), 1e-9)
    rows = {}
    for entry in entries:
        count = entry["num_requests"]
        times = {float(ms): n for ms, n in entry["response_times"].items()}
        rows[entry["name"]] = {
            "type": entry["method"], "requests": count, "failures": entry["num_failures"],
            "requests_per_s": round(count / window, 2),
            **{f"p{n}_ms": _locust_percentile(times, count, n / 100) for n in (50, 95, 99)},
            "average_ms": round(entry["total_response_time"] / count, 2),
            "max_ms": entry["max_response_time"], "window_s": round(window, 1),
        }
    return rows


def _latest_history(history: Path) -> str:
    """A short line from the last 'Aggregated' row Locust flushed to its history CSV."""
    try:
        with open(history, newline="") as handle:
            last = [row for row in csv.DictReader(handle) if row.get("Name") == "Aggregated"][-1:]
    except (OSError, csv.Error):
        return ""
    if not last:
        return ""
    row = last[0]
    return (f"{row.get('User Count', '?')} users, {float(row.get('Requests/s') or 0):,.0f} req/s, "
            f"{float(row.get('Failures/s') or 0):,.1f} failures/s")


def run_locust(phase: str, classes: list[str], users: int, spawn_rate: float, duration_s: int, host: str,
               env: dict[str, str], out_dir: Path, sign_ins: int = 0) -> dict[str, Any]:
    """One headless Locust run; returns its stats (steady state) and the status counts of
    the whole run. Without sign-ins the steady state starts once every user is spawned
    and lasts until `duration_s` from the start; with `sign_ins`, it starts once that many
    users have tried to sign in and lasts `duration_s` from then (Locust's --run-time is
    only a safety net)."""
    prefix = out_dir / phase
    outcomes_file = out_dir / f"{phase}_outcomes.json"
    run_time = duration_s + (max(120, round(4 * users / spawn_rate)) if sign_ins else 0)
    if sign_ins:
        env = env | {"LOAD_SIGN_INS": str(sign_ins), "LOAD_STEADY_SECONDS": str(duration_s)}
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", host,
               "-u", str(users), "-r", str(spawn_rate), "-t", f"{run_time}s", "--stop-timeout", "10",
               "--csv", str(prefix), "--html", str(out_dir / f"{phase}.html"), "--only-summary",
               "--json-file", str(prefix),
               "--reset-stats", "--exit-code-on-error", "0", "--loglevel", "WARNING", *classes]
    with open(out_dir / f"{phase}.locust.log", "wb") as log:
        process = subprocess.Popen(command, env=os.environ | env | {"LOAD_OUTCOMES_FILE": str(outcomes_file)},
                                   stdout=log, stderr=subprocess.STDOUT, cwd=out_dir)
        started = time.monotonic()
        try:
            while process.poll() is None:
                try:
                    process.wait(timeout=min(30, max(5, duration_s / 6)))  # a progress line each
                except subprocess.TimeoutExpired:
                    latest = _latest_history(Path(f"{prefix}_stats_history.csv"))
                    say(f"  {phase}: {time.monotonic() - started:.0f} s  {latest}")
        finally:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
    if process.returncode != 0 or not Path(f"{prefix}.json").exists():
        raise RuntimeError(f"locust ({phase}) failed with exit status {process.returncode}:\n"
                           f"{(out_dir / f'{phase}.locust.log').read_text()[-3000:]}")
    outcomes = json.loads(outcomes_file.read_text()) if outcomes_file.exists() else {}
    if sign_ins and outcomes.get("all_signed_in_after_s") is None:
        say(f"  {phase}: only {outcomes.get('sign_ins', 0)} of {sign_ins} users tried to sign in within "
            f"{run_time} s; the statistics cover the whole run")
    return {"stats": read_stats(Path(f"{prefix}.json")), "outcomes": outcomes,
            "users": users, "duration_s": duration_s, "classes": classes}


# --- the run -------------------------------------------------------------------------------

def _git_commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=BENCH_DIR, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=BENCH_DIR,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" (with uncommitted changes in the working tree)" if dirty else "")


def _server_version(url: str) -> str:
    with db.connect(url) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


@dataclass
class Run:
    options: LoadOptions
    out_dir: Path
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    facts: dict[str, Any] = field(default_factory=dict)
    phases: dict[str, Any] = field(default_factory=dict)
    baselines: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def locust_env(options: LoadOptions, ids: list[int] | None, staff: tuple[str, str] | None) -> dict[str, str]:
    env = {"LOAD_PASSWORD": options.password, "LOAD_THINK_TIME": options.think_time,
           "LOAD_STAFF_THINK_TIME": options.staff_think_time, "LOAD_WEIGHTS": options.weights,
           "LOAD_STAFF_WEIGHTS": options.staff_weights,
           "LOAD_CUSTOMER_IDS": id_ranges(ids) if ids else (options.customers or f"1-{options.users}")}
    if staff:
        env |= {"LOAD_STAFF_USER": staff[0], "LOAD_STAFF_PASSWORD": staff[1]}
    return env


def run_phases(run: Run, base: str, url: str | None, staff: tuple[str, str] | None) -> None:
    options, out = run.options, run.out_dir
    server_pid = run.facts.get("server_pid")
    database = db.database_name(url) if url and server_pid else None
    staff_users = 0
    if staff and options.staff_share > 0:
        staff_users = max(1, round(options.users * options.staff_share))
    customers = options.users - staff_users
    ids = customer_ids(url, customers) if url and options.setup else None
    if ids is not None and len(ids) < customers:
        raise RuntimeError(f"{customers} customer logins are needed, the database has {len(ids)}")
    env = locust_env(options, ids, staff)
    bare = options.baselines and bare_endpoint_answers(base)
    if options.baselines and not bare:
        run.notes.append("/bench/bare does not answer (BENCH_ENDPOINTS=1 is not set on the server): "
                         "no bare-endpoint baseline")
    total_phases = 1 + bare + options.capacity
    number = 0
    client = run.facts.get("capacity_client", "Locust")
    if bare:
        number += 1
        say(f"phase {number}/{total_phases}: bare capacity, {options.capacity_users} "
            f"{'connections' if client == 'wrk' else 'users'} on /bench/bare without think time, "
            f"{options.baseline_duration_s} s ({client}) ...")
        if client == "wrk":
            run.phases["bare_capacity"] = measured_cpu(lambda: write_outcomes(out, "bare", wrk.bare_capacity(
                base, options.capacity_users, options.baseline_duration_s, out, BARE)),
                server_pid, database, "wrk")
        else:
            run.phases["bare_capacity"] = measured_cpu(lambda: run_locust(
                "bare", ["BareUser"], options.capacity_users, 100, options.baseline_duration_s, base, env,
                out), server_pid, database)
    number += 1
    probes = PROBE_USERS if bare else 0
    say(f"phase {number}/{total_phases}: the mix, {customers} customers + {staff_users} staff "
        f"(+ {probes} bare probes), spawning {options.spawn_rate:g}/s, {options.duration_s} s ...")
    classes = ["CustomerUser"] + (["StaffUser"] if staff_users else []) + (["ProbeUser"] if probes else [])
    mix_env = env | {"LOAD_STAFF_USERS": str(staff_users), "LOAD_PROBE_USERS": str(probes)}
    run.phases["mix"] = measured_cpu(lambda: run_locust(
        "mix", classes, options.users + probes, options.spawn_rate, options.duration_s, base, mix_env, out,
        sign_ins=options.users), server_pid, database)
    run.phases["mix"] |= {"customers": customers, "staff": staff_users, "probes": probes}
    if options.capacity:
        number += 1
        skus = well_stocked_skus(url) if url else []
        say(f"phase {number}/{total_phases}: order capacity, {options.capacity_users} customers filling a "
            f"3-line cart and checking out without think time, {options.baseline_duration_s} s "
            f"({client}) ...")
        if client == "wrk":
            buyers = customer_ids(url, options.capacity_users) if url else []
            tokens, sign_ins = wrk.sign_in_customers(base, buyers, options.password)
            say(f"  {len(tokens)} of {len(buyers)} customers signed in (before the measured window)")
            if len(tokens) < options.capacity_users:
                run.notes.append(f"order capacity: {len(tokens)} customers signed in, not "
                                 f"{options.capacity_users} (one wrk connection per customer)")
            run.facts["order_capacity_since"] = stock_snapshot(url)["at"] if url else None
            run.phases["order_capacity"] = measured_cpu(lambda: write_outcomes(
                out, "capacity", wrk.order_capacity(base, tokens, skus, options.baseline_duration_s, out,
                                                    sign_ins)), server_pid, database, "wrk")
        else:
            buyer_env = env | ({"LOAD_BUYER_SKUS": id_ranges(skus)} if len(skus) >= 3 else {})
            run.phases["order_capacity"] = measured_cpu(lambda: run_locust(
                "capacity", ["BuyerUser"], options.capacity_users, 50, options.baseline_duration_s, base,
                buyer_env, out, sign_ins=options.capacity_users), server_pid, database)


def write_outcomes(out_dir: Path, phase: str, result: dict[str, Any]) -> dict[str, Any]:
    """A wrk phase's `<phase>_outcomes.json` (every status of every request name) and
    `<phase>_failures.csv` (each failure's reason and count), as a Locust phase leaves them."""
    (out_dir / f"{phase}_outcomes.json").write_text(json.dumps(result["outcomes"], indent=2, sort_keys=True))
    with open(out_dir / f"{phase}_failures.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Method", "Name", "Error", "Occurrences"])
        for reason, count in sorted(result["outcomes"].get("reasons", {}).items()):
            name, _, error = reason.rpartition(": ")
            writer.writerow([name.split(" ", 1)[0], name, error, count])
    return result


def run(options: LoadOptions) -> int:
    client = capacity_client(options)
    if client is None:
        say("error: --capacity-client wrk, and wrk is not installed (apt-get install wrk, or LOAD_WRK=PATH)")
        return 2
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = options.out_dir or RESULTS_DIR / stamp
    out.mkdir(parents=True, exist_ok=True)
    result = Run(options, out)
    result.facts |= {"cpus": os.cpu_count(), "load_average_before": [round(x, 2) for x in os.getloadavg()],
                     "commit": _git_commit(), "locust": _locust_version()}
    result.facts["capacity_client"] = client
    if client == "wrk":
        result.facts["wrk"] = wrk.wrk_version(wrk.wrk_executable())
    elif options.capacity_client == "auto":
        message = ("wrk is not installed (apt-get install wrk): the capacity phases run on Locust, whose own "
                   "CPU limits them on a small machine (see the client's share in the report)")
        say(f"note: {message}")
        result.notes.append(message)
    say(f"load run; results go to {out}")
    remote = options.host is not None
    url: str | None = None
    created = False
    failed = ""
    server: subprocess.Popen | None = None
    try:
        if remote:
            base = options.host.rstrip("/")
            url = os.environ.get("DATABASE_URL") or None
            staff = ((options.staff_user, options.staff_password or options.password)
                     if options.staff_user else None)
            result.facts["target"] = f"{base} (remote: nothing created here)"
        else:
            server_url = db.resolve_database_url(get_settings())
            if options.setup:
                url = create_database(server_url, "stockline_load")
                created = True
                result.facts["database"] = db.database_name(url)
                say(f"created database {db.database_name(url)}")
                result.facts["data"] = seed(url, options, options.users)
                staff = (STAFF_USERNAME, options.password)
            else:
                url = server_url
                staff = ((options.staff_user, options.staff_password or options.password)
                         if options.staff_user else None)
            result.facts["postgresql"] = _server_version(url)
            say(f"starting stockline serve --workers {options.workers} ...")
            settings = {"STOCKLINE_ENV": "production", "BENCH_ENDPOINTS": "1"}
            if options.pool_max:
                settings["DB_POOL_MAX"] = str(options.pool_max)
            server, base = start_server(url, options.workers, out / "server.log", settings)
            result.facts |= {"server_pid": server.pid, "port": int(base.rsplit(":", 1)[1])}
            result.facts["target"] = f"stockline serve --workers {options.workers} on {base}"
        before = stock_snapshot(url) if url else None
        run_phases(result, base, url, staff)
        if server is not None:
            say("stopping the server ...")
            stop_server(server)
            log = (out / "server.log").read_text(errors="replace")
            result.facts["server_log_tracebacks"] = log.count("Traceback")
        if url and before is not None:
            result.facts["accounting"] = account(url, before)
            if result.facts.get("order_capacity_since") is not None:
                result.facts["accounting"]["order_capacity"] = capacity_orders(
                    url, result.facts.pop("order_capacity_since"), result.phases["order_capacity"])
        if url:
            say("running stockline check ...")
            result.facts["check"] = run_check(url, out)
        else:
            result.notes.append("stockline check not run: no DATABASE_URL for the remote deployment")
        if url and created and options.baselines:
            run_pgbench(result, url)
        elif options.baselines:
            result.notes.append("pgbench baselines not run: they need a database this run created")
    except KeyboardInterrupt:
        say("interrupted; cleaning up")
        return 2
    except RuntimeError as exc:  # what was measured so far is still reported
        say(f"error: {exc}")
        failed = str(exc).splitlines()[0]
        result.notes.append(f"the run stopped early: {failed}")
    finally:
        if server is not None:
            stop_server(server)
        if created and url and not options.keep_db:
            drop_database(url)
            say(f"dropped database {db.database_name(url)}")
        elif created and url:
            say(f"kept database: DATABASE_URL={url}")
    result.facts["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    if failed and not result.phases:
        return 2
    summary = write_report(result)
    print((out / "summary.md").read_text())
    say(f"report: {out / 'summary.md'} (and summary.json, mix.html)")
    if failed:
        return 2
    return 0 if summary["hard_goals_met"] else 1


def capacity_client(options: LoadOptions) -> str | None:
    """The capacity phases' load generator: "wrk" or "Locust"; None when wrk was asked for
    and cannot be run."""
    if options.capacity_client == "locust":
        return "Locust"
    if wrk.wrk_executable() is not None:
        return "wrk"
    return None if options.capacity_client == "wrk" else "Locust"


def run_pgbench(result: Run, url: str) -> None:
    options = result.options
    clients = options.pgbench_clients or options.workers * (options.pool_max or get_settings().db_pool_max)
    with tempfile.TemporaryDirectory(prefix="stockline_load_pgbench_") as tmp:
        workdir = Path(tmp)
        for name, label, measure in (
                ("pgbench_select_only", "select-only: -S", pgbench_select_only),
                ("pgbench_place_order", "place-order: 3-line orders,", pgbench_place_order)):
            say(f"pgbench {label} -c {clients} -j 2, {options.baseline_duration_s} s ...")
            try:
                result.baselines[name] = measure(url, clients, options.baseline_duration_s, workdir)
            except RuntimeError as exc:  # the report is still written, without this baseline
                say(f"error: {exc}")
                result.notes.append(f"{name} failed: {str(exc).splitlines()[0]}")


def _locust_version() -> str:
    try:
        from importlib.metadata import version

        return version("locust")
    except Exception:
        return "not installed"
