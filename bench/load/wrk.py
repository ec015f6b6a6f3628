"""The capacity phases on wrk (a C load generator that costs a few per cent of a core where
Locust, in Python, took a fifth of the machine): the bare endpoint flat out, and customers
filling a 3-line cart and checking out flat out (bench/load/capacity.lua).

The customers sign in here, in Python, before wrk starts (so the argon2 sign-ins stay out
of the measured window); each wrk thread gets one connection and one customer's token. The
result has the shape of a Locust phase's (`stats` per request name, `outcomes` with every
status per name and the failures), so the report and the checks read both alike."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).with_name("capacity.lua")
TIMEOUT_S = 60  # wrk's --timeout: a slower answer counts as a timeout error, not a latency


def wrk_executable() -> str | None:
    """wrk from LOAD_WRK (a path, or a name on PATH) or PATH; None when it cannot be run."""
    return shutil.which(os.environ.get("LOAD_WRK") or "wrk")


def wrk_version(executable: str) -> str:
    try:
        done = subprocess.run([executable, "--version"], capture_output=True, text=True, timeout=10,
                              check=False)
    except OSError:
        return "unknown"
    first = (done.stdout + done.stderr).strip().splitlines()[:1]
    return first[0].split(" [")[0] if first else "unknown"


def _call(base: str, method: str, path: str, body: dict | None = None,
          token: str | None = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 (our own server)
            raw = answer.read()
            return answer.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        return error.code, None


def sign_in_customers(base: str, ids: list[int], password: str) -> tuple[list[str], dict[str, Any]]:
    """A token per customer `cust_<id>` (POST /api/login), each cart emptied (lines left by
    the mix). Returns the tokens and the statuses seen, in the phase's outcomes shape."""

    def one(customer_id: int) -> tuple[str | None, int, int]:
        status, body = _call(base, "POST", "/api/login",
                             {"username": f"cust_{customer_id}", "password": password})
        if status != 200:
            return None, status, 0
        token = body["access_token"]
        cleared, _ = _call(base, "DELETE", "/api/cart", token=token)
        return token, status, cleared

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(one, ids))
    statuses: dict[str, dict[str, int]] = {}
    failures: dict[str, int] = {}
    for _token, login, cleared in answers:
        for name, status, ok in (("POST /api/login", login, login == 200),
                                 ("DELETE /api/cart", cleared, cleared in (200, 204))):
            if status:
                statuses.setdefault(name, {})[str(status)] = statuses.get(name, {}).get(str(status), 0) + 1
                if not ok:
                    failures[name] = failures.get(name, 0) + 1
    return [token for token, _, _ in answers if token], {"statuses": statuses, "failures": failures}


def _percentile(histogram: dict[float, int], count: int, fraction: float) -> float | None:
    """Nearest-rank percentile over a {milliseconds: count} histogram."""
    if not count or not histogram:
        return None
    wanted, seen = max(1, math.ceil(count * fraction)), 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= wanted:
            return value
    return max(histogram)


def _row(count: int, failures: int, duration_s: float, histogram: dict[float, int]) -> dict[str, Any]:
    return {"type": "", "requests": count, "failures": failures,
            "requests_per_s": round(count / duration_s, 2),
            **{f"p{n}_ms": _percentile(histogram, count, n / 100) for n in (50, 95, 99)},
            "average_ms": round(sum(ms * n for ms, n in histogram.items()) / count, 2) if histogram else None,
            "max_ms": max(histogram) if histogram else None, "window_s": round(duration_s, 1)}


def read_result(path: Path, bare_name: str | None) -> dict[str, Any]:
    """capacity.lua's JSON: per request name its statuses, failures (with reasons) and, for
    the order flow, a latency histogram; for the bare flow wrk's own latency percentiles."""
    raw = json.loads(path.read_text())
    duration_s = raw["duration_us"] / 1e6
    statuses: dict[str, dict[str, int]] = {}
    failures: dict[str, int] = {}
    reasons: dict[str, int] = {}
    histograms: dict[str, dict[float, int]] = {}
    for thread in raw["threads"]:
        for key, count in thread["counts"].items():
            name, _, status = key.rpartition("|")
            if status == "failed":
                failures[name] = failures.get(name, 0) + int(count)
            else:
                statuses.setdefault(name, {})[status] = statuses.get(name, {}).get(status, 0) + int(count)
        for key, count in thread["latencies"].items():
            name, _, bucket = key.rpartition("|")
            histogram = histograms.setdefault(name, {})
            histogram[int(bucket) / 10] = histogram.get(int(bucket) / 10, 0) + int(count)
        for key, count in thread["reasons"].items():
            reason = key.replace("|", ": ", 1)
            reasons[reason] = reasons.get(reason, 0) + int(count)
    # wrk's own error counts, for the record: "status" is every answer not 2xx/3xx (409s
    # included), "read" mostly a connection the server closed after its answer (as after a
    # 500); a request that got no answer at all is counted by the script, per name.
    errors = {name: int(value) for name, value in raw["errors"].items()}
    stats = {}
    for name, by_status in statuses.items():
        count = sum(by_status.values())
        if name == bare_name:
            latency = raw["latency"]
            stats[name] = _row(count, failures.get(name, 0), duration_s, {}) | {
                f"p{n}_ms": round(latency[f"p{n}"] / 1000, 2) for n in (50, 95, 99)} | {
                "average_ms": round(latency["mean"] / 1000, 2), "max_ms": round(latency["max"] / 1000, 2)}
        else:
            stats[name] = _row(count, failures.get(name, 0), duration_s, histograms.get(name, {}))
        stats[name]["type"] = name.split(" ", 1)[0]
    return {"stats": stats, "statuses": statuses, "failures": failures, "reasons": reasons,
            "duration_s": round(duration_s, 2), "wrk_requests": int(raw["requests"]), "wrk_errors": errors,
            "in_flight_at_the_end": sum(int(thread.get("in_flight", 0)) for thread in raw["threads"])}


def run_wrk(phase: str, flow: str, url: str, threads: int, connections: int, duration_s: int, out_dir: Path,
            env: dict[str, str] | None = None, bare_name: str | None = None) -> dict[str, Any]:
    """One wrk run of capacity.lua; its output in `<phase>.wrk.log`, the script's counts in
    `<phase>_wrk.json`."""
    executable = wrk_executable()
    if executable is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    result_file = out_dir / f"{phase}_wrk.json"
    result_file.unlink(missing_ok=True)
    command = [executable, "-t", str(threads), "-c", str(connections), "-d", f"{duration_s}s",
               "--timeout", f"{TIMEOUT_S}s", "-s", str(SCRIPT), url]
    run_env = os.environ | (env or {}) | {"LOAD_WRK_FLOW": flow, "LOAD_WRK_OUT": str(result_file),
                                          "LOAD_WRK_NONCE": uuid.uuid4().hex[:12]}
    with open(out_dir / f"{phase}.wrk.log", "wb") as log:
        done = subprocess.run(command, env=run_env, stdout=log, stderr=subprocess.STDOUT,
                              timeout=duration_s + 120, check=False)
    if done.returncode != 0 or not result_file.exists():
        raise RuntimeError(f"wrk ({phase}) failed with exit status {done.returncode}:\n"
                           f"{(out_dir / f'{phase}.wrk.log').read_text(errors='replace')[-3000:]}")
    return read_result(result_file, bare_name)


def _phase(result: dict[str, Any], users: int, duration_s: int, threads: int,
           before: dict[str, Any] | None = None) -> dict[str, Any]:
    statuses, failures = dict(result["statuses"]), dict(result["failures"])
    for name, by_status in (before or {}).get("statuses", {}).items():  # the sign-ins, before wrk
        merged = statuses.setdefault(name, {})
        for status, count in by_status.items():
            merged[status] = merged.get(status, 0) + count
    for name, count in (before or {}).get("failures", {}).items():
        failures[name] = failures.get(name, 0) + count
    outcomes = {"statuses": statuses, "failures": failures, "reasons": result["reasons"],
                "wrk_errors": result["wrk_errors"], "wrk_requests": result["wrk_requests"],
                "in_flight_at_the_end": result["in_flight_at_the_end"]}
    return {"stats": result["stats"], "outcomes": outcomes, "users": users, "duration_s": duration_s,
            "client": "wrk", "wrk_threads": threads, "measured_s": result["duration_s"]}


def bare_capacity(base: str, connections: int, duration_s: int, out_dir: Path, name: str) -> dict[str, Any]:
    """/bench/bare flat out: `connections` connections on (at most) 2 threads."""
    threads = max(1, min(2, connections))
    result = run_wrk("bare", "bare", f"{base}/bench/bare", threads, connections, duration_s, out_dir,
                     bare_name=name)
    return _phase(result, connections, duration_s, threads)


def order_capacity(base: str, tokens: list[str], skus: list[int], duration_s: int, out_dir: Path,
                   sign_ins: dict[str, Any]) -> dict[str, Any]:
    """One wrk thread and connection per signed-in customer, cycling cart lines 1, 2, 3 and
    checkout (capacity.lua)."""
    if len(skus) < 3:
        raise RuntimeError(f"the order-capacity phase needs at least 3 SKUs with stock, found {len(skus)}")
    if not tokens:
        raise RuntimeError("the order-capacity phase has no signed-in customer")
    threads = len(tokens)
    (out_dir / "capacity_tokens.txt").write_text("\n".join(tokens) + "\n")  # removed after the run
    (out_dir / "capacity_skus.txt").write_text("\n".join(map(str, skus)) + "\n")
    env = {"LOAD_WRK_TOKENS_FILE": str(out_dir / "capacity_tokens.txt"),
           "LOAD_WRK_SKUS_FILE": str(out_dir / "capacity_skus.txt")}
    try:
        result = run_wrk("capacity", "orders", base, threads, threads, duration_s, out_dir, env=env)
    finally:
        (out_dir / "capacity_tokens.txt").unlink(missing_ok=True)  # bearer tokens: not left in the results
    return _phase(result, threads, duration_s, threads, before=sign_ins)
