"""The verdict of `stockline cluster test`, from what was recorded: pure functions, no cluster.

Inputs:
- the load suite's request log (bench/locustfile.py, LOAD_REQUEST_LOG): one dict per request
  with `start` and `end` (epoch seconds), `method`, `name`, `status` (0: no answer), `read`
  (the X-Stockline-Read header), `key` (the Idempotency-Key sent) and `order_id` (a
  checkout's 2xx answer);
- the fault windows: `{"name", "start", "end", "error"}` in epoch seconds; `end` is when the
  system was healthy again plus the grace, None when it never was;
- the orders the database holds that the run created: order id -> its Idempotency-Key;
- the invariants (`stockline check`): `{"ok", "checked", "broken"}`.

Rules:
- an *error* is an answer with status 5xx, or no answer at all (status 0), except a request
  the load suite sent again because the balancer had closed the kept-alive connection just
  as it went out (named "... [connection closed while idle, sent again]": no request was
  lost, the client resent it, as browsers do);
- an error is *inside* a window when the request's own interval [start, end] overlaps the
  window (a request sent before a node was killed and cut by it counts as inside);
- an order is *placed* when a checkout's answer (201, or 200 for a checkout sent again with
  its key) named it; *found* when the database holds it; *lost* when placed and not found;
- an order the database holds that no answer named is *an answer lost to a fault* when a
  checkout with its Idempotency-Key got an error inside a window; otherwise *unaccounted*;
- the run passes when every fault was injected and the system became healthy after it, no
  error fell outside the windows, no order was lost or unaccounted, and the invariants hold.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

RESENT_MARK = "[connection closed while idle, sent again]"
CHECKOUT = "POST /api/checkout"
SHOWN_ERRORS = 20  # errors listed one by one in the JSON (all are counted)


def read_request_log(path: Path) -> list[dict[str, Any]]:
    """The load suite's JSON Lines request log (a torn last line, from a run cut short, is
    skipped)."""
    requests = []
    if not path.exists():
        return requests
    with open(path) as handle:
        for line in handle:
            line = line.strip()
            if not line:
                continue
            try:
                requests.append(json.loads(line))
            except ValueError:
                continue
    return requests


def is_error(request: Mapping[str, Any]) -> bool:
    status = int(request.get("status") or 0)
    if RESENT_MARK in str(request.get("name", "")):
        return False
    return status >= 500 or status == 0


def overlapping(request: Mapping[str, Any], windows: Sequence[Mapping[str, Any]]) -> str | None:
    """The name of the first window the request's interval overlaps, else None."""
    start = float(request.get("start") or request.get("end") or 0)
    end = float(request.get("end") or start)
    for window in windows:
        window_end = window.get("end")
        if window_end is None:  # never healthy again: the window lasts to the end
            window_end = float("inf")
        if start <= window_end and end >= window["start"]:
            return window["name"]
    return None


def _relative(moment: float | None, origin: float) -> float | None:
    return None if moment is None else round(moment - origin, 2)


def request_figures(requests: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    by_status = Counter(str(int(request.get("status") or 0)) for request in requests)
    if requests:
        first = min(float(request["start"]) for request in requests)
        last = max(float(request["end"]) for request in requests)
        seconds = max(last - first, 1e-9)
    else:
        first = last = seconds = 0.0
    series = [0] * (int(seconds) + 1 if requests else 0)
    for request in requests:  # by the second each request started in, from the first
        series[min(len(series) - 1, int(float(request["start"]) - first))] += 1
    return {"total": len(requests), "by_status": dict(sorted(by_status.items())),
            "seconds": round(seconds, 1),
            "per_second": round(len(requests) / seconds, 1) if requests else 0.0,
            "by_second": series, "first_at": first, "last_at": last}


def error_figures(requests: Sequence[Mapping[str, Any]], windows: Sequence[Mapping[str, Any]],
                  origin: float) -> dict[str, Any]:
    inside: Counter[str] = Counter()
    by_second: Counter[int] = Counter()
    outside: list[dict[str, Any]] = []
    listed = []
    total = 0
    for request in requests:
        if not is_error(request):
            continue
        total += 1
        where = overlapping(request, windows)
        by_second[int(float(request["start"]) - origin)] += 1
        entry = {"at_s": _relative(float(request["start"]), origin), "took_s": round(
            float(request["end"]) - float(request["start"]), 3), "status": int(request.get("status") or 0),
            "name": request.get("name"), "window": where}
        if where is None:
            outside.append(entry)
        else:
            inside[where] += 1
        if len(listed) < SHOWN_ERRORS:
            listed.append(entry)
    resent = sum(1 for request in requests if RESENT_MARK in str(request.get("name", "")))
    return {"total": total, "inside_windows": sum(inside.values()), "outside_windows": len(outside),
            "resent_after_a_closed_connection": resent,
            "by_second": {str(second): count for second, count in sorted(by_second.items())},
            "by_window": dict(inside), "outside": outside[:SHOWN_ERRORS], "first": listed}


def order_figures(requests: Sequence[Mapping[str, Any]], db_orders: Mapping[int, str | None],
                  windows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    placed: set[int] = set()
    failed_keys: dict[str, str | None] = {}  # key -> the window of a checkout with it that got an error
    checkouts: Counter[str] = Counter()
    for request in requests:
        if not str(request.get("name", "")).startswith(CHECKOUT):
            continue
        status = int(request.get("status") or 0)
        checkouts[str(status)] += 1
        if request.get("order_id") is not None and 200 <= status < 300:
            placed.add(int(request["order_id"]))
        key = request.get("key")
        if key and is_error(request):
            window = overlapping(request, windows)
            if failed_keys.get(key) is None:
                failed_keys[key] = window
    in_db = set(db_orders)
    lost = sorted(placed - in_db)
    unseen = sorted(in_db - placed)
    to_faults = [order for order in unseen if failed_keys.get(db_orders[order] or "") is not None]
    unaccounted = [order for order in unseen if order not in set(to_faults)]
    return {"checkout_answers": dict(sorted(checkouts.items())), "placed": len(placed),
            "found": len(placed & in_db), "lost": len(lost), "lost_ids": lost[:SHOWN_ERRORS],
            "in_database": len(in_db), "answers_lost_to_faults": len(to_faults),
            "answers_lost_to_faults_ids": to_faults[:SHOWN_ERRORS], "unaccounted": len(unaccounted),
            "unaccounted_ids": unaccounted[:SHOWN_ERRORS]}


def read_share_from_headers(requests: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Requests whose reads were routed, by where they ran (the X-Stockline-Read header)."""
    served = Counter(str(request["read"]) for request in requests if request.get("read"))
    routed = sum(served.values())
    return {"requests": dict(sorted(served.items())), "routed": routed,
            "replica_share": round(served.get("replica", 0) / routed, 3) if routed else None}


def judge(requests: Sequence[Mapping[str, Any]], windows: Sequence[Mapping[str, Any]],
          db_orders: Mapping[int, str | None], invariants: Mapping[str, Any], *,
          faults_expected: Sequence[str] = ()) -> dict[str, Any]:
    """Every figure of the summary that comes from the records, and the verdict: `passed`
    and `reasons` (empty when passed)."""
    figures = request_figures(requests)
    origin = figures["first_at"] or (min((w["start"] for w in windows), default=0.0))
    errors = error_figures(requests, windows, origin)
    orders = order_figures(requests, db_orders, windows)
    reasons = []
    if not requests:
        reasons.append("the load suite recorded no request")
    names = [window["name"] for window in windows]
    for name in faults_expected:
        if name not in names:
            reasons.append(f"fault {name} was not injected")
    for window in windows:
        if window.get("error"):
            reasons.append(f"fault {window['name']}: {window['error']}")
        elif window.get("end") is None:
            reasons.append(f"fault {window['name']}: the system did not become healthy again")
    if errors["outside_windows"]:
        first = errors["outside"][0]
        reasons.append(f"{errors['outside_windows']} 5xx/no answer outside the fault windows (first: "
                       f"{first['status']} on {first['name']} at {first['at_s']} s)")
    if orders["lost"]:
        reasons.append(f"{orders['lost']} order(s) answered 201 are not in the database "
                       f"(ids {orders['lost_ids']})")
    if orders["unaccounted"]:
        reasons.append(f"{orders['unaccounted']} order(s) in the database no client saw answered and no "
                       f"fault explains (ids {orders['unaccounted_ids']})")
    if not invariants.get("ok"):
        broken = ", ".join(invariants.get("broken") or []) or invariants.get("error")
        reasons.append(f"invariants broken: {broken}")
    shown_windows = [{
        "name": window["name"], "start_s": _relative(window["start"], origin),
        "end_s": _relative(window.get("end"), origin),
        "seconds": None if window.get("end") is None else round(window["end"] - window["start"], 2),
        "errors_5xx_inside": errors["by_window"].get(window["name"], 0),
        "what": list(window.get("what", [])), "details": dict(window.get("details", {})),
        "error": window.get("error")} for window in windows]
    return {"requests": {key: value for key, value in figures.items() if key not in ("first_at", "last_at")},
            "origin": origin, "errors_5xx": errors, "fault_windows": shown_windows, "orders": orders,
            "replica_reads_by_header": read_share_from_headers(requests), "invariants": dict(invariants),
            "passed": not reasons, "reasons": reasons}


def render(summary: Mapping[str, Any]) -> str:
    """The human summary `stockline cluster test` prints."""
    requests, errors, orders = summary["requests"], summary["errors_5xx"], summary["orders"]
    lines = [f"stockline cluster test: {summary['nodes']} nodes, {summary['users']} users, "
             f"{summary['duration_s']} s of load through HAProxy",
             "",
             f"requests        {requests['total']:,} in {requests['seconds']} s "
             f"({requests['per_second']} req/s); by status: "
             + ", ".join(f"{status}: {count:,}" for status, count in requests["by_status"].items()),
             *([f"machine CPU     {busy:.0%} busy during the load ({cpus} cores; everything on this "
                "machine counts)"] if (busy := (summary.get("facts") or {}).get("machine_busy_during_load"))
               is not None and (cpus := summary["facts"].get("cpus")) else []),
             f"5xx / no answer {errors['total']} in all: {errors['inside_windows']} inside the fault "
             f"windows, {errors['outside_windows']} outside"
             + (f" ({errors['resent_after_a_closed_connection']} sent again by the client after the "
                "balancer closed a kept-alive connection: not lost, not counted)"
                if errors.get("resent_after_a_closed_connection") else ""),
             "", "fault windows (seconds from the first request; each ends when the system is healthy "
                 f"again plus {summary['grace_s']:g} s):"]
    for window in summary["fault_windows"]:
        end = "never healthy again" if window["end_s"] is None else f"{window['end_s']:>6} s"
        lines.append(f"  {window['name']:<18} {window['start_s']:>6} s .. {end}   "
                     f"5xx inside: {window['errors_5xx_inside']}")
        lines += [f"      {event}" for event in window["what"]]
        if window.get("error"):
            lines.append(f"      ERROR: {window['error']}")
    for error in errors["outside"]:
        lines.append(f"  outside a window: {error['status']} {error['name']} at {error['at_s']} s")
    reads = summary.get("replica_reads") or {}
    header = summary.get("replica_reads_by_header") or {}
    share = reads.get("replica_share")
    lines += ["",
              f"orders          placed {orders['placed']}, found {orders['found']}, lost {orders['lost']}; "
              f"in the database {orders['in_database']} (answers lost to faults: "
              f"{orders['answers_lost_to_faults']}, unaccounted: {orders['unaccounted']})",
              "replica reads   " + (
                  f"{share:.0%} of {reads.get('total', 0):,} routed reads on the replica (nodes' /metrics"
                  + ("; the killed node's reads between its last sample, taken just before the kill, "
                     "and the kill are missing)" if reads.get("approximate") else ")")
                  if share is not None else "no routed read counted (nodes' /metrics)")
              + (f"; {header['replica_share']:.0%} of {header['routed']:,} requests with routed reads "
                 "(X-Stockline-Read)" if header.get("replica_share") is not None else ""),
              "invariants      " + ("all hold" if summary["invariants"].get("ok") else
                                    "BROKEN: " + ", ".join(summary["invariants"].get("broken") or [])
                                    or str(summary["invariants"].get("error")))
              + (f" ({summary['invariants'].get('checked')} checked, stockline check on the primary)"
                 if summary["invariants"].get("checked") else ""),
              ""]
    lines.append("PASSED" if summary["passed"] else "FAILED: " + "; ".join(summary["reasons"]))
    return "\n".join(lines)
