"""The app skeleton: health, readiness, metrics, request ids, Server-Timing, error shape."""

from __future__ import annotations

import re

from fastapi import FastAPI, Query

from stockline.errors import Conflict
from tests.conftest import serve

ERROR_KEYS = {"code", "message", "details"}


def assert_error_shape(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == ERROR_KEYS
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert "Traceback" not in response.text
    return body["error"]


async def test_health_says_the_database_is_up(client):
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "up"}


async def test_ready_when_the_schema_is_applied(client):
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


async def test_ready_is_503_until_the_schema_is_applied(settings, empty_database):
    async with serve(settings.with_overrides(database_url=empty_database)) as http:
        error = assert_error_shape(await http.get("/ready"), 503, "not_ready")
        assert "customers" in error["details"]["missing_tables"]
        assert (await http.get("/health")).json()["database"] == "up"


async def test_health_is_200_and_ready_503_when_the_database_is_down(settings):
    unreachable = "postgresql://postgres@127.0.0.1:1/nothing?connect_timeout=1"
    async with serve(settings.with_overrides(database_url=unreachable)) as http:
        health = await http.get("/health")
        assert health.status_code == 200
        assert health.json() == {"status": "ok", "database": "down"}
        ready = await http.get("/ready")
        error = assert_error_shape(ready, 503, "not_ready")
        assert error["details"] == {"database": "down"}
        assert "127.0.0.1" not in ready.text


async def test_unknown_route_is_404_in_the_error_shape(client):
    assert_error_shape(await client.get("/api/no-such-thing"), 404, "not_found")


async def test_wrong_method_is_405_in_the_error_shape(client):
    assert_error_shape(await client.delete("/health"), 405, "method_not_allowed")


def _probe_routes(app: FastAPI) -> None:
    @app.get("/_probe/validated")
    async def validated(limit: int = Query(ge=1, le=200)) -> dict:
        return {"limit": limit}

    @app.get("/_probe/conflict")
    async def conflict() -> dict:
        raise Conflict("Batch AMX-1 already exists", details={"batch_no": "AMX-1"})

    @app.get("/_probe/crash")
    async def crash() -> dict:
        raise RuntimeError("secret internals: password=hunter2")


async def test_validation_errors_are_422_with_the_offending_field(settings):
    async with serve(settings, app_setup=_probe_routes) as http:
        error = assert_error_shape(await http.get("/_probe/validated?limit=abc"), 422,
                                   "validation_error")
        assert error["details"][0]["loc"] == ["query", "limit"]
        assert "limit" in error["message"]
        assert_error_shape(await http.get("/_probe/validated?limit=500"), 422, "validation_error")
        assert (await http.get("/_probe/validated?limit=5")).json() == {"limit": 5}


async def test_domain_errors_keep_their_status_code_and_details(settings):
    async with serve(settings, app_setup=_probe_routes) as http:
        error = assert_error_shape(await http.get("/_probe/conflict"), 409, "conflict")
        assert error["details"] == {"batch_no": "AMX-1"}


async def test_unexpected_errors_are_500_without_internals(settings):
    async with serve(settings, raise_app_exceptions=False, app_setup=_probe_routes) as http:
        response = await http.get("/_probe/crash")
        error = assert_error_shape(response, 500, "internal_error")
        assert "hunter2" not in response.text
        assert error["details"]["request_id"] == response.headers["x-request-id"]  # the log's id too


async def test_every_response_carries_a_request_id(client):
    generated = (await client.get("/health")).headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    echoed = await client.get("/health", headers={"X-Request-ID": "lb-1234.abc"})
    assert echoed.headers["x-request-id"] == "lb-1234.abc"
    hostile = await client.get("/health", headers={"X-Request-ID": "<script>" + "x" * 300})
    assert re.fullmatch(r"[0-9a-f]{32}", hostile.headers["x-request-id"])


async def test_server_timing_only_when_log_timing_is_on(settings, client):
    assert "server-timing" not in (await client.get("/ready")).headers
    async with serve(settings.with_overrides(log_timing=True)) as http:
        timing = (await http.get("/ready")).headers["server-timing"]
    match = re.fullmatch(r'app;dur=([\d.]+), db;dur=([\d.]+);desc="(\d+) queries"', timing)
    assert match, timing
    app_ms, db_ms, queries = float(match[1]), float(match[2]), int(match[3])
    assert 0 < db_ms <= app_ms  # /ready queries the database inside the request
    assert queries == 1


async def test_metrics_count_requests_by_route_template_and_status(client):
    await client.get("/health")
    await client.get("/health")
    await client.get("/nowhere/123")
    text = (await client.get("/metrics")).text
    assert 'stockline_http_requests_total{method="GET",route="/health",status="200"} 2.0' in text
    assert 'route="<unmatched>",status="404"' in text
    assert "/nowhere/123" not in text
    assert 'stockline_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/health"}' in text
    assert re.search(r"^stockline_db_pool_max 5\.0$", text, re.MULTILINE)
    assert re.search(r"^stockline_db_pool_connections \d", text, re.MULTILINE)
    assert 'stockline_http_errors_total{code="not_found",status="404"} 1.0' in text
    for failures in ("connect_errors", "connections_lost", "pool_timeouts", "connections_cut", "pool_drains"):
        assert re.search(rf"^stockline_db_{failures}_total 0\.0$", text, re.MULTILINE), failures


async def test_openapi_docs_are_served(client):
    assert (await client.get("/openapi.json")).json()["info"]["title"] == "Stockline"


async def test_openapi_documents_every_error_in_the_one_shape(client):
    document = (await client.get("/openapi.json")).json()
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["error"] and set(error["properties"]["error"]["required"]) == ERROR_KEYS
    assert "HTTPValidationError" not in document["components"]["schemas"]  # FastAPI's {"detail": ...}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            for status, response in responses.items():
                if status[0] in "45":
                    assert response["content"] == {"application/json": {"schema": {
                        "$ref": "#/components/schemas/Error"}}}, (method, path, status)
            if operation.get("security"):
                assert {"401", "403"} <= set(responses), (method, path)
            if "requestBody" in operation:
                assert {"400", "413", "422"} <= set(responses), (method, path)
