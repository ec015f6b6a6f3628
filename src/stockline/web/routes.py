"""Puts the web UI into the app: its page routers, /static, the sign-in redirect and the
HTML error page (the JSON API keeps its JSON errors)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from stockline.auth import cookies
from stockline.web import oidc_sign_in, sign_in
from stockline.web.customer import routes as customer_pages
from stockline.web.render import render
from stockline.web.session import PageRedirect
from stockline.web.staff import routes as staff_pages

_TITLES = {400: "That did not work", 403: "Not allowed", 404: "Page not found", 409: "Conflict",
           422: "Please check what you entered", 429: "Too many attempts",
           503: "The database is not answering", 500: "Something went wrong on our side"}


def _error_page(request: Request, status: int, code: str, message: str,
                headers: dict[str, str] | None) -> HTMLResponse:
    response = render(request, "error.html", {"status": status, "code": code, "message": message,
                                               "title": _TITLES.get(status, "That did not work")},
                      status_code=status)
    for name, value in (headers or {}).items():
        if name.lower() != "www-authenticate":
            response.headers[name] = value
    return response


async def _page_redirect(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageRedirect)
    response = RedirectResponse(exc.location, status_code=303)
    if exc.sign_out:
        cookies.clear_session(response)
    return response


def install(app: FastAPI) -> None:
    for pages in (sign_in, oidc_sign_in, customer_pages, staff_pages):
        app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).with_name("static")), name="static")
    app.add_exception_handler(PageRedirect, _page_redirect)
    app.state.html_error_page = _error_page
