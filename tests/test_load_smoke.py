"""The load suite end to end, small: `stockline bench load` with 20 users for 15 s on small
data creates its database, seeds it, serves it, runs the mix on Locust and the two capacity
phases on wrk (Locust where wrk is missing), `stockline check` and the pgbench baselines,
writes a report that parses, and leaves no server or database behind. The assertions are
on correctness and accounting, never on timing. (The 500-user run is a benchmark, not a
test: bench/README.md.)"""

from __future__ import annotations

import csv
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from stockline import db

pytestmark = pytest.mark.slow

HAVE_WRK = shutil.which(os.environ.get("LOAD_WRK") or "wrk") is not None
needs_wrk = pytest.mark.skipif(not HAVE_WRK, reason="wrk is not installed (apt-get install wrk; .ci/run does)")
STOCKLINE = str(Path(sys.executable).with_name("stockline"))
SMALL_DATA = {"SCALE_CUSTOMERS": "25", "SCALE_PRODUCTS": "30", "SCALE_SKUS": "120", "SCALE_BATCHES": "400",
              "SCALE_PRICING_RULES": "10", "SCALE_SEED": "11"}


@pytest.fixture(scope="module")
def smoke_run(server_url, tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    out = tmp_path_factory.mktemp("load") / "results"
    env = os.environ | SMALL_DATA | {"DATABASE_URL": server_url}
    env.pop("STOCKLINE_ENV", None)
    done = subprocess.run(
        [STOCKLINE, "bench", "load", "--users", "20", "--duration", "15s",
         "--spawn-rate", "20", "--think-time", "0.2-1", "--capacity-users", "8", "--baseline-duration", "2s",
         "--out", str(out)],
        env=env, capture_output=True, text=True, timeout=300)
    return done, out


def test_a_short_run_goes_from_nothing_to_a_report(smoke_run):
    done, out = smoke_run
    assert done.returncode == 0, done.stderr[-4000:] + done.stdout[-2000:]
    capacity_files = (("bare.wrk.log", "bare_wrk.json", "bare_outcomes.json", "capacity.wrk.log",
                       "capacity_wrk.json", "capacity_outcomes.json", "capacity_failures.csv") if HAVE_WRK
                      else ("bare.html", "capacity.html"))
    for name in ("summary.md", "summary.json", "mix.html", "mix_stats.csv", "mix_stats_history.csv",
                 "mix_failures.csv", "check.json", "server.log", *capacity_files):
        assert (out / name).stat().st_size > 0, name
    assert not (out / "capacity_tokens.txt").exists()  # bearer tokens are not left in the results
    with open(out / "mix_stats.csv", newline="") as handle:
        names = {row["Name"] for row in csv.DictReader(handle)}
    assert {"GET /api/products", "POST /api/login", "Aggregated"} <= names
    assert "<html" in (out / "mix.html").read_text()[:2000].lower()
    assert "# Stockline load run" in (out / "summary.md").read_text()
    assert "# Stockline load run" in done.stdout  # the report is printed as well
    for step in ("seeding", "customer logins", "phase 1/3", "phase 2/3", "phase 3/3", "stockline check",
                 "pgbench select-only", "pgbench place-order", "dropped database",
                 "(wrk) ..." if HAVE_WRK else "wrk is not installed"):
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


# What each request of the order flow may answer; anything else is a failure of the run.
ORDER_FLOW_STATUSES = {"POST /api/login": {"200"}, "DELETE /api/cart": {"200", "204"},
                       "POST /api/cart": {"200"}, "POST /api/cart [409 insufficient_stock]": {"409"},
                       "POST /api/checkout": {"201"}, "POST /api/checkout [409 insufficient_stock]": {"409"},
                       "POST /api/checkout [200 sent again, same key]": {"200"},
                       "POST /api/cart [no response, sent again]": {"0"},
                       "POST /api/checkout [no response, sent again]": {"0"},
                       "DELETE /api/cart [no response, sent again]": {"0"}}


@needs_wrk
def test_the_capacity_phases_run_on_wrk_and_account_for_every_order(smoke_run):
    _, out = smoke_run
    summary = json.loads((out / "summary.json").read_text())
    assert summary["facts"]["capacity_client"] == "wrk" and summary["facts"]["wrk"].startswith("wrk")
    for name in ("bare_capacity", "order_capacity"):
        cpu = summary["phases"][name]["cpu"]
        assert cpu["client"] == "wrk", name
        assert cpu["client_cores"] >= 0 and cpu["server_cores"] > 0, name
        assert 0 <= cpu["client_share_of_busy"] <= 1, name
    bare = summary["outcomes"]["bare_capacity"]
    assert set(bare["statuses"]) == {"GET /bench/bare"} and set(bare["statuses"]["GET /bench/bare"]) == {"200"}
    assert bare["failures"] == {}
    assert summary["phases"]["bare_capacity"]["stats"]["GET /bench/bare"]["p95_ms"] > 0

    orders = summary["outcomes"]["order_capacity"]
    for name, statuses in orders["statuses"].items():
        assert set(statuses) <= ORDER_FLOW_STATUSES.get(name, set()), (name, statuses, orders["reasons"])
    assert orders["failures"] == {} and orders["reasons"] == {}
    assert orders["statuses"]["POST /api/login"]["200"] == 8  # one signed-in customer per connection
    answered = orders["statuses"]["POST /api/checkout"]["201"]
    assert answered > 0 and orders["statuses"]["POST /api/cart"]["200"] >= answered
    stats = summary["phases"]["order_capacity"]["stats"]
    assert stats["POST /api/checkout"]["requests"] == answered and stats["POST /api/checkout"]["p95_ms"] > 0
    capacity_orders = summary["facts"]["accounting"]["order_capacity"]
    assert capacity_orders["match"] is True, capacity_orders
    assert capacity_orders["answered_201"] == answered
    assert answered <= capacity_orders["in_database"] <= answered + 8
    figures = {row["figure"]: row for row in summary["comparisons"]}
    assert figures["order capacity (cart + checkout flat out)"]["stockline"] == stats["POST /api/checkout"][
        "requests_per_s"]
    report = (out / "summary.md").read_text()
    assert "| bare capacity | wrk |" in report and "| order capacity | wrk |" in report
    assert "order capacity >= 0.30 x pgbench place-order TPS" in report


def test_asking_for_wrk_where_it_is_missing_says_so_and_creates_nothing(tmp_path):
    out = tmp_path / "results"
    done = subprocess.run([STOCKLINE, "bench", "load", "--users", "2", "--capacity-client", "wrk", "--out", str(out)],
                          env=os.environ | {"LOAD_WRK": str(tmp_path / "no-wrk-here")}, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    assert "wrk is not installed (apt-get install wrk" in done.stderr
    assert not out.exists()


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
