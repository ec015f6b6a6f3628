"""Rendering pages: the Jinja2 environment, its filters, one-shot flash messages and the
redirect-after-post helper every form handler ends with."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from stockline.auth import cookies
from stockline.kernel.context import context_of
from stockline.kernel.inputs import same_secret

FLASH_COOKIE = "stockline_flash"
templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))


def money(value: Any) -> str:
    """'1,234.50' from a Decimal, a NUMERIC string or an int; '—' for nothing."""
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return f"{amount:,.2f}"


def quantity(value: Any) -> str:
    return "—" if value is None else f"{int(value):,}"


def _as_datetime(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def when(value: Any) -> str:
    """A moment in UTC, said so: '25 Nov 2026 10:47 UTC'."""
    moment = _as_datetime(value)
    return "—" if moment is None else moment.astimezone(UTC).strftime("%d %b %Y %H:%M UTC")


def day(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, datetime):
        value = value.astimezone(UTC).date()
    if not isinstance(value, date):
        value = date.fromisoformat(str(value)[:10])
    return value.strftime("%d %b %Y")


def days_until(value: Any) -> int | None:
    if value is None or value == "":
        return None
    target = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    return (target - datetime.now(UTC).date()).days


def page_url(request: Request, page: int) -> str:
    """This page's URL with its query kept and `page` replaced."""
    return f"{request.url.path}?{request.url.include_query_params(page=page).query}"


templates.env.filters.update(money=money, quantity=quantity, when=when, day=day, days_until=days_until)
templates.env.globals.update(page_url=page_url)


def _sign(request: Request, payload: str) -> str:
    key = context_of(request).secret_key.encode()
    return hmac.new(key, b"flash:" + payload.encode(), hashlib.sha256).hexdigest()[:32]


def _read_flashes(request: Request) -> list[dict[str, str]]:
    raw = request.cookies.get(cookies.cookie_name(request, FLASH_COOKIE), "")
    payload, _, signature = raw.rpartition(".")
    if not payload or not same_secret(signature, _sign(request, payload)):
        return []
    try:
        return json.loads(base64.urlsafe_b64decode(payload.encode()))
    except ValueError:
        return []


def render(request: Request, template: str, context: dict[str, Any] | None = None, *,
           status_code: int = 200) -> HTMLResponse:
    """A page: the template with the signed-in user, the CSRF token and any flash messages."""
    flashes = _read_flashes(request)
    page = {"user": getattr(request.state, "user", None), "csrf_token": cookies.csrf_token(request),
            "flashes": flashes, **(context or {})}
    response = templates.TemplateResponse(request, template, page, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    if flashes:
        response.delete_cookie(cookies.cookie_name(request, FLASH_COOKIE), path="/",
                               secure=cookies.secure_cookies(request))
    cookies.keep_csrf(request, response)
    return response


def local_path(target: str | None, default: str) -> str:
    """`target` if it is a path on this site (never another host: no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    return default if parts.scheme or parts.netloc else target


def redirect(request: Request, location: str, *, notice: str | None = None,
             error: str | None = None) -> RedirectResponse:
    """303 See Other (a reload never re-posts), carrying a one-shot message to the next page."""
    response = RedirectResponse(location, status_code=303)
    messages = [{"level": "notice", "text": notice}] if notice else []
    messages += [{"level": "error", "text": error}] if error else []
    if messages:
        payload = base64.urlsafe_b64encode(json.dumps(messages).encode()).decode()
        value = f"{payload}.{_sign(request, payload)}"
        response.set_cookie(cookies.cookie_name(request, FLASH_COOKIE), value, httponly=True, samesite="lax",
                            secure=cookies.secure_cookies(request), path="/")
    cookies.keep_csrf(request, response)
    return response


def form_text(form: Any, name: str) -> str:
    """A form field as stripped text ('' when absent or a file)."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""
