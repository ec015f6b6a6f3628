"""Shared fixtures: one fresh database per test session on a real PostgreSQL (the embedded
server, or the server of TEST_DATABASE_URL), emptied after every test that touches it, and
an HTTP client over the real ASGI app."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from stockline import db
from stockline.app import create_app
from stockline.config import Settings, get_settings
from tests.ordering_world import PASSWORD, build_world

REPO = Path(__file__).resolve().parents[1]
TEST_SECRET = "test-secret-key-that-is-long-enough-for-hs256-signing"
_BROWSER_NOTE = pytest.StashKey[str]()


def _embedded_settings() -> Settings:
    data_dir = os.environ.get("STOCKLINE_DATA_DIR") or str(REPO / ".stockline")
    return Settings(env="test", data_dir=Path(data_dir).resolve())


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """A URL of the PostgreSQL server the suite runs on. An embedded server that the suite
    had to start is stopped again at the end."""
    external = os.environ.get("TEST_DATABASE_URL", "").strip()
    if external:
        yield external
        return
    settings = _embedded_settings()
    was_running = db.embedded_running(settings)
    url = db.start_embedded(settings)
    yield url
    if not was_running:
        db.stop_embedded(settings)


def create_database(server_url: str, prefix: str = "stockline_test") -> str:
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(db.with_database(server_url, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return db.with_database(server_url, name)


def drop_database(url: str) -> None:
    name = db.database_name(url)
    with psycopg.connect(db.with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def database_url(server_url: str) -> Iterator[str]:
    """A fresh, uniquely named database with the schema applied, for the whole session."""
    url = create_database(server_url)
    with db.connect(url) as conn:
        db.apply_schema(conn)
    yield url
    drop_database(url)


@pytest.fixture
def empty_database(server_url: str) -> Iterator[str]:
    """A brand-new database without the schema, dropped after the test."""
    url = create_database(server_url, prefix="stockline_empty")
    yield url
    drop_database(url)


def _truncate_all(url: str) -> None:
    with db.connect(url) as conn:
        # Audit_Log's triggers refuse TRUNCATE; a superuser's replica mode skips them (tests only)
        conn.execute("SET session_replication_role = replica")
        conn.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
            sql.SQL(", ").join(sql.Identifier(table) for table in db.TABLES)))
        conn.execute(db.SCHEMA_ROWS_SQL)  # the zero tax class, every SKU's default


@pytest.fixture
def clean_db(database_url: str) -> Iterator[str]:
    """The session database, emptied after the test (tests commit for real)."""
    yield database_url
    _truncate_all(database_url)


@pytest.fixture
def conn(clean_db: str) -> Iterator[psycopg.Connection]:
    """An autocommit connection to the session database, rows as dicts."""
    with psycopg.connect(clean_db, autocommit=True, row_factory=dict_row) as connection:
        yield connection


@pytest.fixture
def world(conn: psycopg.Connection) -> dict[str, int]:
    """The ordering world of tests/ordering_world.py in the test database (customers, users,
    SKUs, FEFO batches, pricing rules); the answer names its batch ids. A module with a world
    of its own (test_faults.py) defines its own `world`."""
    return build_world(conn)


@pytest.fixture
def settings(clean_db: str) -> Settings:
    return Settings(env="test", database_url=clean_db, secret_key=TEST_SECRET,
                    db_pool_min=1, db_pool_max=5)


@asynccontextmanager
async def serve(settings: Settings, *, raise_app_exceptions: bool = True,
                app_setup=None) -> AsyncIterator[httpx.AsyncClient]:
    """The real ASGI app, lifespan included, behind an httpx client."""
    app = create_app(settings)
    if app_setup is not None:
        app_setup(app)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
        async with httpx.AsyncClient(transport=transport, base_url="http://stockline.test") as client:
            yield client


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(settings) as http:
        yield http


@pytest.fixture(autouse=True)
def _fresh_settings_cache() -> Iterator[None]:
    """`get_settings()` is cached per process; tests that change the environment start clean."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def live_url(settings: Settings) -> Iterator[str]:
    """The app over real HTTP (uvicorn on a free port) on the test database."""
    from tests.web_support import live_server

    with live_server(settings) as url:
        yield url


@pytest.fixture
def path_ids(world, live_url) -> dict[str, int]:
    """The ids the page paths name: an order of customer 1 (placed through the API in the
    ordering world) and a batch."""
    token = httpx.post(f"{live_url}/api/login", json={"username": "cust_1", "password": PASSWORD}
                       ).json()["access_token"]
    placed = httpx.post(f"{live_url}/api/orders", json={"sku_id": 1, "quantity": 2},
                        headers={"Authorization": f"Bearer {token}"})
    assert placed.status_code == 201, placed.text
    return {"order_id": placed.json()["order_id"], "batch_id": world["a_later"]}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Where no Chromium can be had, the browser tests are left out, said in one line."""
    from tests.web_support import CHROMIUM

    if Path(CHROMIUM).exists():
        return
    needs_browser = [item for item in items if "browser" in getattr(item, "fixturenames", ())]
    if needs_browser:
        items[:] = [item for item in items if item not in needs_browser]
        config.hook.pytest_deselected(items=needs_browser)
        config.stash[_BROWSER_NOTE] = (f"{len(needs_browser)} browser tests skipped: no Chromium at "
                                       f"{CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)")


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    if _BROWSER_NOTE in config.stash:
        terminalreporter.write_line(config.stash[_BROWSER_NOTE])


@pytest.fixture
def browser() -> Iterator[object]:
    """Headless Chromium (Debian's, at CHROMIUM_PATH) driven by Playwright. One per test:
    Playwright's sync API holds an event loop on this thread while it runs, which the async
    tests after it must not meet."""
    from playwright.sync_api import sync_playwright

    from tests.web_support import CHROMIUM

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    """A fresh browser tab (its own cookies) at laptop size."""
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-GB",
                                  timezone_id="UTC")
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()
