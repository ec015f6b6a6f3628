"""The request-body limit (`MAX_BODY_BYTES`, stockline.body_limit): 413 in the one error shape
for JSON, forms and multipart, refused at once on Content-Length, cut while reading when the
body is chunked or longer than it says, and nothing done with a body that was cut."""

from __future__ import annotations

import json

import httpx
import pytest

from stockline.config import Settings
from stockline.errors import ConfigError
from tests.conftest import serve
from tests.ordering_world import PASSWORD, bearer
from tests.test_http_basics import assert_error_shape
from tests.web_support import HTML, csrf_of, live_server

LIMIT = 4096


def assert_too_large(response: httpx.Response, limit: int = LIMIT) -> None:
    error = assert_error_shape(response, 413, "payload_too_large")
    assert error["details"] == {"limit_bytes": limit}
    assert str(limit) in error["message"]


def login_body(size: int, password: str = PASSWORD) -> bytes:
    """A JSON sign-in with the right password, padded with whitespace to exactly `size` bytes."""
    body = json.dumps({"username": "cust_1", "password": password}).encode()
    assert len(body) <= size
    return body + b" " * (size - len(body))


def signed_in_ever(conn) -> bool:
    return conn.execute("SELECT last_login_at FROM Users WHERE username = 'cust_1'"
                        ).fetchone()["last_login_at"] is not None


class Chunks:
    """An async body of `count` chunks of `size` bytes that remembers how many were read."""

    def __init__(self, count: int, size: int, first: bytes = b"") -> None:
        self.count, self.size, self.first, self.sent = count, size, first, 0

    async def __aiter__(self):
        if self.first:
            yield self.first
        for _ in range(self.count):
            self.sent += 1
            yield b" " * self.size


@pytest.fixture
async def small(settings):
    async with serve(settings.with_overrides(max_body_bytes=LIMIT)) as http:
        yield http


# --- the setting ---------------------------------------------------------------------------------

def test_the_limit_is_one_mib_by_default_and_read_from_the_environment():
    assert Settings.from_env({}).max_body_bytes == 1024 * 1024
    assert Settings.from_env({"MAX_BODY_BYTES": "65536"}).max_body_bytes == 65536


@pytest.mark.parametrize(("raw", "message"), [
    ("1MB", "MAX_BODY_BYTES must be a whole number"),
    ("100", "MAX_BODY_BYTES must be at least 1024"),
])
def test_a_malformed_limit_is_refused_with_the_name(raw, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({"MAX_BODY_BYTES": raw})


# --- Content-Length over the limit: refused before anything is read --------------------------------

async def test_a_json_sign_in_over_the_limit_is_413_and_signs_nobody_in(small, conn, world):
    response = await small.post("/api/login", content=login_body(LIMIT + 1),
                                headers={"Content-Type": "application/json"})
    assert_too_large(response)
    assert "x-request-id" in response.headers  # inside the observability middleware
    assert not signed_in_ever(conn)


async def test_a_body_of_exactly_the_limit_is_read(small, conn, world):
    response = await small.post("/api/login", content=login_body(LIMIT),
                                headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    assert signed_in_ever(conn)


async def test_the_default_limit_holds_for_the_stock_entry_parser(client, world):
    staff = await bearer(client, "staffer")
    response = await client.post("/api/admin/inventory/parse-entry", headers=staff,
                                 json={"text": "5 Paracetamol lot L1 exp 01/2029\n" * 40_000})
    assert_too_large(response, 1024 * 1024)
    small = await client.post("/api/admin/inventory/parse-entry", headers=staff,
                              json={"text": "5 Paracetamol lot L1 exp 01/2029"})
    assert small.status_code == 200, small.text


async def test_a_form_over_the_limit_is_413_and_signs_nobody_in(small, conn, world):
    page = await small.get("/login", headers=HTML)
    csrf = csrf_of(page.text)
    fields = {"username": "cust_1", "password": PASSWORD, "csrf_token": csrf}
    response = await small.post("/login", headers=HTML, data={**fields, "next": "/" + "a" * LIMIT})
    assert_too_large(response)  # a browser gets the JSON shape too
    assert "set-cookie" not in response.headers
    assert not signed_in_ever(conn)
    assert (await small.post("/login", data=fields)).status_code == 303  # the same form, small


async def test_a_multipart_body_over_the_limit_is_413(small, conn, world):
    response = await small.post("/login", data={"username": "cust_1", "password": PASSWORD},
                                files={"attachment": ("big.bin", b"\0" * (2 * LIMIT), "application/octet-stream")})
    assert_too_large(response)
    assert not signed_in_ever(conn)


async def test_every_method_and_route_is_held_to_the_limit(small):
    for method, path in (("PUT", "/api/cart/items/1"), ("PATCH", "/api/admin/products/1"),
                         ("DELETE", "/api/cart"), ("POST", "/api/no-such-route"), ("GET", "/health")):
        response = await small.request(method, path, content=b"x" * (LIMIT + 1))
        assert_too_large(response)


# --- no Content-Length, or a false one: counted while reading ---------------------------------------

async def test_a_chunked_body_over_the_limit_is_cut_while_reading(small, conn, world):
    body = Chunks(count=1000, size=1024, first=json.dumps({"username": "cust_1", "password": PASSWORD}).encode())
    response = await small.post("/api/login", content=body, headers={"Content-Type": "application/json"})
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in response.request.headers
    assert_too_large(response)
    assert body.sent <= LIMIT // 1024 + 1  # reading stopped at the limit, not at the end
    assert not signed_in_ever(conn)


async def test_a_chunked_body_under_the_limit_is_read(small, conn, world):
    body = Chunks(count=2, size=1024, first=json.dumps({"username": "cust_1", "password": PASSWORD}).encode())
    response = await small.post("/api/login", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text


async def test_a_chunked_form_over_the_limit_is_413(small, conn, world):
    body = Chunks(count=100, size=1024, first=b"username=cust_1&password=" + PASSWORD.encode() + b"&next=")
    response = await small.post("/login", content=body, headers={
        **HTML, "Content-Type": "application/x-www-form-urlencoded"})
    assert_too_large(response)
    assert body.sent <= LIMIT // 1024 + 1
    assert not signed_in_ever(conn)


async def test_a_content_length_smaller_than_the_body_does_not_lift_the_limit(small, conn, world):
    body = Chunks(count=100, size=1024, first=json.dumps({"username": "cust_1", "password": PASSWORD}).encode())
    response = await small.post("/api/login", content=body,
                                headers={"Content-Type": "application/json", "Content-Length": "60"})
    assert response.request.headers["content-length"] == "60"
    assert_too_large(response)
    assert body.sent <= LIMIT // 1024 + 1
    assert not signed_in_ever(conn)


# --- over real HTTP -------------------------------------------------------------------------------

def test_over_tcp_a_declared_and_a_chunked_body_over_the_limit_are_413(settings, conn, world):
    def chunks():
        yield json.dumps({"username": "cust_1", "password": PASSWORD}).encode()
        for _ in range(8):
            yield b" " * 1024

    with live_server(settings.with_overrides(max_body_bytes=LIMIT)) as url, \
            httpx.Client(base_url=url, timeout=10) as http:
        assert_too_large(http.post("/api/login", content=login_body(2 * LIMIT),
                                   headers={"Content-Type": "application/json"}))
        chunked = http.post("/api/login", content=chunks(), headers={"Content-Type": "application/json"})
        assert chunked.request.headers.get("transfer-encoding") == "chunked"
        assert_too_large(chunked)
        assert not signed_in_ever(conn)
        ok = http.post("/api/login", content=login_body(LIMIT), headers={"Content-Type": "application/json"})
        assert ok.status_code == 200, ok.text
