"""CORS_ORIGINS: Starlette's CORSMiddleware outside every other layer (even the 500
handler), so preflights, errors and 500s all carry Access-Control-Allow-Origin for a listed
origin, and nothing does for an origin not listed. Independent of PHARMASSIST_COMPAT."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from stockline.config import Settings
from stockline.errors import ConfigError
from tests.conftest import serve
from tests.ordering_world import bearer

FRONTEND = "http://localhost:3000"


def _crashing_route(app: FastAPI) -> None:
    @app.get("/api/crash")
    async def crash() -> None:
        raise RuntimeError("boom")


@pytest.fixture
async def api(settings, world):
    async with serve(settings.with_overrides(cors_origins=(FRONTEND, "https://shop.example.com")),
                     raise_app_exceptions=False, app_setup=_crashing_route) as http:
        yield http


async def test_a_preflight_is_answered_with_the_headers(api):
    response = await api.options("/api/cart", headers={
        "Origin": FRONTEND, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == FRONTEND
    assert {"GET", "POST", "PUT", "PATCH", "DELETE"} <= {
        m.strip() for m in response.headers["access-control-allow-methods"].split(",")}
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    assert "access-control-allow-credentials" not in response.headers


async def test_errors_and_500s_carry_the_origin(api):
    origin = {"Origin": FRONTEND}
    customer = await bearer(api, "cust_1")
    answers = {
        401: await api.get("/api/cart", headers=origin),
        403: await api.get("/api/admin/inventory", headers=origin | customer),
        404: await api.get("/api/no-such-thing", headers=origin),
        409: await api.post("/api/cart", headers=origin | customer, json={"sku_id": 2, "quantity": 31}),
        500: await api.get("/api/crash", headers=origin),
        200: await api.get("/api/products", headers=origin),
    }
    for status, response in answers.items():
        assert response.status_code == status
        assert response.headers.get("access-control-allow-origin") == FRONTEND, status
        assert "x-request-id" in response.headers  # still inside the other outer layers' care


async def test_an_origin_not_listed_gets_no_cors_headers(api):
    response = await api.get("/api/products", headers={"Origin": "http://evil.example"})
    assert response.status_code == 200 and "access-control-allow-origin" not in response.headers
    preflight = await api.options("/api/cart", headers={"Origin": "http://evil.example",
                                                        "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 400 and "access-control-allow-origin" not in preflight.headers


async def test_without_cors_origins_there_are_no_cors_headers(client, world):
    response = await client.get("/api/products", headers={"Origin": FRONTEND})
    assert "access-control-allow-origin" not in response.headers


async def test_a_star_answers_any_origin_without_credentials(settings, world):
    async with serve(settings.with_overrides(cors_origins=("*",))) as http:
        response = await http.get("/api/cart", headers={"Origin": "http://anywhere.example"})
        assert response.status_code == 401 and response.headers["access-control-allow-origin"] == "*"


def test_settings_refuse_a_star_with_credentials_and_malformed_origins():
    settings = Settings.from_env({"CORS_ORIGINS": "http://localhost:3000, https://shop.example.com/"})
    assert settings.cors_origins == ("http://localhost:3000", "https://shop.example.com")
    with pytest.raises(ConfigError, match="CORS_ALLOW_CREDENTIALS"):
        Settings.from_env({"CORS_ORIGINS": "*", "CORS_ALLOW_CREDENTIALS": "1"})
    for bad in ("localhost:3000", "http://x.example/path", "*, http://x.example"):
        with pytest.raises(ConfigError, match="CORS_ORIGINS"):
            Settings.from_env({"CORS_ORIGINS": bad})
    credentialed = Settings.from_env({"CORS_ORIGINS": "http://localhost:3000", "CORS_ALLOW_CREDENTIALS": "1"})
    assert credentialed.cors_allow_credentials
