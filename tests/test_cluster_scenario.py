"""`stockline cluster test`: the verdict's rules on crafted request logs (no cluster needed),
and the whole command once on the real topology (slow; skipped in one line without the
Debian packages or Locust)."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from importlib.util import find_spec
from pathlib import Path

import pytest

from stockline.cli import main
from stockline.cluster import components
from stockline.cluster.scenario import FAULTS, parse_reads, read_share
from stockline.cluster.topology import STATE_FILE, stop_recorded
from stockline.cluster.verdict import judge, read_request_log, render

T0 = 1_800_000_000.0  # the first request of a crafted run
FAULT_NAMES = [name for name, _ in FAULTS]
HOLDS = {"ok": True, "checked": 24, "broken": []}


def _request(at: float, status: int = 200, name: str = "GET /api/products", took: float = 0.05,
             **extra) -> dict:
    return {"start": T0 + at, "end": T0 + at + took, "method": name.split()[0], "name": name,
            "status": status, "read": extra.pop("read", None), "key": extra.pop("key", None),
            "order_id": extra.pop("order_id", None), **extra}


def _windows() -> list[dict]:
    return [{"name": "node_kill", "start": T0 + 4.5, "end": T0 + 6.0, "what": ["node1 killed"]},
            {"name": "pgbouncer_restart", "start": T0 + 13.5, "end": T0 + 14.8},
            {"name": "replica_lag", "start": T0 + 21.0, "end": T0 + 28.2}]


def _steady(seconds: int = 30) -> list[dict]:
    return [_request(at / 4, read="replica" if at % 3 else "primary") for at in range(seconds * 4)]


def _judge(requests, windows=None, orders=None, invariants=HOLDS):
    return judge(requests, _windows() if windows is None else windows, orders or {}, invariants,
                 faults_expected=FAULT_NAMES)


def test_5xx_inside_the_fault_windows_pass_and_one_outside_fails() -> None:
    requests = [*_steady(), _request(4.6, 502, "POST /api/cart"), _request(13.6, 503),
                _request(4.4, 502, took=0.3)]  # sent before the kill, cut by it: inside
    summary = _judge(requests)
    assert summary["passed"], summary["reasons"]
    assert summary["errors_5xx"]["total"] == 3 and summary["errors_5xx"]["outside_windows"] == 0
    assert [window["errors_5xx_inside"] for window in summary["fault_windows"]] == [2, 1, 0]
    assert summary["errors_5xx"]["by_second"] == {"4": 2, "13": 1}
    assert summary["requests"]["total"] == 123 and len(summary["requests"]["by_second"]) == 30
    assert sum(summary["requests"]["by_second"]) == 123

    late = _judge([*requests, _request(10.0, 500, "GET /api/my-orders")])
    assert not late["passed"]
    assert late["errors_5xx"]["outside_windows"] == 1
    assert late["errors_5xx"]["outside"][0] == {"at_s": 10.0, "took_s": 0.05, "status": 500,
                                                "name": "GET /api/my-orders", "window": None}
    assert late["reasons"] == ["1 5xx/no answer outside the fault windows (first: 500 on "
                               "GET /api/my-orders at 10.0 s)"]
    assert render(_rendered(late)).splitlines()[-1].startswith("FAILED: 1 5xx/no answer outside")
    # just after a window's end (its grace included) is outside too
    assert not _judge([*_steady(), _request(6.01, 502)])["passed"]


def test_no_answer_counts_as_an_error_unless_the_client_sent_it_again() -> None:
    resent = _request(10.0, 0, "GET /api/products [connection closed while idle, sent again]")
    summary = _judge([*_steady(), resent])
    assert summary["passed"] and summary["errors_5xx"]["resent_after_a_closed_connection"] == 1
    assert summary["requests"]["by_status"]["0"] == 1
    assert not _judge([*_steady(), _request(10.0, 0)])["passed"]


def test_orders_placed_must_be_found_and_unseen_ones_explained_by_a_fault() -> None:
    requests = [
        *_steady(),
        _request(2.0, 201, "POST /api/checkout", key="load-a", order_id=11),
        _request(2.5, 200, "POST /api/checkout [retry, same key]", key="load-a", order_id=11),
        _request(5.0, 200, "POST /api/checkout", key="load-b", order_id=12),  # replayed by HAProxy's retry
        _request(5.2, 502, "POST /api/checkout", key="load-c"),  # committed, answer lost to the kill
    ]
    orders = {11: "load-a", 12: "load-b", 13: "load-c"}
    summary = _judge(requests, orders=orders)
    assert summary["passed"], summary["reasons"]
    assert {key: summary["orders"][key] for key in ("placed", "found", "lost", "in_database",
                                                    "answers_lost_to_faults", "unaccounted")} == {
        "placed": 2, "found": 2, "lost": 0, "in_database": 3, "answers_lost_to_faults": 1, "unaccounted": 0}

    lost = _judge(requests, orders={12: "load-b", 13: "load-c"})
    assert not lost["passed"] and lost["orders"]["lost_ids"] == [11]
    assert "1 order(s) answered 201 are not in the database (ids [11])" in lost["reasons"]

    stray = _judge(requests, orders=orders | {14: "load-d"})  # nobody saw it, no fault explains it
    assert not stray["passed"] and stray["orders"]["unaccounted_ids"] == [14]

    # a checkout whose answer was lost outside every window is an error there, not an excuse
    outside = _judge([*requests, _request(10.0, 502, "POST /api/checkout", key="load-e")],
                     orders=orders | {15: "load-e"})
    assert not outside["passed"] and outside["orders"]["unaccounted"] == 1


def test_a_fault_not_injected_or_never_healed_and_broken_invariants_fail() -> None:
    windows = _windows()
    assert "fault replica_lag was not injected" in _judge(_steady(), windows=windows[:2])["reasons"]
    never = [*windows[:2], windows[2] | {"end": None}]
    summary = _judge([*_steady(), _request(29.0, 503)], windows=never)
    assert summary["reasons"] == ["fault replica_lag: the system did not become healthy again"]
    assert summary["errors_5xx"]["outside_windows"] == 0  # a window without an end lasts to the end
    failed = [windows[0] | {"error": "haproxy marking node1 DOWN did not happen within 30 s"}, *windows[1:]]
    assert _judge(_steady(), windows=failed)["reasons"] == [
        "fault node_kill: haproxy marking node1 DOWN did not happen within 30 s"]
    broken = _judge(_steady(), invariants={"ok": False, "checked": 24, "broken": ["stock_matches_ledger"]})
    assert broken["reasons"] == ["invariants broken: stock_matches_ledger"]
    assert _judge([])["reasons"] == ["the load suite recorded no request"]


def test_the_replica_share_from_headers_and_from_metrics() -> None:
    summary = _judge(_steady(10))
    assert summary["replica_reads_by_header"] == {"requests": {"primary": 14, "replica": 26}, "routed": 40,
                                                  "replica_share": 0.65}
    metrics = ('# HELP stockline_db_reads_total Reads\n# TYPE stockline_db_reads_total counter\n'
               'stockline_db_reads_total{reason="ok",served_by="replica"} 90.0\n'
               'stockline_db_reads_total{reason="own_write",served_by="primary"} 6.0\n'
               'stockline_db_reads_created{reason="ok",served_by="replica"} 1.7e+09\n'
               'stockline_db_read_pool_size 4.0\n')
    after = parse_reads(metrics)
    assert after == Counter({("replica", "ok"): 90, ("primary", "own_write"): 6})
    share = read_share(Counter({("replica", "ok"): 10}), after, approximate=False)
    assert share["total"] == 86 and share["replica"] == 80 and share["replica_share"] == 0.93
    assert share["by_reason"] == {"primary/own_write": 6, "replica/ok": 80}


def test_the_request_log_skips_a_torn_last_line(tmp_path: Path) -> None:
    log = tmp_path / "requests.jsonl"
    log.write_text(json.dumps(_request(1.0)) + "\n" + '{"start": 18000')
    assert len(read_request_log(log)) == 1
    assert read_request_log(tmp_path / "absent.jsonl") == []


def test_too_short_a_duration_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cluster", "test", "--duration", "10s"]) == 2
    assert "--duration must be at least 15s" in capsys.readouterr().err


def _rendered(summary: dict) -> dict:
    return {"nodes": 2, "users": 40, "duration_s": 30, "grace_s": 1.0, "replica_reads": None} | summary


# --- the whole command on the real topology ------------------------------------------------------

_REASON = components.unavailable_reason() or (None if find_spec("locust") else "Locust is not installed")


@pytest.mark.slow
@pytest.mark.skipif(_REASON is not None, reason=f"cluster test: {_REASON}")
def test_cluster_test_passes_with_every_fault_injected(tmp_path: Path) -> None:
    # under /tmp: the unprivileged server user must reach it (pytest's tmp_path is root's, 0700)
    folder = Path(tempfile.mkdtemp(prefix="stockline-cluster-scenario-", dir="/tmp"))
    report = tmp_path / "summary.json"
    command = [sys.executable, "-m", "stockline.cli", "cluster", "test", "--nodes", "2", "--duration", "20s",
               "--json", str(report), "--dir", str(folder)]
    try:
        with subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) as run:
            try:
                stdout, stderr = run.communicate(timeout=300)
            except subprocess.TimeoutExpired:
                run.send_signal(signal.SIGINT)  # it stops the cluster and the load itself
                stdout, stderr = run.communicate(timeout=90)
                pytest.fail(f"stockline cluster test took more than 300 s:\n{stderr[-3000:]}")
        assert run.returncode == 0, f"{stdout[-3000:]}\n{stderr[-3000:]}"
        assert stdout.rstrip().endswith(f"the cluster's data, logs and the load suite's report stay in {folder}")
        assert "\nPASSED\n" in stdout
        summary = json.loads(report.read_text())
        assert summary["passed"] is True and summary["reasons"] == []
        assert (summary["nodes"], summary["duration_s"]) == (2, 20)
        assert summary["requests"]["total"] > 100 and summary["requests"]["per_second"] > 0
        assert summary["errors_5xx"]["outside_windows"] == 0
        assert summary["errors_5xx"]["total"] == summary["errors_5xx"]["inside_windows"]
        assert [window["name"] for window in summary["fault_windows"]] == FAULT_NAMES
        for window in summary["fault_windows"]:
            assert window["error"] is None and window["what"], window
            assert 0 <= window["start_s"] < window["end_s"], window
        kill, bouncer, lag = summary["fault_windows"]
        assert kill["details"]["marked_down_after_s"] > 0 and kill["details"]["back_up_after_s"] > 0
        assert bouncer["details"]["pgbouncer_back_after_s"] > 0
        assert lag["details"]["paused_s"] >= 3
        orders = summary["orders"]
        assert orders["placed"] > 0 and orders["placed"] == orders["found"]
        assert orders["lost"] == 0 and orders["unaccounted"] == 0
        assert summary["invariants"]["ok"] is True and summary["invariants"]["checked"] > 0
        reads = summary["replica_reads"]
        assert reads["total"] > 0 and 0 < reads["replica_share"] <= 1
        # everything stopped: no process of the cluster is left
        state = json.loads((folder / STATE_FILE).read_text())
        assert not [item for item in state["components"]
                    if item.get("pid") and components.alive(item["pid"], item.get("started"))]
    finally:
        if (folder / STATE_FILE).exists():
            stop_recorded(folder, bound=10)
        shutil.rmtree(folder, ignore_errors=True)
