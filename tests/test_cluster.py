"""The scale-out topology with the real components (stockline.cluster): HAProxy in front of
two `stockline serve` nodes, PgBouncer (transaction pooling, TLS) in front of a PostgreSQL
primary with a streaming replica, Redis. One topology for the module; the faults (a node
killed, PgBouncer restarted) leave it whole again for the next test. Skips in one line where
the Debian packages are missing or PostgreSQL cannot run as an unprivileged user."""

from __future__ import annotations

import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from stockline.cluster import components
from stockline.cluster.topology import (
    STATE_FILE,
    Logins,
    SeedSizes,
    Topology,
    read_state,
    running,
    stop_recorded,
)

pytestmark = pytest.mark.slow

_REASON = components.unavailable_reason()
if _REASON:
    pytest.skip(f"cluster: {_REASON}", allow_module_level=True)

PASSWORD = "Customer@123"
SMALL = SeedSizes(customers=12, products=20, skus=60, batches=300)


def _scratch_dir() -> Path:
    # under /tmp: the unprivileged server user must reach it (pytest's tmp_path is root's, 0700)
    return Path(tempfile.mkdtemp(prefix="stockline-cluster-test-", dir="/tmp"))


@pytest.fixture(scope="module")
def cluster() -> Iterator[Topology]:
    folder = _scratch_dir()
    topology = Topology(folder, nodes=2, seed=SMALL, logins=Logins(customer_password=PASSWORD))
    try:
        topology.start()
        yield topology
    finally:
        topology.close()
        shutil.rmtree(folder, ignore_errors=True)


def _poll(condition, seconds: float, what: str, every: float = 0.05):
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} did not happen within {seconds} s"
        time.sleep(every)


def _sign_in(http: httpx.Client, username: str = "cust_1") -> dict[str, str]:
    response = http.post("/api/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _checkout(http: httpx.Client, headers: dict[str, str]) -> httpx.Response:
    catalog = http.get("/api/products", params={"in_stock": "true", "page_size": 20}, headers=headers)
    assert catalog.status_code == 200, catalog.text
    for item in catalog.json()["items"]:
        if item["total_on_hand"] > 0 and http.post("/api/cart", json={"sku_id": item["sku_id"], "quantity": 1},
                                                   headers=headers).status_code == 200:
            break
    else:
        pytest.fail("no SKU could be put in the cart")
    return http.post("/api/checkout", headers=headers | {"Idempotency-Key": str(uuid.uuid4())})


def test_ready_catalog_and_checkout_through_the_balancer(cluster: Topology) -> None:
    with httpx.Client(base_url=cluster.haproxy.url, timeout=30) as http:
        assert http.get("/ready").status_code == 200
        headers = _sign_in(http)
        catalog = http.get("/api/products", headers=headers)
        assert catalog.status_code == 200 and catalog.json()["items"]
        order = _checkout(http, headers)
        assert order.status_code == 201, order.text
    # both nodes served: HAProxy spreads requests round robin over two healthy nodes
    assert cluster.haproxy.server_states() == {"node1": "UP", "node2": "UP"}


def test_every_app_connection_to_postgresql_is_tls(cluster: Topology) -> None:
    with httpx.Client(base_url=cluster.haproxy.url, timeout=30) as http:
        for _ in range(4):  # both nodes hold connections now
            assert http.get("/ready").status_code == 200
    query = ("SELECT count(*), bool_and(ssl) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) "
             "WHERE usename = 'stockline'")
    with cluster.primary.admin() as conn:
        count, all_ssl = conn.execute(query).fetchone()
    assert count > 0 and all_ssl is True
    with cluster.replica.admin() as conn:
        count, all_ssl = conn.execute(query).fetchone()
    assert count == 0 or all_ssl is True
    # the role carries the app's session limits (PgBouncer 1.18 drops the `options` parameter)
    with psycopg.connect(cluster.bouncer.url, prepare_threshold=None) as conn:
        assert conn.execute("SHOW lock_timeout").fetchone()[0] == "5s"
        assert conn.execute("SHOW statement_timeout").fetchone()[0] == "30s"
        assert conn.execute("SHOW idle_in_transaction_session_timeout").fetchone()[0] == "30s"


def test_plain_connections_are_refused_and_the_certificate_verifies(cluster: Topology) -> None:
    for url in (cluster.primary.url, cluster.bouncer.url, cluster.replica.url):
        plain = url.replace("sslmode=require", "sslmode=disable")
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(plain, connect_timeout=5).close()
        verified = url.replace("sslmode=require", f"sslmode=verify-full&sslrootcert={cluster.scratch.certs.ca_cert}")
        with psycopg.connect(verified, connect_timeout=5, prepare_threshold=None) as conn:
            assert conn.execute("SELECT 1").fetchone()[0] == 1


def test_the_replica_streams_what_the_primary_writes(cluster: Topology) -> None:
    assert [(row["application_name"], row["state"]) for row in cluster.primary.replication()] == [
        ("replica", "streaming")]
    token = secrets.token_hex(8)
    with cluster.primary.admin() as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS cluster_probe (token text)")
        conn.execute("INSERT INTO cluster_probe VALUES (%s)", (token,))

    def seen() -> bool:
        with cluster.replica.admin() as conn:
            if conn.execute("SELECT to_regclass('cluster_probe')").fetchone()[0] is None:
                return False
            return conn.execute("SELECT 1 FROM cluster_probe WHERE token = %s", (token,)).fetchone() is not None

    _poll(seen, 10, "the row reaching the replica")
    # artificial lag: replay paused, the replica falls behind; resumed, it catches up
    cluster.replica.pause_replay()
    try:
        with cluster.primary.admin() as conn:
            conn.execute("INSERT INTO cluster_probe SELECT md5(g::text) FROM generate_series(1, 1000) g")
        _poll(lambda: cluster.replica.replay_lag_bytes() > 0, 10, "replay lag")
    finally:
        cluster.replica.resume_replay()
    cluster.replica.wait_replayed(seconds=10)


def test_a_killed_node_is_routed_around(cluster: Topology) -> None:
    victim = cluster.nodes[0]
    statuses = []
    with httpx.Client(base_url=cluster.haproxy.url, timeout=30) as http:
        headers = _sign_in(http, "cust_2")
        for _ in range(6):  # connections to both nodes are open and reused
            statuses.append(http.get("/api/products", headers=headers).status_code)
        victim.kill()
        marked_down = False
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            statuses.append(http.get("/api/products", headers=headers).status_code)
            statuses.append(http.get("/ready").status_code)
            if cluster.haproxy.server_states()["node1"] == "DOWN":
                marked_down = True
                break
        assert marked_down, "HAProxy never marked the killed node down"
        for _ in range(10):
            statuses.append(http.get("/api/products", headers=headers).status_code)
    assert set(statuses) == {200}, statuses
    victim.start()
    cluster.haproxy.wait_state("node1", "UP", 10)


def test_the_app_answers_again_after_pgbouncer_restarts(cluster: Topology) -> None:
    with httpx.Client(base_url=cluster.haproxy.url, timeout=30) as http:
        headers = _sign_in(http, "cust_3")
        assert http.get("/api/cart", headers=headers).status_code == 200
        cluster.bouncer.restart()
        # each node's pool finds its dead connections and replaces them (503 meanwhile)
        for node in cluster.nodes:
            _poll(lambda node=node: components.http_status(f"{node.url}/ready") == 200, 20,
                  f"{node.name} ready again")
        statuses = [http.get(path, headers=headers).status_code
                    for _ in range(10) for path in ("/ready", "/api/cart")]
        assert set(statuses) == {200}, statuses
        assert _checkout(http, headers).status_code == 201


def test_cluster_up_and_down_leave_nothing_running() -> None:
    folder = _scratch_dir()
    command = [sys.executable, "-m", "stockline.cli", "cluster"]
    try:
        up = subprocess.run([*command, "up", "--nodes", "1", "--dir", str(folder), "--customers", "3",
                             "--products", "3", "--skus", "6", "--batches", "12"],
                            capture_output=True, text=True, timeout=120, cwd=folder)
        assert up.returncode == 0, up.stderr[-3000:]
        state = read_state(folder)
        assert f"balancer (HAProxy)   {state['urls']['balancer']}" in up.stdout
        assert state["logins"]["staff"]["password"] in up.stdout
        assert (folder / STATE_FILE).stat().st_mode & 0o077 == 0
        names = [item["name"] for item in state["components"]]
        assert names == ["primary", "replica", "pgbouncer", "redis", "node1", "haproxy"]
        assert len(running(state)) == 6
        assert components.http_status(f"{state['urls']['balancer']}/ready") == 200
        status = subprocess.run([*command, "status", "--dir", str(folder)], capture_output=True, text=True,
                                timeout=30)
        assert status.returncode == 0, status.stdout + status.stderr

        down = subprocess.run([*command, "down", "--dir", str(folder)], capture_output=True, text=True,
                              timeout=120)
        assert down.returncode == 0, down.stderr
        assert running(state) == []
        for item in state["components"]:  # nor anything of their process groups
            assert not _group_alive(item["pid"]), item
        assert (folder / "logs" / "primary.log").exists()  # kept unless --remove
        again = subprocess.run([*command, "down", "--dir", str(folder), "--remove"], capture_output=True,
                               text=True, timeout=60)
        assert again.returncode == 0 and "not running" in again.stderr, again.stderr
        assert not folder.exists()
    finally:
        if folder.exists():
            state_file = folder / STATE_FILE
            if state_file.exists():
                stop_recorded(folder, bound=10)
            shutil.rmtree(folder, ignore_errors=True)


def _group_alive(pgid: int) -> bool:
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = stat.read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2:].split()
        if fields[0] not in ("Z", "X") and int(fields[2]) == pgid:
            return True
    return False


def test_a_missing_package_is_named() -> None:
    error = components.MissingPackage(["pgbouncer", "haproxy"])
    assert "pgbouncer, haproxy" in str(error) and "apt-get install -y pgbouncer haproxy" in str(error)
    assert set(components.PACKAGES.values()) == {"postgresql-15", "pgbouncer", "haproxy", "redis-server", "openssl"}
