"""`stockline serve` keeps idle keep-alive connections longer than the clients and proxies in
front of it, in every worker, so a reused connection is never closed under a request."""

from __future__ import annotations

import http.client
import time

import pytest

from tests.server_support import ServerProcess

pytestmark = pytest.mark.slow


@pytest.fixture
def serve_with(database_url, tmp_path):
    servers: list[ServerProcess] = []

    def start(**env: str) -> ServerProcess:
        server = ServerProcess(database_url, tmp_path / "data", tmp_path / f"serve{len(servers)}.log", env=env)
        servers.append(server.start())
        return server

    yield start
    for server in servers:
        assert server.stop() == 0
        assert "Traceback" not in server.log(), server.log()[-3000:]


def _get_health(connection: http.client.HTTPConnection) -> int:
    connection.request("GET", "/health")
    response = connection.getresponse()
    response.read()
    return response.status


def test_a_connection_idle_longer_than_uvicorns_default_is_reused(serve_with):
    """uvicorn closes idle connections after 5 s unless told otherwise; a client that reuses
    one just then gets no answer. Here each connection (several, so both workers take
    some) waits 6 s and is reused: same socket, an answer on it."""
    server = serve_with()
    connections = [http.client.HTTPConnection("127.0.0.1", server.port, timeout=10) for _ in range(6)]
    first_ports = []
    for connection in connections:
        assert _get_health(connection) == 200
        first_ports.append(connection.sock.getsockname()[1])
    time.sleep(6)
    for connection, port in zip(connections, first_ports, strict=True):
        assert _get_health(connection) == 200
        assert connection.sock.getsockname()[1] == port  # the same connection, not a new one
        connection.close()


def test_keep_alive_seconds_is_the_servers_idle_limit(serve_with):
    """The setting reaches the server: with KEEP_ALIVE_SECONDS=1 an idle connection is
    closed by the server (its end of the socket reads as closed well within 10 s)."""
    server = serve_with(KEEP_ALIVE_SECONDS="1")
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    assert _get_health(connection) == 200
    connection.sock.settimeout(10)
    started = time.monotonic()
    try:
        assert connection.sock.recv(1) == b""  # end of stream: the server closed it
    except TimeoutError:
        pytest.fail("the server kept an idle connection for 10 s with KEEP_ALIVE_SECONDS=1")
    assert time.monotonic() - started < 10
    connection.close()
