"""A live Stockline server on a free port (uvicorn in a thread, on the test database) and
Debian's Chromium driven by Playwright, for the browser tests."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from stockline.app import create_app
from stockline.config import Settings

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = REPO / "test-output" / "screenshots"


@contextmanager
def live_server(settings: Settings) -> Iterator[str]:
    """The app served over real HTTP on 127.0.0.1; yields its base URL."""
    # idle keep-alive connections as `stockline serve` keeps them: the browser closes first
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=0, loop="asyncio",
                            log_level="warning", lifespan="on", timeout_keep_alive=settings.keep_alive_seconds)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def screenshot(page, name: str) -> Path:
    """Save the whole page as test-output/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("domcontentloaded")


HTML = {"Accept": "text/html"}


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


async def sign_in_by_form(client, username: str, password: str) -> str:
    """Sign `client` in through the form; returns the CSRF token of its session."""
    login = await client.get("/login", headers=HTML)
    response = await client.post("/login", data={"username": username, "password": password,
                                                 "csrf_token": csrf_of(login.text)})
    assert response.status_code == 303, response.text
    return csrf_of((await client.get("/account/password", headers=HTML)).text)
