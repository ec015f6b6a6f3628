"""Faults under a steady stream of orders, and nothing lost.

`stockline serve --workers 2` runs against a PostgreSQL of the suite's own, reached through
a proxy that can stall. Clients place direct orders and checkouts, each with an
Idempotency-Key they retry until they get an order or a definite refusal. During each test
one thing breaks; afterwards every key that got an order maps to exactly that order, every
order was seen by its client, the books balance and `stockline check` is clean. Answers
during a fault are 503s in the one error shape with Retry-After, never a 500, never slower
than the configured timeouts allow. The figures go to test-output/reliability/<fault>.json
(docs/reliability.md quotes them).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from tests.fault_support import (
    OrderStream,
    OwnPostgres,
    StallProxy,
    build_world,
    hold_lock,
    summarize,
    verify_nothing_lost,
    write_report,
)
from tests.races import wait_until_blocked
from tests.server_support import ServerProcess

pytestmark = pytest.mark.slow

CONNECT_TIMEOUT, LOCK_TIMEOUT, STATEMENT_TIMEOUT = 2, 2, 3
SERVER_ENV = {"DB_POOL_MAX": "6", "DB_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
              "DB_LOCK_TIMEOUT": str(LOCK_TIMEOUT), "DB_STATEMENT_TIMEOUT": str(STATEMENT_TIMEOUT)}
# the longest an answer may take: a wait for a pooled connection, then a use of one cut by
# the watchdog (statement + connect timeout); the rest is margin for a busy 2-core machine
ANSWER_BOUND = CONNECT_TIMEOUT + (STATEMENT_TIMEOUT + CONNECT_TIMEOUT) + 5
RECOVERY_BOUND = 10  # seconds from the fault's end to the first order placed


@pytest.fixture(scope="module")
def postgres():
    # Not under pytest's tmp_path: run as root, PostgreSQL runs as the user `pgserver`, and
    # every pytest session starting on the machine makes /tmp/pytest-of-root private again
    # (0700), which would leave the server unable to reach its own data folder.
    data_dir = Path(tempfile.mkdtemp(prefix="stockline-own-pg-"))
    own = OwnPostgres(data_dir)
    yield own
    own.stop()
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def proxy(postgres):
    running = StallProxy(postgres.socket_path).start()
    yield running
    running.close()


@pytest.fixture
def world(postgres, request):
    return build_world(postgres.create_database(f"faults_{request.node.name[5:40]}"))


@pytest.fixture
def server_env() -> dict[str, str]:
    return dict(SERVER_ENV)


@pytest.fixture
def server(world, proxy, server_env, tmp_path):
    through_proxy = make_conninfo(world.url, host="127.0.0.1", port=str(proxy.port))
    served = ServerProcess(through_proxy, tmp_path / "data", tmp_path / "serve.log", env=server_env)
    served.start()
    yield served
    served.stop()
    assert "Traceback" not in served.log(), served.log()[-5000:]


async def under_load(name: str, server: ServerProcess, world, inject: Callable[[], Awaitable[dict]], *,
                     before: float = 3.0, after: float = 6.0, **stream_options) -> tuple[OrderStream, dict]:
    """Orders flow for `before` seconds, `inject()` breaks something (the fault lasts until
    it returns), orders flow `after` seconds more; then every open key is settled and
    nothing may be lost."""
    stream = OrderStream(server.base_url, world, name, **stream_options)
    async with stream.client() as http:
        tokens = await stream.login(http)
    stop = asyncio.Event()
    running = asyncio.create_task(stream.run(stop, tokens))
    probes = asyncio.create_task(_probe_ready(server, stop))
    log_start = len(server.log())
    await asyncio.sleep(before)
    fault_start = time.monotonic()
    details = await inject()
    fault_end = time.monotonic()
    await asyncio.sleep(after)
    stop.set()
    await running
    readiness = await probes
    await stream.sweep(tokens)
    figures = {"fault": name} | summarize(stream, fault_start, fault_end) | details
    figures["ready_during_fault"] = dict(Counter(status for at, status in readiness if fault_start <= at < fault_end))
    figures["server_log"] = _log_summary(server.log()[log_start:])
    figures |= verify_nothing_lost(stream)
    write_report(name, figures)
    assert figures["recovered_seconds_after_fault"] is not None
    assert figures["recovered_seconds_after_fault"] < RECOVERY_BOUND, figures
    return stream, figures


async def _probe_ready(server: ServerProcess, stop: asyncio.Event) -> list[tuple[float, str]]:
    """/ready every half second, as a load balancer would, on a fresh connection each time."""
    seen = []
    while not stop.is_set():
        at = time.monotonic()
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                status = str((await http.get(f"{server.base_url}/ready")).status_code)
        except httpx.TransportError as exc:
            status = type(exc).__name__
        seen.append((at, status))
        await asyncio.sleep(0.5)
    return seen


def _log_summary(text: str) -> dict[str, int]:
    """The server's warnings and errors, counted by what they say (time and pid left out)."""
    said = [re.sub(r"0x[0-9a-f]+|\d+", "N", line.split(" ", 2)[2])[:120] for line in text.splitlines()
            if re.match(r"\S+ \S+ (WARNING|ERROR|CRITICAL) ", line)]
    return dict(Counter(said).most_common(8))


def _ready(server: ServerProcess) -> bool:
    return httpx.get(f"{server.base_url}/ready", timeout=5).status_code == 200


async def test_postgres_restart(server, world, postgres):
    async def restart() -> dict:
        await asyncio.to_thread(postgres.stop)
        stopped = time.monotonic()
        ready_while_down = await asyncio.to_thread(_ready, server)
        await asyncio.sleep(max(0.0, 3 - (time.monotonic() - stopped)))  # down 3 s, as a restart with recovery is
        await asyncio.to_thread(postgres.start)
        return {"database_down_seconds": round(time.monotonic() - stopped, 2), "ready_while_down": ready_while_down}

    _, figures = await under_load("postgres_restart", server, world, restart)
    assert figures["ready_while_down"] is False
    assert await asyncio.to_thread(_ready, server)
    assert figures["slowest_answer_seconds"] < ANSWER_BOUND, figures


async def test_every_app_connection_terminated_mid_transaction(server, world):
    async def terminate() -> dict:
        hit, in_transaction = 0, 0
        with psycopg.connect(world.url, autocommit=True) as admin:
            for _ in range(40):  # until some were caught inside a transaction (bounded)
                states = admin.execute(
                    "SELECT state, pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND application_name LIKE 'stockline%%' "
                    "AND pid <> pg_backend_pid()").fetchall()
                hit += len(states)
                in_transaction += sum(1 for state, _ in states if state in ("active", "idle in transaction"))
                if in_transaction >= 5:
                    break
                await asyncio.sleep(0.25)
        return {"connections_terminated": hit, "terminated_inside_a_transaction": in_transaction}

    _, figures = await under_load("terminate_backends", server, world, terminate)
    assert figures["terminated_inside_a_transaction"] >= 5, figures
    assert figures["slowest_answer_seconds"] < ANSWER_BOUND, figures


async def test_a_killed_worker_is_replaced(server, world):
    async def kill_worker() -> dict:
        before = server.worker_pids()
        assert len(before) == 2
        victim = min(before)
        os.kill(victim, signal.SIGKILL)
        killed = time.monotonic()
        while True:  # the supervisor notices and starts another (bounded)
            now = server.worker_pids()
            if len(now) == 2 and victim not in now:
                break
            assert time.monotonic() - killed < 30, "the killed worker was not replaced"
            await asyncio.sleep(0.1)
        return {"worker_replaced_seconds": round(time.monotonic() - killed, 2)}

    _, figures = await under_load("worker_killed", server, world, kill_worker)
    assert "died" in server.log()
    assert figures["slowest_answer_seconds"] < ANSWER_BOUND, figures


async def test_database_unreachable_with_hanging_connections(server, world, proxy):
    async def stall() -> dict:
        proxy.stall()
        await asyncio.sleep(10)
        return {"sockets_cut_when_the_database_came_back": proxy.release()}

    _, figures = await under_load("database_stalled", server, world, stall)
    assert figures["requests_during_fault"] > 0
    assert figures["slowest_answer_during_fault_seconds"] < ANSWER_BOUND, figures
    assert figures["slowest_answer_seconds"] < ANSWER_BOUND, figures
    assert figures["transport_failures"] == {}  # every request was answered, if only with a 503
    assert sum(figures["refused_503"].values()) > 0


async def test_a_lock_held_for_30_seconds(server, world):
    hot = world.sku_ids[0]

    async def hold() -> dict:
        await asyncio.to_thread(hold_lock, world.url, hot, 30)
        return {"lock_held_seconds": 30}

    stream, figures = await under_load("lock_held", server, world, hold, hot_sku=hot, hot_clients=4)
    hot_keys = {a.key for a in stream.attempts if hot in a.lines}
    waits = [r for r in stream.responses if r.key in hot_keys and r.status == 503]
    # a wait for the lock ends at lock_timeout (busy_retry); a wait behind another order
    # that waits for it, at statement_timeout (database_timeout): bounded either way
    assert waits and {r.code for r in waits} <= {"busy_retry", "database_timeout"}
    assert "busy_retry" in {r.code for r in waits}
    assert all(r.retry_after for r in waits)
    assert max(r.seconds for r in waits) < STATEMENT_TIMEOUT + 3  # gave up in bounded time, did not hang
    others = [r for r in stream.responses if r.key not in hot_keys and r.status in (200, 201)
              and r.kind in ("checkout", "direct")]
    assert len(others) > 20  # the rest of the catalog kept selling meanwhile
    assert any(a.outcome == "order" for a in stream.attempts if a.key in hot_keys)  # and the hot SKU after
    figures["hot_sku_refusals"] = len(waits)
    write_report("lock_held", figures)


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


# the in-flight order must outwait the lock however long the refusal takes to observe
@pytest.mark.parametrize("server_env", [SERVER_ENV | {"DB_LOCK_TIMEOUT": "30", "DB_STATEMENT_TIMEOUT": "60"}])
async def test_sigterm_under_load_finishes_what_it_accepted(server, world):
    """SIGTERM while an order is inside the app (waiting on a lock held until new
    connections are seen refused): that order completes with 201, the server exits 0; a
    new server on the same port lets every client settle its key."""
    in_flight: dict = {}

    async def terminate() -> dict:
        taken, release = Future(), threading.Event()
        holder = asyncio.create_task(asyncio.to_thread(hold_lock, world.url, world.sku_ids[-1], 25, taken, release))
        holder_pid = await asyncio.wait_for(asyncio.wrap_future(taken), 10)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
            login = await http.post("/api/login", json={"username": f"cust_{world.customer_ids[-1]}",
                                                        "password": "Customer@123"})
            headers = {"Authorization": f"Bearer {login.json()['access_token']}", "Idempotency-Key": "in-flight"}
            order = asyncio.create_task(http.post("/api/orders", json={"sku_id": world.sku_ids[-1], "quantity": 1},
                                                  headers=headers))
            await wait_until_blocked(world.url, holder_pid, order)  # the order waits on the lock inside the server
            server.signal(signal.SIGTERM)
            signalled = time.monotonic()
            while not await asyncio.to_thread(_refused, server.port):
                assert time.monotonic() - signalled < 15, "new connections were still accepted"
                await asyncio.sleep(0.05)
            in_flight["refused_after_seconds"] = round(time.monotonic() - signalled, 2)
            in_flight["pending_when_refused"] = not order.done()
            release.set()
            in_flight["response"] = await order
        await holder
        in_flight["exit_code"] = await asyncio.to_thread(server.process.wait, 60)
        stopped = time.monotonic()
        await asyncio.to_thread(server.start)  # the same port again: clients retry their keys against it
        return {"stopped_seconds": round(stopped - signalled, 2),
                "new_connections_refused_after_seconds": in_flight["refused_after_seconds"],
                "restart_seconds": round(time.monotonic() - stopped, 2)}

    # the stream never orders the SKU the in-flight order waits on (hot_sku with no hot
    # clients), so its clients do not queue behind that lock and exhaust the pool
    stream, _ = await under_load("sigterm", server, world, terminate, hot_sku=world.sku_ids[-1])
    assert in_flight["pending_when_refused"]
    assert in_flight["response"].status_code == 201, in_flight["response"].text
    assert in_flight["exit_code"] == 0
    assert not [r for r in stream.responses if r.status >= 500]
    assert "Traceback" not in server.log()
