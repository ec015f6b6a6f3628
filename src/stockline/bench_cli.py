"""`stockline bench load`: the command line of the load suite, which stays in the checkout.

The suite (bench/load/, with bench/locustfile.py and the helpers the other benchmarks share)
is a tool for developers of Stockline, not part of the app: it writes its reports into
bench/results/, records the checkout's commit, and drives Locust, wrk and pgbench. Shipping it
in the package would put all that into every installation; so it stays in the checkout, and
the package never imports it. This module parses and checks the options (so `--help` works
anywhere), then runs the checkout's bench/load as a program of its own with this Python,
handing it the options as JSON in the environment variable STOCKLINE_BENCH_LOAD_OPTIONS,
which bench/load/__main__.py reads (not as arguments: they hold passwords, and any user of
the machine can read a process's arguments). An installation that is not a checkout says so
in one line. The suite needs Locust: `pip install -e '.[load]'` (the `dev` extra has it too).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from stockline.cli_args import add_command, whole_number

SUITE = Path(__file__).resolve().parents[2] / "bench" / "load"  # src/stockline/ -> the checkout's bench/load/
OPTIONS_VARIABLE = "STOCKLINE_BENCH_LOAD_OPTIONS"
_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?")


def duration(raw: str) -> int:
    """An argparse type: '90', '90s', '5m', '1h30m' -> seconds (at least 1)."""
    match = _DURATION.fullmatch(raw.strip())
    if not raw.strip() or match is None:
        raise argparse.ArgumentTypeError(f"expected a duration like 90s, 5m or 1h30m, got {raw!r}")
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    total = 3600 * hours + 60 * minutes + seconds
    if total < 1:
        raise argparse.ArgumentTypeError("a duration must be at least 1 second")
    return total


def think_time(raw: str) -> str:
    """An argparse type: 'MIN-MAX' seconds (or one number), MIN <= MAX."""
    low, _, high = raw.partition("-")
    try:
        low_s, high_s = float(low), float(high or low)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds as MIN-MAX, e.g. 1-5, got {raw!r}") from None
    if not 0 <= low_s <= high_s:
        raise argparse.ArgumentTypeError(f"expected 0 <= MIN <= MAX, got {raw!r}")
    return f"{low_s:g}-{high_s:g}"


def share(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a fraction between 0 and 0.5, got {raw!r}") from None
    if not 0 <= value <= 0.5:
        raise argparse.ArgumentTypeError(f"expected a fraction between 0 and 0.5, got {raw!r}")
    return value


def load_options(args: argparse.Namespace) -> dict[str, Any]:
    """The suite's LoadOptions (bench/load/run.py) for the parsed command line, as JSON values."""
    return {
        "users": args.users, "duration_s": args.duration, "spawn_rate": args.spawn_rate,
        "workers": args.workers, "pool_max": args.pool_max, "host": args.host,
        "setup": not args.no_setup and not args.host, "customers": args.customers, "password": args.password,
        "staff_user": args.staff_user, "staff_password": args.staff_password, "staff_share": args.staff_share,
        "think_time": args.think_time, "staff_think_time": args.staff_think_time, "weights": args.weights,
        "staff_weights": args.staff_weights, "capacity_users": args.capacity_users,
        "capacity_client": args.capacity_client, "baseline_duration_s": args.baseline_duration,
        "pgbench_clients": args.pgbench_clients, "baselines": not args.no_baselines,
        "capacity": not args.no_capacity and not args.no_setup and not args.host,
        "out_dir": None if args.out is None else str(args.out), "keep_db": args.keep_db}


def cmd_bench_load(args: argparse.Namespace) -> int:
    if not (SUITE / "__main__.py").is_file():
        print("error: `stockline bench load` runs the load suite in bench/load/ of a Stockline source "
              "checkout, and this installation is not one: run it from a checkout", file=sys.stderr)
        return 2
    if find_spec("locust") is None:
        print("error: the load suite needs Locust: .venv/bin/pip install -e '.[load]'", file=sys.stderr)
        return 2
    if args.users < 2 and not args.host:
        print("error: --users must be at least 2 (customers and one staff user)", file=sys.stderr)
        return 2
    env = os.environ | {OPTIONS_VARIABLE: json.dumps(load_options(args))}
    suite = subprocess.Popen([sys.executable, str(SUITE)], env=env)  # noqa: S603 (this Python, the checkout's suite)
    while suite.returncode is None:
        # Ctrl-C reaches the suite too, which stops its server and drops its database before
        # it ends: wait for that rather than leave them behind
        with contextlib.suppress(KeyboardInterrupt):
            suite.wait()
    return suite.returncode


def register(commands) -> None:
    bench = commands.add_parser("bench", help="Benchmarks: the load suite (`stockline bench load`)",
                                description="Benchmarks that report ratios against baselines "
                                            "measured in the same run.")

    def usage(_args: argparse.Namespace) -> int:
        bench.print_help(sys.stderr)
        return 2

    bench.set_defaults(handler=usage)
    sub = bench.add_subparsers(title="bench commands", metavar="BENCH_COMMAND")
    load = add_command(
        sub, "load",
        cmd_bench_load,
        "Load and concurrency suite: a fresh seeded database, stockline serve, Locust with 500 "
        "customers (and a few staff), stockline check, pgbench baselines; report in "
        "bench/results/<timestamp>/ (summary.md, summary.json, Locust's HTML and CSV)",
        "stockline bench load --users 500 --duration 5m --workers 2\n"
        "  stockline bench load --host https://stockline.example --users 500 --duration 5m --no-setup")
    load.add_argument("--users", type=whole_number(1), default=500,
                      help="virtual users in the mix: customers and a few staff (default 500)")
    load.add_argument("--duration", type=duration, default=180,
                      help="length of the mix, e.g. 90s, 5m (default 3m)")
    load.add_argument("--spawn-rate", type=float, default=50.0, help="users started per second (default 50)")
    load.add_argument("--workers", type=whole_number(1), default=2, help="server processes (default 2)")
    load.add_argument("--pool-max", type=whole_number(1), help="DB_POOL_MAX per server process")
    load.add_argument("--host", help="run against this deployment (https://...), not a local server")
    load.add_argument("--no-setup", action="store_true",
                      help="create and seed nothing: use the existing database and logins")
    load.add_argument("--customers", help="with --no-setup: customer ids with logins, e.g. 1-500 "
                                          "(default 1-USERS)")
    load.add_argument("--password", default=os.environ.get("LOAD_PASSWORD", "Customer@123"),
                      help="the customers' password (default LOAD_PASSWORD or Customer@123)")
    load.add_argument("--staff-user", default=os.environ.get("LOAD_STAFF_USER"),
                      help="with --no-setup: a staff login for the staff users (default LOAD_STAFF_USER)")
    load.add_argument("--staff-password", default=os.environ.get("LOAD_STAFF_PASSWORD"),
                      help="its password (default LOAD_STAFF_PASSWORD, else --password)")
    load.add_argument("--staff-share", type=share, default=0.02,
                      help="share of the users who are staff (default 0.02)")
    load.add_argument("--think-time", type=think_time, default=os.environ.get("LOAD_THINK_TIME", "1-5"),
                      help="seconds between a customer's actions, MIN-MAX (default 1-5)")
    load.add_argument("--staff-think-time", type=think_time,
                      default=os.environ.get("LOAD_STAFF_THINK_TIME", "2-8"),
                      help="the same for staff (default 2-8)")
    load.add_argument("--weights", default=os.environ.get("LOAD_WEIGHTS", ""),
                      help="customer task weights, e.g. catalog=50,product=15,cart=14,checkout=3,orders=8,"
                           "cancel=1 (default those)")
    load.add_argument("--staff-weights", default=os.environ.get("LOAD_STAFF_WEIGHTS", ""),
                      help="staff task weights, e.g. dashboard=3,low_stock_inventory=2,low_stock_report=1,"
                           "expiring_report=1,orders=2")
    load.add_argument("--capacity-users", type=whole_number(1), default=32,
                      help="concurrent users of the capacity phases (default 32)")
    load.add_argument("--capacity-client", choices=("auto", "wrk", "locust"), default="auto",
                      help="load generator of the two capacity phases: wrk (a C client, so the server "
                           "is measured, not the client), locust, or auto: wrk where installed, else "
                           "Locust with a note (default auto)")
    load.add_argument("--baseline-duration", type=duration, default=20,
                      help="length of each capacity phase and pgbench run (default 20s)")
    load.add_argument("--pgbench-clients", type=whole_number(1),
                      help="pgbench clients (default: workers x DB_POOL_MAX, the app's connections)")
    load.add_argument("--no-baselines", action="store_true", help="skip the bare endpoint and pgbench")
    load.add_argument("--no-capacity", action="store_true",
                      help="skip the order-capacity phase (skipped anyway with --no-setup or --host)")
    load.add_argument("--out", type=Path, help="results folder (default bench/results/<timestamp>)")
    load.add_argument("--keep-db", action="store_true", help="keep the database the run created")

