"""Domain errors and the one JSON error shape.

Services raise `DomainError` subclasses; each carries its HTTP status and a stable code.
`install_error_handlers` renders them, and every framework error (404, 405, 422, 500), as
`{"error": {"code": ..., "message": ..., "details": ...}}` — never a stack trace or
database text — and makes the OpenAPI document say so (`document_errors`).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from psycopg_pool import PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class StocklineError(Exception):
    """Base of every error Stockline raises on purpose."""


class ConfigError(StocklineError):
    """A setting is missing or malformed."""


class DomainError(StocklineError):
    status: int = 400
    code: str = "bad_request"

    def __init__(self, message: str, *, details: Any = None, code: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = headers
        if code is not None:
            self.code = code


class ValidationFailed(DomainError):
    status, code = 422, "validation_error"


class Unauthorized(DomainError):
    status, code = 401, "unauthorized"


class Forbidden(DomainError):
    status, code = 403, "forbidden"


class NotFound(DomainError):
    status, code = 404, "not_found"


class Conflict(DomainError):
    status, code = 409, "conflict"


class TooManyRequests(DomainError):
    status, code = 429, "too_many_requests"


class ServiceUnavailable(DomainError):
    status, code = 503, "service_unavailable"


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def error_response(status: int, code: str, message: str, details: Any = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


def _answer(request: Request, status: int, code: str, message: str, details: Any = None,
            headers: dict[str, str] | None = None) -> Response:
    """JSON, or the web UI's error page for a browser asking for a page (not /api)."""
    metrics = getattr(request.app.state, "metrics", None)
    if metrics is not None:
        metrics.errors.labels(str(status), code).inc()
    html_page = getattr(request.app.state, "html_error_page", None)
    if (html_page is not None and not request.url.path.startswith("/api")
            and "text/html" in request.headers.get("accept", "")):
        return html_page(request, status, code, message, headers)
    return error_response(status, code, message, details, headers)


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    # the offending input is left out on purpose: it may be a password
    return [
        {"loc": [str(part) for part in err.get("loc", ())], "message": err.get("msg", ""),
         "type": err.get("type", "")}
        for err in exc.errors()
    ]


async def _domain_error(request: Request, exc: DomainError) -> Response:
    return _answer(request, exc.status, exc.code, exc.message, exc.details, exc.headers)


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    if exc.status_code == 404 and message == "Not Found":
        message = f"No route matches {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"Method {request.method} is not allowed on {request.url.path}"
    return _answer(request, exc.status_code, code, message, None, getattr(exc, "headers", None))


async def _request_validation_error(request: Request, exc: RequestValidationError) -> Response:
    details = _validation_details(exc)
    first = details[0] if details else {"loc": [], "message": "invalid request"}
    where = ".".join(first["loc"][1:] or first["loc"]) or "request"
    return _answer(request, 422, "validation_error", f"Invalid {where}: {first['message']}", details)


async def _database_unavailable(request: Request, exc: Exception) -> Response:
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path,
                type(exc).__name__)
    return _answer(request, 503, "database_unavailable",
                          "The database is not answering; please retry shortly",
                          headers={"Retry-After": "2"})


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    request_id = request.scope.get("state", {}).get("request_id")
    log.exception("unhandled error on %s %s (request %s)", request.method, request.url.path,
                  request_id)
    return _answer(request, 500, "internal_error", "Internal server error",
                          {"request_id": request_id})


ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "description": "The one shape of every 4xx and 5xx answer",
    "type": "object",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {"error": {
        "type": "object",
        "required": ["code", "message", "details"],
        "additionalProperties": False,
        "properties": {
            "code": {"type": "string", "description": "stable, for programs: validation_error, not_found"},
            "message": {"type": "string", "description": "one sentence, for people"},
            "details": {"description": "more, by code (a validation error's fields); null when none"},
        },
    }},
}
_ERROR_REF = {"$ref": "#/components/schemas/Error"}
# Answers any operation behind the bearer scheme may give, whatever its route documents
_SIGNED_IN_ERRORS = {
    "401": "not signed in, or the token is not valid (codes unauthorized, invalid_token, token_expired)",
    "403": "signed in, but not allowed: another role's route, a password change due "
           "(password_change_required), or a cookie request without its CSRF token (csrf_failed)",
}
_BODY_ERRORS = {"400": "the body could not be read as the JSON it says it is (bad_request)",
                "413": "the body is larger than MAX_BODY_BYTES (payload_too_large)"}


def document_errors(openapi: dict[str, Any]) -> dict[str, Any]:
    """`openapi` (FastAPI's document, changed in place and returned) with every 4xx and 5xx
    answer in the one error shape (FastAPI documents its 422 as {"detail": [...]}, which this
    app never sends), and the 401/403 of signed-in routes and the 413 of a body listed."""
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    if "Error" in schemas:
        return openapi
    schemas["Error"] = ERROR_SCHEMA
    for operations in openapi.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            extra = {**(_SIGNED_IN_ERRORS if operation.get("security") else {}),
                     **(_BODY_ERRORS if "requestBody" in operation else {})}
            for status, description in extra.items():
                responses.setdefault(status, {"description": description})
            for status, response in responses.items():
                if status[:1] in ("4", "5"):
                    response["content"] = {"application/json": {"schema": _ERROR_REF}}
    if "HTTPValidationError" not in json.dumps(openapi["paths"]):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
    return openapi


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _request_validation_error)
    app.add_exception_handler(PoolTimeout, _database_unavailable)
    app.add_exception_handler(psycopg.OperationalError, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected_error)
    build_openapi = app.openapi  # FastAPI's, which builds the document once and keeps it

    def openapi() -> dict[str, Any]:
        return document_errors(build_openapi())

    app.openapi = openapi  # type: ignore[method-assign]
