"""The load suite end to end, small: `stockline bench load` with 20 users for 15 s on small
data creates its database, seeds it, serves it, runs every Locust phase, `stockline check`
and the pgbench baselines, writes a report that parses, and leaves no server or database
behind. (The 500-user run is a benchmark, not a test: bench/README.md.)"""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from stockline import db

pytestmark = pytest.mark.slow

SMALL_DATA = {"SCALE_CUSTOMERS": "25", "SCALE_PRODUCTS": "30", "SCALE_SKUS": "120", "SCALE_BATCHES": "400",
              "SCALE_PRICING_RULES": "10", "SCALE_SEED": "11"}


@pytest.fixture(scope="module")
def smoke_run(server_url, tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    out = tmp_path_factory.mktemp("load") / "results"
    env = os.environ | SMALL_DATA | {"DATABASE_URL": server_url}
    env.pop("STOCKLINE_ENV", None)
    done = subprocess.run(
        [str(Path(sys.executable).with_name("stockline")), "bench", "load", "--users", "20", "--duration", "15s",
         "--spawn-rate", "20", "--think-time", "0.2-1", "--capacity-users", "8", "--baseline-duration", "2s",
         "--out", str(out)],
        env=env, capture_output=True, text=True, timeout=300)
    return done, out


def test_a_short_run_goes_from_nothing_to_a_report(smoke_run):
    done, out = smoke_run
    assert done.returncode == 0, done.stderr[-4000:] + done.stdout[-2000:]
    for name in ("summary.md", "summary.json", "mix.html", "bare.html", "capacity.html", "mix_stats.csv",
                 "mix_stats_history.csv", "mix_failures.csv", "check.json", "server.log"):
        assert (out / name).stat().st_size > 0, name
    with open(out / "mix_stats.csv", newline="") as handle:
        names = {row["Name"] for row in csv.DictReader(handle)}
    assert {"GET /api/products", "POST /api/login", "Aggregated"} <= names
    assert "<html" in (out / "mix.html").read_text()[:2000].lower()
    assert "# Stockline load run" in (out / "summary.md").read_text()
    assert "# Stockline load run" in done.stdout  # the report is printed as well
    for step in ("seeding", "customer logins", "phase 1/3", "phase 2/3", "phase 3/3", "stockline check",
                 "pgbench select-only", "pgbench place-order", "dropped database"):
        assert step in done.stderr, step  # progress lines


def test_the_report_holds_every_figure_beside_its_baseline(smoke_run):
    _, out = smoke_run
    summary = json.loads((out / "summary.json").read_text())
    assert summary["hard_goals_met"] is True
    assert summary["responses"]["5xx"] == 0 and summary["responses"]["responses"] > 100
    assert summary["facts"]["check"]["ok"] is True
    accounting = summary["facts"]["accounting"]
    assert accounting["orders"] > 0 and accounting["units_match"] is True
    assert accounting["units_sold"] == accounting["stock_consumed"] > 0
    endpoints = {row["endpoint"]: row for row in summary["endpoints"]}
    assert endpoints["GET /api/products"]["p95_ms"] > 0
    assert endpoints["POST /api/checkout"]["requests"] > 0
    assert endpoints["GET /bench/bare (baseline probe)"]["baseline"] is True
    figures = {row["figure"]: row for row in summary["comparisons"]}
    for figure in ("catalog p95 under the mix", "checkout p95 under the mix",
                   "order capacity (cart + checkout flat out)", "bare endpoint flat out"):
        assert figures[figure]["stockline"] is not None, figure
        assert figures[figure]["baseline_value"] is not None, figure
        assert figures[figure]["ratio"] is not None, figure
    assert summary["baselines"]["pgbench_place_order"]["failed_transactions"] == 0
    assert summary["baselines"]["pgbench_place_order"]["tps"] > 0
    assert summary["baselines"]["pgbench_select_only"]["tps"] > 0
    goals = {goal["goal"]: goal["met"] for goal in summary["goals"]}
    assert goals["zero 5xx responses"] is True
    assert "password" not in summary["options"]


def test_the_run_leaves_no_server_or_database_behind(smoke_run, server_url):
    _, out = smoke_run
    facts = json.loads((out / "summary.json").read_text())["facts"]
    with psycopg.connect(db.with_database(server_url, "postgres"), autocommit=True) as conn:
        left = conn.execute("SELECT datname FROM pg_database WHERE datname = %s",
                            (facts["database"],)).fetchall()
    assert left == []
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", facts["port"])) != 0  # nothing listens any more
    with pytest.raises(ProcessLookupError):  # neither uvicorn nor any of its workers
        os.killpg(facts["server_pid"], 0)
