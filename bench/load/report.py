"""summary.json and summary.md of a load run: every Stockline figure beside its baseline,
the goals met or missed, per-endpoint latencies, orders and stock."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .run import Run

ORDER_CAPACITY_GOAL = 0.30  # order capacity at least this share of pgbench place-order TPS
CATALOG = "GET /api/products"
CHECKOUT = "POST /api/checkout"
PROBE = "GET /bench/bare (baseline probe)"
BARE = "GET /bench/bare"


def _rows(phase: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """A phase's stats by request name (every name starts with its method)."""
    return phase["stats"] if phase else {}


def _ratio(value: float | None, baseline: float | None) -> float | None:
    if value is None or not baseline:
        return None
    return round(value / baseline, 3)


def _whole_run(outcomes: dict[str, Any], key: str) -> dict[str, int]:
    """Responses, 5xx, no response and failures of one request name over the whole phase."""
    statuses = outcomes.get("statuses", {}).get(key, {})
    return {"responses": sum(statuses.values()),
            "5xx": sum(count for status, count in statuses.items() if int(status) >= 500),
            "no_response": statuses.get("0", 0), "failures": outcomes.get("failures", {}).get(key, 0)}


def summarize(run: Run) -> dict[str, Any]:
    mix = run.phases.get("mix")
    rows = _rows(mix)
    capacity = _rows(run.phases.get("order_capacity"))
    bare = _rows(run.phases.get("bare_capacity")).get(BARE)
    probe = rows.get(PROBE)
    catalog, checkout = rows.get(CATALOG), rows.get(CHECKOUT)
    select_only = run.baselines.get("pgbench_select_only")
    place_order = run.baselines.get("pgbench_place_order")
    stockline_rows = {key: row for key, row in rows.items() if key != PROBE}
    mix_rps = round(sum(row["requests_per_s"] or 0 for row in stockline_rows.values()), 1) if rows else None
    order_capacity = capacity.get(CHECKOUT, {}).get("requests_per_s") if capacity else None
    capacity_checkout_p95 = capacity.get(CHECKOUT, {}).get("p95_ms") if capacity else None

    responses = {"responses": 0, "5xx": 0, "no_response": 0, "failures": 0}
    for phase in run.phases.values():
        for key in phase["outcomes"].get("statuses", {}):
            for name, count in _whole_run(phase["outcomes"], key).items():
                responses[name] += count
    failures = {name: phase["outcomes"].get("failures", {}) for name, phase in run.phases.items()}

    check = run.facts.get("check")
    accounting = run.facts.get("accounting")
    capacity_orders = (accounting or {}).get("order_capacity") or {}
    invariants_ok = None if check is None else (check["ok"] and (accounting or {}).get("units_match", True)
                                                and capacity_orders.get("match", True))
    capacity_ratio = _ratio(order_capacity, (place_order or {}).get("tps"))
    goals = [
        {"goal": "zero 5xx responses", "met": responses["5xx"] == 0,
         "detail": f"{responses['5xx']:,} of {responses['responses']:,} responses"},
        {"goal": "zero invariant violations (stockline check; units sold = stock consumed = ledger)",
         "met": invariants_ok,
         "detail": "not checked" if check is None else (
             f"{check.get('invariants', 0)} invariants hold" if check["ok"] else
             f"broken: {', '.join(check.get('broken') or ['check did not run'])}")
         + ("" if accounting is None else
            f"; units {'match' if accounting['units_match'] else 'DO NOT match'}")
         + ("" if not capacity_orders else
            f"; order-capacity orders {'match' if capacity_orders['match'] else 'DO NOT match'} "
            "the client's 201s")},
        {"goal": "catalog p95 and checkout p95 reported beside their baselines",
         "met": bool(catalog and checkout and (probe or place_order)),
         "detail": (f"catalog p95 {_ms(catalog and catalog['p95_ms'])} vs bare under the same load "
                    f"{_ms(probe and probe['p95_ms'])}; checkout p95 {_ms(checkout and checkout['p95_ms'])} "
                    f"vs pgbench place-order {_ms(place_order and place_order.get('p95_ms'))}")},
        {"goal": f"order capacity >= {ORDER_CAPACITY_GOAL:.2f} x pgbench place-order TPS",
         "met": None if capacity_ratio is None else capacity_ratio >= ORDER_CAPACITY_GOAL,
         "detail": "not measured" if capacity_ratio is None else
                   f"{order_capacity:,.1f} orders/s vs {place_order['tps']:,.1f} TPS = {capacity_ratio:.2f}"},
    ]
    comparisons = [
        {"figure": "requests/s, the whole mix", "stockline": mix_rps,
         "baseline": "bare endpoint flat out", "baseline_value": bare and bare["requests_per_s"],
         "ratio": _ratio(mix_rps, bare and bare["requests_per_s"]), "unit": "req/s"},
        {"figure": "catalog p95 under the mix", "stockline": catalog and catalog["p95_ms"],
         "baseline": "bare endpoint p95, same load (probe)", "baseline_value": probe and probe["p95_ms"],
         "ratio": _ratio(catalog and catalog["p95_ms"], probe and probe["p95_ms"]), "unit": "ms"},
        {"figure": "catalog p50 under the mix", "stockline": catalog and catalog["p50_ms"],
         "baseline": "bare endpoint p50, same load (probe)", "baseline_value": probe and probe["p50_ms"],
         "ratio": _ratio(catalog and catalog["p50_ms"], probe and probe["p50_ms"]), "unit": "ms"},
        {"figure": "checkout p95 under the mix", "stockline": checkout and checkout["p95_ms"],
         "baseline": "pgbench place-order p95", "baseline_value": place_order and place_order.get("p95_ms"),
         "ratio": _ratio(checkout and checkout["p95_ms"], place_order and place_order.get("p95_ms")),
         "unit": "ms"},
        {"figure": "checkout p95, order-capacity phase", "stockline": capacity_checkout_p95,
         "baseline": "pgbench place-order p95", "baseline_value": place_order and place_order.get("p95_ms"),
         "ratio": _ratio(capacity_checkout_p95, place_order and place_order.get("p95_ms")), "unit": "ms"},
        {"figure": "order capacity (cart + checkout flat out)", "stockline": order_capacity,
         "baseline": "pgbench place-order TPS", "baseline_value": place_order and place_order["tps"],
         "ratio": capacity_ratio, "unit": "orders/s"},
        {"figure": "orders/s in the mix (set by think time, not capacity)",
         "stockline": checkout and checkout["requests_per_s"],
         "baseline": "pgbench place-order TPS", "baseline_value": place_order and place_order["tps"],
         "ratio": _ratio(checkout and checkout["requests_per_s"], place_order and place_order["tps"]),
         "unit": "orders/s"},
        {"figure": "bare endpoint flat out", "stockline": bare and bare["requests_per_s"],
         "baseline": "pgbench select-only TPS", "baseline_value": select_only and select_only["tps"],
         "ratio": _ratio(bare and bare["requests_per_s"], select_only and select_only["tps"]),
         "unit": "req/s"},
    ]
    endpoints = []
    for key, row in sorted(rows.items(), key=lambda item: -item[1]["requests"]):
        whole = _whole_run(mix["outcomes"], key)
        endpoints.append({"endpoint": key, **row, "whole_run": whole,
                          "baseline": key == PROBE})
    hard_goals_met = responses["5xx"] == 0 and invariants_ok is not False
    return {"started_at": run.started_at, "options": _options(run), "facts": run.facts,
            "goals": goals, "hard_goals_met": hard_goals_met, "comparisons": comparisons,
            "endpoints": endpoints, "responses": responses, "failures": failures,
            "phases": {name: _phase(phase) for name, phase in run.phases.items()},
            "outcomes": {name: phase["outcomes"] for name, phase in run.phases.items()},
            "baselines": run.baselines, "notes": run.notes}


def _phase(phase: dict[str, Any]) -> dict[str, Any]:
    """A phase's settings and stats, with when its steady state started and how long it was."""
    windows = [row["window_s"] for row in phase["stats"].values()]
    return {key: value for key, value in phase.items() if key != "outcomes"} | {
        "all_signed_in_after_s": phase["outcomes"].get("all_signed_in_after_s"),
        "steady_state_s": windows[0] if windows else None}


def _options(run: Run) -> dict[str, Any]:
    options = {key: (str(value) if isinstance(value, Path) else value)
               for key, value in vars(run.options).items()}
    options.pop("password", None)
    options.pop("staff_password", None)
    return options


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} ms"


def _fine_ms(value: float | None) -> str:
    """Milliseconds with a decimal below 10 ms (wrk measures to the microsecond)."""
    if value is None:
        return "n/a"
    return f"{value:.1f} ms" if value < 10 else f"{value:,.0f} ms"


def _num(value: float | None, unit: str = "") -> str:
    if value is None:
        return "n/a"
    if unit == "ms":
        return f"{value:,.0f} ms"
    return f"{value:,.1f}" + (f" {unit}" if unit else "")


def _ratio_text(ratio: float | None) -> str:
    if ratio is None:
        return "n/a"
    return f"{ratio:.2f}" if ratio >= 0.1 else f"{ratio:.2g}"


def _percent(share: float | None) -> str:
    return "n/a" if share is None else f"{share:.0%}"


def _cores(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _mark(met: bool | None) -> str:
    return {True: "**met**", False: "**MISSED**", None: "not measured"}[met]


def render(summary: dict[str, Any]) -> str:
    facts, options = summary["facts"], summary["options"]
    mix = summary["phases"].get("mix", {})
    lines = [f"# Stockline load run, {summary['started_at']}", ""]
    lines += [f"- target: {facts.get('target', 'n/a')}",
              f"- machine: {facts['cpus']} CPUs; load average (1/5/15 min) before "
              f"{'/'.join(map(str, facts['load_average_before']))}, after "
              f"{'/'.join(map(str, facts.get('load_average_after', [])))}",
              f"- PostgreSQL {facts.get('postgresql', 'n/a')}; commit {facts['commit']}; "
              f"locust {facts['locust']}" + (f"; {facts['wrk']}" if facts.get("wrk") else "")]
    data = facts.get("data")
    if data:
        counts = data["counts"]
        lines.append(f"- data: {counts['customers']:,} customers ({counts['customer_users']:,} logins), "
                     f"{counts['products']:,} products, {counts['skus']:,} SKUs, "
                     f"{counts['batches']:,} batches, {data['plan']['pricing_rules']} pricing rules, "
                     f"seed {data['plan']['seed']}")
    if mix:
        signed_in = mix["all_signed_in_after_s"]
        lines.append(f"- the mix: {mix['customers']} customers + {mix['staff']} staff "
                     f"(+ {mix['probes']} bare probes), spawned at {options['spawn_rate']:g}/s, think time "
                     f"{options['think_time']} s (staff {options['staff_think_time']} s); "
                     + (f"every user had signed in after {signed_in:g} s" if signed_in is not None
                        else "NOT every user signed in")
                     + f", then {mix['steady_state_s'] or 0:g} s of steady state: latencies and rates are "
                       "from the steady state, counts of responses, failures and 5xx from the whole run")
    client = facts.get("capacity_client", "Locust")
    lines.append(f"- capacity phases on {client}: {options['capacity_users']} "
                 + ("connections (order capacity: one customer per connection and wrk thread)"
                    if client == "wrk" else "users")
                 + f" without think time, {options['baseline_duration_s']} s each; pgbench: "
                 f"{(summary['baselines'].get('pgbench_place_order') or {}).get('clients', 'n/a')} clients, "
                 f"{options['baseline_duration_s']} s")
    lines += ["", "## Goals", "", "| goal | result | figures |", "|---|---|---|"]
    lines += [f"| {goal['goal']} | {_mark(goal['met'])} | {goal['detail']} |" for goal in summary["goals"]]
    lines += ["", "## Stockline beside its baselines (same run, same machine)", "",
              "| figure | Stockline | baseline | baseline value | ratio |", "|---|---:|---|---:|---:|"]
    for row in summary["comparisons"]:
        unit = row["unit"]
        ratio = _ratio_text(row["ratio"])
        lines.append(f"| {row['figure']} | {_num(row['stockline'], unit)} | {row['baseline']} | "
                     f"{_num(row['baseline_value'], unit if unit == 'ms' else '')} | {ratio} |")
    lines += ["", "Ratios: for rates, Stockline / baseline (higher is better); for latencies, Stockline / "
              "baseline (lower is better).", "",
              "## Endpoints under the mix", "",
              "| endpoint | req/s | p50 | p95 | p99 | responses | failures | 5xx |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for row in summary["endpoints"]:
        name = row["endpoint"] + (" *(baseline)*" if row["baseline"] else "")
        whole = row["whole_run"]
        lines.append(f"| {name} | {_num(row['requests_per_s'])} | {_ms(row['p50_ms'])} | "
                     f"{_ms(row['p95_ms'])} | {_ms(row['p99_ms'])} | {whole['responses']:,} | "
                     f"{whole['failures']:,} | {whole['5xx']:,} |")
    lines += ["", "Names in brackets are normal business outcomes, counted apart and not as failures: "
              "409 insufficient_stock (stock taken by someone else first), 409 on cancelling an order "
              "that is no longer pending, 200 for a checkout retried with the same Idempotency-Key."]
    lines += ["", "## Capacity phases and database baselines", "",
              "| phase | request | req/s | p50 | p95 | p99 | failures |",
              "|---|---|---:|---:|---:|---:|---:|"]
    for phase in ("bare_capacity", "order_capacity"):
        for name, row in summary["phases"].get(phase, {}).get("stats", {}).items():
            lines.append(f"| {phase.replace('_', ' ')} | {name} | {_num(row['requests_per_s'])} | "
                         f"{_ms(row['p50_ms'])} | {_ms(row['p95_ms'])} | {_ms(row['p99_ms'])} | "
                         f"{row['failures']:,} |")
    for name, label in (("pgbench_select_only", "pgbench -S (select-only)"),
                        ("pgbench_place_order", "pgbench place-order script (3 lines)")):
        figures = summary["baselines"].get(name)
        if figures:
            lines.append(f"| pgbench | {label} | {figures['tps']:,.1f} TPS | {_ms(figures.get('p50_ms'))} | "
                         f"{_ms(figures.get('p95_ms'))} | {_ms(figures.get('p99_ms'))} | "
                         f"{figures.get('failed_transactions', 0):,} |")
    lines += _capacity_cpu(summary)
    lines += ["", f"Where the CPU went during each phase, in cores out of {facts['cpus']} (the rest is "
              "anything else running on the machine, PostgreSQL's background processes included):", ""]
    for name, phase in summary["phases"].items():
        cpu = phase.get("cpu")
        if cpu:
            client_name = cpu.get("client", "Locust")
            client_cores = cpu.get("client_cores", cpu.get("locust_cores"))
            lines.append(f"- {name.replace('_', ' ')} ({cpu['wall_s']:g} s): machine "
                         f"{_percent(cpu['machine_busy'])} busy; server {_cores(cpu['server_cores'])}, "
                         f"its PostgreSQL backends {_cores(cpu.get('postgres_cores'))}, "
                         f"{client_name} {_cores(client_cores)} "
                         f"({_percent(cpu.get('client_share_of_busy'))} of the busy CPU), "
                         f"the rest {_cores(cpu['other_cores'])}")
    accounting = summary["facts"].get("accounting")
    if accounting:
        lines += ["", "## Orders and stock (every phase of the run)", "",
                  f"- orders placed: {accounting['orders']:,} "
                  f"({accounting['cancelled_orders']:,} cancelled since)",
                  f"- units sold (orders not cancelled): {accounting['units_sold']:,}; units returned by "
                  f"cancellations: {accounting['units_cancelled']:,}",
                  f"- stock consumed (on hand before - after): {accounting['stock_consumed']:,}; ledger: "
                  f"{accounting['ledger_sales']:,} sold - {accounting['ledger_returns']:,} returned = "
                  f"{accounting['ledger_sales'] - accounting['ledger_returns']:,}",
                  f"- units sold = stock consumed = ledger: {'yes' if accounting['units_match'] else 'NO'}"]
        capacity_orders = accounting.get("order_capacity")
        if capacity_orders:
            lines.append(f"- order capacity (wrk): {capacity_orders['answered_201']:,} checkouts answered "
                         f"201, {capacity_orders['in_database']:,} orders in the database since the phase "
                         f"started (at most {capacity_orders['in_flight_at_the_end']} more allowed: requests "
                         f"in flight when wrk stopped): {'yes' if capacity_orders['match'] else 'NO'}")
    totals = summary["responses"]
    steady = sum(row["failures"] for row in summary["endpoints"])
    lines += ["", "## Responses", "",
              f"{totals['responses']:,} responses in all phases; {totals['failures']:,} failures "
              f"({steady:,} of them in the mix's steady state); {totals['5xx']:,} 5xx; "
              f"{totals['no_response']:,} without a response (a request that met a kept-alive connection "
              "the server closed while idle is sent again, as browsers do, and counted here once)."]
    for phase, failed in summary["failures"].items():
        if failed:
            lines.append(f"- {phase}: failures " + ", ".join(f"{n} {c:,}" for n, c in failed.items())
                         + f" (reasons in {phase}_failures.csv)")
    if summary["facts"].get("server_log_tracebacks"):
        tracebacks = summary["facts"]["server_log_tracebacks"]
        lines.append(f"- the server log has {tracebacks} tracebacks (server.log)")
    if summary["notes"]:
        lines += ["", "## Notes", ""] + [f"- {note}" for note in summary["notes"]]
    wrk_phases = client == "wrk"
    lines += ["", "## Files", "",
              ("- `mix.html`: Locust's report with charts; `bare.wrk.log`, `capacity.wrk.log`: wrk's output, "
               "`bare_wrk.json`, `capacity_wrk.json`: what its script counted" if wrk_phases else
               "- `mix.html`, `bare.html`, `capacity.html`: Locust's reports with charts"),
              "- `<phase>_stats.csv`, `_stats_history.csv`, `_failures.csv`, `_exceptions.csv`: Locust's CSV"
              + ("; `bare_failures.csv`, `capacity_failures.csv`: the wrk phases' failures"
                 if wrk_phases else ""),
              "- `<phase>_outcomes.json`: every status of every request name, whole run",
              "- `check.json`: `stockline check --json`; `server.log`; `summary.json`: all of the above", ""]
    return "\n".join(lines)


def _capacity_cpu(summary: dict[str, Any]) -> list[str]:
    """The capacity phases side by side: throughput, latency, and whose CPU it took (the
    client's share of the machine's busy CPU says whether the server or the load generator
    was measured)."""
    rows = []
    for name, request in (("bare_capacity", BARE), ("order_capacity", CHECKOUT)):
        phase = summary["phases"].get(name)
        if not phase or not phase.get("cpu"):
            continue
        cpu, stats = phase["cpu"], phase["stats"]
        total = sum(row["requests_per_s"] or 0 for row in stats.values())
        main = stats.get(request, {})
        orders = f"{main['requests_per_s']:,.1f}" if name == "order_capacity" and main else "-"
        per_request = ("n/a" if not total or cpu.get("server_cores") is None
                       else f"{1000 * cpu['server_cores'] / total:.2f}")
        latency = " / ".join(_fine_ms(main.get(f"p{n}_ms")) for n in (50, 95, 99))
        rows.append(f"| {name.replace('_', ' ')} | {cpu.get('client', 'Locust')} | {total:,.1f} | {orders} | "
                    f"{latency} | {_cores(cpu.get('server_cores'))} | {per_request} | "
                    f"{_cores(cpu.get('postgres_cores'))} | "
                    f"{_cores(cpu.get('client_cores', cpu.get('locust_cores')))} | "
                    f"**{_percent(cpu.get('client_share_of_busy'))}** | "
                    f"{_percent(cpu.get('machine_busy'))} |")
    if not rows:
        return []
    return ["", "Capacity phases: requests/s of every kind, orders/s, latency (p50 / p95 / p99 of "
            f"`{BARE}`, and of `{CHECKOUT}` in the order phase), and CPU in cores; the client's share is "
            "its CPU over all the CPU the machine was busy with (a large share means the load generator, "
            "not the server, set the pace):", "",
            "| phase | client | req/s | orders/s | p50 / p95 / p99 | server | server CPU ms / request | "
            "PostgreSQL | client | client share | machine busy |",
            "|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|", *rows]


def write_report(run: Run) -> dict[str, Any]:
    summary = summarize(run)
    (run.out_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    (run.out_dir / "summary.md").write_text(render(summary))
    return summary
