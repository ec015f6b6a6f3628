"""Production defaults: API docs only when API_DOCS is on (and then with no third-party
asset), /metrics behind METRICS_TOKEN, security headers on every response, and Secure
`__Host-` cookies over https (the request's own, a trusted proxy's, or PUBLIC_URL's)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from stockline import security_headers
from stockline.app import create_app
from stockline.config import Settings
from stockline.errors import ConfigError
from tests.ordering_world import PASSWORD
from tests.test_http_basics import assert_error_shape
from tests.web_support import HTML, csrf_of, sign_in_by_form

TEMPLATES = Path(__file__).resolve().parents[1] / "src" / "stockline" / "web" / "templates"
METRICS_TOKEN = "scrape-me-0123456789abcdef"
UNTRUSTED_PEER = ("203.0.113.9", 40000)
SECURITY_HEADERS = {"content-security-policy", "x-content-type-options", "referrer-policy",
                    "x-frame-options"}


@asynccontextmanager
async def serve_as(settings: Settings, *, base_url: str = "http://stockline.test",
                   peer: tuple[str, int] = ("127.0.0.1", 50000), app_setup=None,
                   ) -> AsyncIterator[httpx.AsyncClient]:
    """conftest.serve with a chosen base URL (its scheme is the request's) and peer address."""
    app = create_app(settings)
    if app_setup is not None:
        app_setup(app)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=peer)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client


def set_cookies(response: httpx.Response) -> dict[str, str]:
    """{name: the whole Set-Cookie line} of a response."""
    return {line.split("=", 1)[0]: line for line in response.headers.get_list("set-cookie")}


def assert_host_cookie(line: str) -> None:
    """What a browser demands of a `__Host-` cookie: Secure, Path=/ and no Domain."""
    assert line.startswith("__Host-"), line
    attributes = [part.strip().lower() for part in line.split(";")[1:]]
    assert "secure" in attributes and "path=/" in attributes, line
    assert not any(part.startswith("domain") for part in attributes), line
    assert "httponly" in attributes and "samesite=lax" in attributes, line


# --- (a) API docs ------------------------------------------------------------------------------

class _Page(HTMLParser):
    """Every URL a page makes the browser load, and its inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        self.urls += [value for name, value in attrs if name in ("src", "href", "srcset", "data", "poster")
                      and value]
        assert not any(name.startswith("on") for name in named), f"inline handler on <{tag}>"
        assert "style" not in named, f"inline style on <{tag}>"
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts.append(data)


def test_api_docs_are_on_outside_production_and_off_in_it_unless_asked():
    assert Settings.from_env({"STOCKLINE_ENV": "dev"}).serves_api_docs
    assert Settings.from_env({"STOCKLINE_ENV": "test"}).serves_api_docs
    assert not Settings.from_env({}).serves_api_docs  # production is the default environment
    assert Settings.from_env({"API_DOCS": "1"}).serves_api_docs
    assert not Settings.from_env({"STOCKLINE_ENV": "dev", "API_DOCS": "0"}).serves_api_docs
    assert Settings(env="test").serves_api_docs and not Settings(env="production").serves_api_docs
    with pytest.raises(ConfigError, match="API_DOCS must be 1 or 0"):
        Settings.from_env({"API_DOCS": "sometimes"})


async def test_the_docs_page_loads_only_the_apps_own_assets(client):
    page = await client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    parsed = _Page()
    parsed.feed(page.text)
    assert parsed.inline_scripts == []
    assert len(parsed.urls) >= 4  # icon, stylesheet, Swagger UI's bundle, the initialiser
    for url in parsed.urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc and url.startswith("/"), f"third-party URL {url}"
    expected = {"javascript": 2, "text/css": 1, "image/png": 1}
    seen = {kind: 0 for kind in expected}
    for url in parsed.urls:
        asset = await client.get(url)
        assert asset.status_code == 200, url
        kind = next(kind for kind in expected if kind in asset.headers["content-type"])
        seen[kind] += 1
        assert set(asset.headers) >= SECURITY_HEADERS
    assert seen == expected
    bundle = await client.get("/docs/assets/swagger-ui-bundle.js")
    assert "SwaggerUIBundle" in bundle.text and len(bundle.content) > 500_000
    init = await client.get("/docs/init.js")
    assert "SwaggerUIBundle(" in init.text and "validatorUrl: null" in init.text
    spec = await client.get("/openapi.json")
    assert spec.status_code == 200 and spec.json()["info"]["title"] == "Stockline"


@pytest.mark.parametrize("path", ["/docs", "/openapi.json", "/docs/init.js", "/docs/assets/swagger-ui.css",
                                  "/docs/assets/swagger-ui-bundle.js", "/redoc", "/docs/oauth2-redirect"])
async def test_api_docs_are_404_in_production(settings, path):
    async with serve_as(settings.with_overrides(env="production")) as http:
        assert_error_shape(await http.get(path), 404, "not_found")
    async with serve_as(settings.with_overrides(api_docs=False)) as http:
        assert_error_shape(await http.get(path), 404, "not_found")


async def test_api_docs_can_be_turned_on_in_production(settings):
    async with serve_as(settings.with_overrides(env="production", api_docs=True)) as http:
        assert (await http.get("/docs")).status_code == 200
        assert (await http.get("/openapi.json")).json()["info"]["title"] == "Stockline"


# --- (b) /metrics ------------------------------------------------------------------------------

def test_a_metrics_token_is_read_and_checked():
    assert Settings.from_env({"METRICS_TOKEN": METRICS_TOKEN}).metrics_token == METRICS_TOKEN
    assert METRICS_TOKEN not in repr(Settings.from_env({"METRICS_TOKEN": METRICS_TOKEN}))
    for bad in ("short", "has a space in it somewhere", "ünïcödé-is-not-a-header-token"):
        with pytest.raises(ConfigError, match="METRICS_TOKEN must be at least 16 visible ASCII"):
            Settings.from_env({"METRICS_TOKEN": bad})


async def test_metrics_are_open_in_dev_and_test_without_a_token(settings):
    for env in ("dev", "test"):
        async with serve_as(settings.with_overrides(env=env)) as http:
            response = await http.get("/metrics")
            assert response.status_code == 200 and "stockline_http_requests_total" in response.text


async def test_metrics_are_not_served_in_production_without_a_token(settings):
    async with serve_as(settings.with_overrides(env="production")) as http:
        error = assert_error_shape(await http.get("/metrics"), 404, "not_found")
        assert error["message"] == "No route matches GET /metrics"  # as if there were no such route
        assert (await http.get("/metrics", headers={"Authorization": "Bearer anything"})).status_code == 404


@pytest.mark.parametrize("env", ["production", "test"])
async def test_with_a_token_metrics_answer_only_its_bearer(settings, env):
    async with serve_as(settings.with_overrides(env=env, metrics_token=METRICS_TOKEN)) as http:
        refused = [
            {},
            {"Authorization": "Bearer"},
            {"Authorization": "Bearer wrong-token-0123456789"},
            {"Authorization": f"Bearer {METRICS_TOKEN}x"},
            {"Authorization": f"Bearer {METRICS_TOKEN[:-1]}"},
            {"Authorization": f"Basic {METRICS_TOKEN}"},
            {"Authorization": METRICS_TOKEN},
            {"Authorization": "Bearer t\u00f6ken-0123456789abcdef".encode("latin-1")},  # not a 500
        ]
        for headers in refused:
            response = await http.get("/metrics", headers=headers)
            assert_error_shape(response, 401, "unauthorized")
            assert response.headers["www-authenticate"] == "Bearer"
            assert "stockline_http" not in response.text
        for scheme in ("Bearer", "bearer"):
            allowed = await http.get("/metrics", headers={"Authorization": f"{scheme} {METRICS_TOKEN}"})
            assert allowed.status_code == 200 and "stockline_http_requests_total" in allowed.text


# --- (c) security headers ----------------------------------------------------------------------

def test_the_content_security_policy_allows_no_inline_script_or_style():
    directives = dict(part.strip().split(" ", 1) for part in security_headers.CONTENT_SECURITY_POLICY.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["default-src"] == "'self'" and directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'" and directives["base-uri"] == "'none'"
    assert "unsafe" not in security_headers.CONTENT_SECURITY_POLICY


def _template_problems() -> list[str]:
    problems = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text()
        name = path.relative_to(TEMPLATES)
        problems += [f"{name}: inline script" for _ in re.finditer(r"<script(?![^>]*\bsrc=)[^>]*>", text)]
        problems += [f"{name}: {m.group(0)!r}" for m in re.finditer(r"\s(on[a-z]+|style)\s*=", text)]
        problems += [f"{name}: <style>" for _ in re.finditer(r"<style\b", text)]
        problems += [f"{name}: javascript: URL" for _ in re.finditer(r"javascript:", text, re.IGNORECASE)]
    return problems


def test_no_template_needs_inline_script_or_style():
    assert _template_problems() == []


def _failing_route(app: FastAPI) -> None:
    @app.get("/test-boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    @app.get("/test-own-policy")
    async def own_policy() -> PlainTextResponse:
        return PlainTextResponse("mine", headers={"Content-Security-Policy": "default-src 'none'"})


def assert_security_headers(response: httpx.Response, *, hsts: bool) -> None:
    where = f"{response.request.method} {response.request.url.path} ({response.status_code})"
    assert response.headers.get("content-security-policy") == security_headers.CONTENT_SECURITY_POLICY, where
    assert response.headers.get("x-content-type-options") == "nosniff", where
    assert response.headers.get("referrer-policy") == "same-origin", where
    assert response.headers.get("x-frame-options") == "DENY", where
    assert ("strict-transport-security" in response.headers) is hsts, where
    if hsts:
        assert response.headers["strict-transport-security"] == "max-age=31536000", where
    for name in SECURITY_HEADERS:
        assert len(response.headers.get_list(name)) == 1, f"{where}: {name} twice"


async def _every_kind_of_response(http: httpx.AsyncClient) -> list[httpx.Response]:
    return [
        await http.get("/login", headers=HTML),  # a page
        await http.get("/api/products"),  # API JSON
        await http.get("/health"),
        await http.get("/metrics"),
        await http.get("/static/app.css"),  # a static file
        await http.get("/static/nothing.css"),  # a static 404
        await http.get("/docs"),
        await http.get("/no-such-page", headers=HTML),  # the HTML error page
        await http.get("/api/no-such-thing"),  # the JSON 404
        await http.delete("/health"),  # 405
        await http.get("/api/products/not-a-number"),  # 422
        await http.post("/api/login", content=b"x" * 2048,  # 413 from the body limit
                        headers={"Content-Type": "application/json"}),
        await http.get("/", headers=HTML),  # a redirect
        await http.head("/static/app.js"),
        await http.get("/test-boom"),  # 500 from the outermost error handler
    ]


async def test_every_response_carries_the_security_headers(settings, world):
    async with serve_as(settings.with_overrides(max_body_bytes=1024), app_setup=_failing_route) as http:
        responses = await _every_kind_of_response(http)
        assert {r.status_code for r in responses} >= {200, 303, 404, 405, 413, 422, 500}
        for response in responses:
            assert_security_headers(response, hsts=False)
        csrf = await sign_in_by_form(http, "cust_1", PASSWORD)
        for response in (await http.get("/catalog", headers=HTML), await http.get("/api/cart"),
                         await http.post("/logout", data={"csrf_token": csrf})):
            assert_security_headers(response, hsts=False)


async def test_a_routes_own_policy_is_kept(settings):
    async with serve_as(settings, app_setup=_failing_route) as http:
        response = await http.get("/test-own-policy")
        assert response.headers.get_list("content-security-policy") == ["default-src 'none'"]
        assert response.headers["x-frame-options"] == "DENY"


async def test_hsts_over_https_and_whenever_the_public_url_is_https(settings, world):
    async with serve_as(settings.with_overrides(max_body_bytes=1024), base_url="https://stockline.test",
                        app_setup=_failing_route) as http:
        for response in await _every_kind_of_response(http):
            assert_security_headers(response, hsts=True)
    async with serve_as(settings.with_overrides(public_url="https://orders.example.com")) as http:
        assert_security_headers(await http.get("/health"), hsts=True)
    async with serve_as(settings.with_overrides(public_url="http://localhost:5000")) as http:
        assert_security_headers(await http.get("/health"), hsts=False)


async def test_hsts_believes_x_forwarded_proto_only_from_a_trusted_proxy(settings):
    behind_proxy = settings.with_overrides(trusted_proxies=("127.0.0.1",))
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}
    async with serve_as(behind_proxy) as http:
        assert_security_headers(await http.get("/health", headers=forwarded), hsts=True)
        assert_security_headers(await http.get("/no-such-page", headers=forwarded | HTML), hsts=True)
        assert_security_headers(await http.get("/health"), hsts=False)
    async with serve_as(behind_proxy, peer=UNTRUSTED_PEER) as http:
        assert_security_headers(await http.get("/health", headers=forwarded), hsts=False)
    async with serve_as(settings) as http:  # no TRUSTED_PROXIES: nobody is believed
        assert_security_headers(await http.get("/health", headers=forwarded), hsts=False)


# --- (d) cookies -------------------------------------------------------------------------------

def test_the_public_url_is_an_origin():
    assert Settings.from_env({"PUBLIC_URL": "HTTPS://Orders.Example.com/"}).public_url == "https://orders.example.com"
    assert Settings.from_env({"PUBLIC_URL": "https://orders.example.com"}).public_https
    assert not Settings.from_env({"PUBLIC_URL": "http://localhost:5000"}).public_https
    assert not Settings.from_env({}).public_https
    for bad in ("orders.example.com", "ftp://orders.example.com", "https://", "https://example.com:http"):
        with pytest.raises(ConfigError, match="PUBLIC_URL must be an http:// or https:// URL"):
            Settings.from_env({"PUBLIC_URL": bad})
    with pytest.raises(ConfigError, match="PUBLIC_URL must be only scheme, host and port"):
        Settings.from_env({"PUBLIC_URL": "https://example.com/stockline"})


async def test_over_https_the_cookies_are_secure_host_cookies_and_everything_works(settings, world):
    async with serve_as(settings, base_url="https://stockline.test") as http:
        login = await http.get("/login", headers=HTML)
        assert list(set_cookies(login)) == ["__Host-stockline_csrf"]
        assert_host_cookie(set_cookies(login)["__Host-stockline_csrf"])
        signed_in = await http.post("/login", data={"username": "cust_1", "password": PASSWORD,
                                                    "csrf_token": csrf_of(login.text)})
        assert signed_in.status_code == 303, signed_in.text
        cookies = set_cookies(signed_in)
        assert "__Host-stockline_session" in cookies and "stockline_session" not in cookies
        for line in cookies.values():
            assert_host_cookie(line)

        csrf = csrf_of((await http.get("/account/password", headers=HTML)).text)
        assert (await http.get("/api/me")).json()["username"] == "cust_1"  # the session, by its __Host- name
        refused = await http.post("/api/cart", json={"sku_id": 3, "quantity": 1})
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf_failed"
        added = await http.post("/api/cart", json={"sku_id": 3, "quantity": 1}, headers={"X-CSRF-Token": csrf})
        assert added.status_code == 200, added.text
        form = await http.post("/cart/clear", data={"csrf_token": csrf})  # a page form, CSRF-checked
        assert form.status_code == 303, form.text
        flash = set_cookies(form)["__Host-stockline_flash"]
        assert_host_cookie(flash)
        cart = await http.get("/cart", headers=HTML)
        assert cart.status_code == 200 and 'role="status"' in cart.text  # the flash, read by its name
        assert set_cookies(cart)["__Host-stockline_flash"].startswith('__Host-stockline_flash="";')
        assert (await http.get("/api/cart")).json()["items"] == []

        signed_out = await http.post("/logout", data={"csrf_token": csrf})
        assert signed_out.status_code == 303
        deleted = set_cookies(signed_out)["__Host-stockline_session"]
        assert deleted.startswith('__Host-stockline_session="";') and "Secure" in deleted
        assert (await http.get("/api/me")).status_code == 401


async def test_over_https_a_cookie_without_the_prefix_is_not_read(settings, world):
    async with serve_as(settings) as plain:
        token = (await plain.post("/api/login", json={"username": "cust_1", "password": PASSWORD})
                 ).json()["access_token"]
    async with serve_as(settings, base_url="https://stockline.test") as http:
        # e.g. planted over plain http, or by a sibling subdomain: it does not sign anyone in
        planted = await http.get("/api/me", headers={"Cookie": f"stockline_session={token}"})
        assert planted.status_code == 401
        assert (await http.get("/api/me", headers={"Cookie": f"__Host-stockline_session={token}"})
                ).json()["username"] == "cust_1"
        login = await http.get("/login", headers={"Cookie": "stockline_csrf=planted-token"} | HTML)
        forged = await http.post("/login", headers={"Cookie": "stockline_csrf=planted-token"},
                                 data={"username": "cust_1", "password": PASSWORD, "csrf_token": "planted-token"})
        assert forged.status_code == 403 and "__Host-stockline_session" not in set_cookies(forged)
        assert "__Host-stockline_csrf" in set_cookies(login)


async def _form_sign_in_by_hand(http: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, str]:
    """Sign in through the form sending cookies by hand (a client's jar keeps Secure cookies
    from a plain-http URL); returns the Set-Cookie lines of the sign-in."""
    login = await http.get("/login", headers=headers | HTML)
    csrf_name, csrf_line = next(iter(set_cookies(login).items()))
    csrf_value = csrf_line.split(";", 1)[0].split("=", 1)[1]
    signed_in = await http.post("/login", headers=headers | {"Cookie": f"{csrf_name}={csrf_value}"},
                                data={"username": "cust_1", "password": PASSWORD, "csrf_token": csrf_of(login.text)})
    assert signed_in.status_code == 303, signed_in.text
    return {csrf_name: csrf_line, **set_cookies(signed_in)}


async def test_behind_a_trusted_proxy_that_says_https_the_cookies_are_host_cookies(settings, world):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}
    async with serve_as(settings.with_overrides(trusted_proxies=("127.0.0.1",))) as http:
        cookies = await _form_sign_in_by_hand(http, forwarded)
        assert {"__Host-stockline_csrf", "__Host-stockline_session"} <= cookies.keys()
        for line in cookies.values():
            assert_host_cookie(line)
        session = cookies["__Host-stockline_session"].split(";", 1)[0]
        me = await http.get("/api/me", headers=forwarded | {"Cookie": session})
        assert me.json()["username"] == "cust_1"


async def test_a_forged_x_forwarded_proto_from_an_untrusted_peer_changes_nothing(settings, world):
    forwarded = {"X-Forwarded-Proto": "https"}
    for trusted, peer in ((("127.0.0.1",), UNTRUSTED_PEER), ((), ("127.0.0.1", 50000))):
        async with serve_as(settings.with_overrides(trusted_proxies=trusted), peer=peer) as http:
            cookies = await _form_sign_in_by_hand(http, forwarded)
            assert {"stockline_csrf", "stockline_session"} <= cookies.keys()
            assert not any(name.startswith("__Host-") for name in cookies)
            assert not any("secure" in line.lower().split("; ") for line in cookies.values())


async def test_a_public_https_url_makes_the_cookies_host_cookies_over_plain_http(settings, world):
    async with serve_as(settings.with_overrides(public_url="https://orders.example.com")) as http:
        cookies = await _form_sign_in_by_hand(http, {})
        assert {"__Host-stockline_csrf", "__Host-stockline_session"} <= cookies.keys()
        for line in cookies.values():
            assert_host_cookie(line)
        session = cookies["__Host-stockline_session"].split(";", 1)[0]
        assert (await http.get("/api/me", headers={"Cookie": session})).json()["username"] == "cust_1"


async def test_over_plain_http_the_cookies_keep_their_names_and_work(client, world):
    login = await client.get("/login", headers=HTML)
    assert list(set_cookies(login)) == ["stockline_csrf"]
    assert "secure" not in set_cookies(login)["stockline_csrf"].lower()
    csrf = await sign_in_by_form(client, "cust_1", PASSWORD)
    assert "stockline_session" in client.cookies
    assert (await client.get("/api/me")).json()["username"] == "cust_1"
    added = await client.post("/api/cart", json={"sku_id": 3, "quantity": 1}, headers={"X-CSRF-Token": csrf})
    assert added.status_code == 200
