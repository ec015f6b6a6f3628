"""GET /api/products and /api/products/{sku_id}: stock figures, prices per caller,
filters, search, sorts, pagination, bad parameters, caching and ETags."""

from __future__ import annotations

import asyncio
import os
import re
from datetime import timedelta

import pytest

from stockline.auth import passwords
from stockline.catalog import service
from stockline.config import Settings
from stockline.kernel.catalog_version import Q as CATALOG_Q
from stockline.kernel.expiry import business_day
from stockline.response_cache import RedisResponseCache
from tests.conftest import serve

TODAY = business_day()
PASSWORD = "Customer@123"


@pytest.fixture
def catalog(conn):
    """Three listed SKUs (S1, S2 of Amoxicillin; S3 of Paracetamol) and two that are not."""
    conn.execute("INSERT INTO Customers (customer_id, name) VALUES (1, 'First Pharmacy'), (2, 'Second Pharmacy')")
    hashed = passwords.hash_password(PASSWORD)
    conn.execute("INSERT INTO Users (customer_id, username, password_hash, role) VALUES "
                 "(1, 'cust_1', %(h)s, 'customer'), (2, 'cust_2', %(h)s, 'customer'), "
                 "(NULL, 'staffer', %(h)s, 'staff')", {"h": hashed})
    conn.execute("INSERT INTO Products (product_id, name, manufacturer, is_active) VALUES "
                 "(1, 'Amoxicillin 500 mg capsules', 'Sandoz', true), (2, 'Paracetamol 500 mg tablets', 'Teva', true), "
                 "(3, 'Withdrawn 5 mg tablets', 'Teva', false)")
    conn.execute("INSERT INTO Product_SKUs (sku_id, product_id, sku_code, package_size, unit_type, base_price, "
                 "reorder_level, is_active) VALUES "
                 "(1, 1, 'AMOX-1', '3x10', 'capsule', 10.00, 10, true), "
                 "(2, 1, 'AMOX-2', '100', 'capsule', 30.00, 50, true), "
                 "(3, 2, 'PARA-3', '10', 'tablet', 2.50, 10, true), "
                 "(4, 2, 'PARA-4', '20', 'tablet', 4.00, 10, false), "
                 "(5, 3, 'WITH-5', '30', 'tablet', 1.00, 10, true)")
    batches = [  # (sku, batch_no, days to expiry, quantity)
        (1, "A-SOON", 10, 5), (1, "A-LATER", 100, 20), (1, "A-EXPIRED", -1, 50), (1, "A-EMPTY", 5, 0),
        (1, "A-TODAY", 0, 7), (2, "B-1", 200, 30), (4, "D-1", 50, 9), (5, "E-1", 50, 9),
    ]
    for sku_id, batch_no, days, quantity in batches:
        conn.execute("INSERT INTO Inventory_Batches (sku_id, batch_no, expiry_date, quantity_on_hand, cost_price) "
                     "VALUES (%s, %s, %s, %s, 1)", (sku_id, batch_no, TODAY + timedelta(days=days), quantity))
    conn.execute("INSERT INTO Pricing_Rules (rule_id, sku_id, customer_id, min_quantity, discount_percentage) "
                 "VALUES (1, NULL, NULL, 10, 5), (2, 1, 1, 1, 20), (3, 2, NULL, 5, 10)")
    announce_change(conn)
    return conn


def announce_change(conn) -> None:
    """What a writer that changed products, SKUs or prices does after its commit (a new
    listing version and a new catalog version)."""
    conn.execute(CATALOG_Q["bump_catalog_version"].sql)


async def eventually(check, seconds: float = 3.0):
    """Polls `check` (an async callable returning a bool) until it holds or time runs out."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0.01)


async def bearer(client, username: str) -> dict[str, str]:
    response = await client.post("/api/login", json={"username": username, "password": PASSWORD})
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def listing(client, headers=None, **params):
    response = await client.get("/api/products", params=params, headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()


def by_sku(page) -> dict[int, dict]:
    return {item["sku_id"]: item for item in page["items"]}


async def test_anonymous_listing_counts_only_sellable_stock(client, catalog):
    page = await listing(client)
    assert [item["sku_id"] for item in page["items"]] == [1, 2, 3]  # inactive SKU and product left out
    assert {k: page[k] for k in ("total_items", "total_pages", "current_page", "page_size",
                                 "assumed_quantity_for_pricing", "customer_id", "search")} == {
        "total_items": 3, "total_pages": 1, "current_page": 1, "page_size": 20,
        "assumed_quantity_for_pricing": 1, "customer_id": None, "search": None}
    first = by_sku(page)[1]
    assert first["total_on_hand"] == 25  # expired, empty and expiring-today batches do not count
    assert first["earliest_expiry"] == (TODAY + timedelta(days=10)).isoformat()
    assert (first["base_price"], first["effective_price"], first["discount_percentage"]) == (
        "10.00", "10.00", "0.00")
    assert first["applied_rule_id"] is None
    assert first["next_tier"] == {"min_quantity": 10, "discount_percentage": "5.00", "effective_price": "9.50"}
    assert set(first) >= {"product_id", "product_name", "manufacturer", "description", "sku_id",
                          "package_size", "unit_type", "base_price", "total_on_hand", "earliest_expiry",
                          "effective_price", "discount_percentage", "applied_rule_id", "next_tier"}
    empty = by_sku(page)[3]
    assert (empty["total_on_hand"], empty["earliest_expiry"], empty["low_stock"]) == (0, None, True)
    assert by_sku(page)[2]["low_stock"] is True  # 30 < reorder level 50


async def test_each_customer_sees_only_its_own_prices(client, catalog):
    own = by_sku(await listing(client, await bearer(client, "cust_1")))
    assert (own[1]["effective_price"], own[1]["applied_rule_id"]) == ("8.00", 2)
    other_headers = await bearer(client, "cust_2")
    other = await listing(client, other_headers, customer_id=1)  # asking for customer 1's prices
    assert other["customer_id"] == 2
    assert by_sku(other)[1]["effective_price"] == "10.00"


async def test_staff_may_preview_a_customers_prices(client, catalog):
    headers = await bearer(client, "staffer")
    preview = await listing(client, headers, customer_id=1)
    assert preview["customer_id"] == 1 and by_sku(preview)[1]["effective_price"] == "8.00"
    assert (await listing(client, headers))["customer_id"] is None
    missing = await client.get("/api/products", params={"customer_id": 999}, headers=headers)
    assert missing.status_code == 404


async def test_quantity_tiers_price_the_whole_line(client, catalog):
    page = by_sku(await listing(client, quantity=10))
    assert (page[1]["effective_price"], page[1]["line_total"], page[1]["applied_rule_id"]) == ("9.50", "95.00", 1)
    assert (page[2]["effective_price"], page[2]["applied_rule_id"]) == ("27.00", 3)  # 10 % beats 5 %


@pytest.mark.parametrize(("params", "expected"), [
    ({"in_stock": "true"}, [1, 2]),
    ({"in_stock": "false"}, [3]),
    ({"low_stock": "true"}, [2, 3]),
    ({"low_stock": "false"}, [1]),
    ({"manufacturer": "TEVA"}, [3]),
    ({"search": "amox 3x10"}, [1]),
    ({"search": "CAPSULE"}, [1, 2]),
    ({"search": "para-3"}, [3]),
    ({"search": "sandoz tablet"}, []),
    ({"search": "100%"}, []),
    ({"search": "_"}, []),
    ({"search": "'; DROP TABLE Products; --"}, []),
    ({"sort": "price"}, [3, 1, 2]),
    ({"sort": "availability"}, [2, 1, 3]),
    ({"sort": "expiry"}, [1, 2, 3]),
    ({"sort": "name", "in_stock": "true"}, [1, 2]),
])
async def test_filters_search_and_sorts(client, catalog, params, expected):
    page = await listing(client, **params)
    assert [item["sku_id"] for item in page["items"]] == expected
    assert page["total_items"] == len(expected)


async def test_search_text_is_only_text(client, catalog):
    await listing(client, search="'; DROP TABLE Products; --")
    assert catalog.execute("SELECT count(*) AS n FROM Products").fetchone()["n"] == 3


async def test_pagination_totals_are_exact(client, catalog):
    first = await listing(client, limit=2, page=1)
    assert ([i["sku_id"] for i in first["items"]], first["total_items"], first["total_pages"]) == ([1, 2], 3, 2)
    second = await listing(client, limit=2, page=2)
    assert [i["sku_id"] for i in second["items"]] == [3]
    beyond = await listing(client, limit=2, page=5)
    assert (beyond["items"], beyond["total_items"], beyond["total_pages"]) == ([], 3, 2)
    sorted_beyond = await listing(client, limit=2, page=9, sort="price")
    assert (sorted_beyond["items"], sorted_beyond["total_items"]) == ([], 3)


@pytest.mark.parametrize("params", [
    {"page": "0"}, {"page": "abc"}, {"limit": "0"}, {"limit": "201"}, {"quantity": "0"}, {"quantity": "-3"},
    {"sort": "bogus"}, {"in_stock": "maybe"}, {"low_stock": "2x"}, {"customer_id": "0"}, {"search": "x" * 201},
])
async def test_bad_parameters_are_422_in_the_error_shape(client, catalog, params):
    response = await client.get("/api/products", params=params)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


async def test_product_detail_has_batches_in_fefo_order_and_a_price_ladder(client, catalog):
    anonymous = (await client.get("/api/products/1")).json()
    assert [b["batch_no"] for b in anonymous["batches"]] == ["A-SOON", "A-LATER"]
    assert [(s["min_quantity"], s["effective_price"]) for s in anonymous["price_ladder"]] == [(1, "10.00"), (10, "9.50")]
    customer = (await client.get("/api/products/1", headers=await bearer(client, "cust_1"))).json()
    assert [(s["min_quantity"], s["effective_price"], s["applied_rule_id"]) for s in customer["price_ladder"]] == [
        (1, "8.00", 2)]  # the global 5 % tier would not lower a 20 % contract price
    assert customer["customer_id"] == 1


@pytest.mark.parametrize("path", ["/api/products/4", "/api/products/5", "/api/products/777"])
async def test_inactive_or_missing_skus_are_404(client, catalog, path):
    response = await client.get(path)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def queries_run(response) -> int:
    return int(re.search(r'desc="(\d+) queries"', response.headers["server-timing"])[1])


async def test_a_listing_runs_the_same_few_queries_whatever_its_size(settings, catalog):
    async with serve(settings.with_overrides(log_timing=True, cache_ttl_products=0)) as http:
        counts = []
        for params in ({"limit": 1}, {"limit": 3}, {"limit": 3, "sort": "price"}):
            counts.append([queries_run(await http.get("/api/products", params=params)) for _ in range(2)])
    # the common listing: its skeleton and its stock figures, then only the stock figures (the
    # skeleton is cached); sorted by price: the page itself. The versions come by LISTEN/NOTIFY.
    assert counts == [[2, 1], [2, 1], [1, 1]]


def page_params(**query) -> dict:
    defaults = {"customer_id": None, "quantity": 1, "manufacturer": None, "patterns": [], "in_stock": None,
                "low_stock": None, "sort": "product", "limit": 20, "page": 1}
    params = defaults | query
    page = params.pop("page")
    return params | {"today": TODAY, "sellable_after": TODAY, "offset": (page - 1) * params["limit"]}


@pytest.mark.parametrize("query", [
    {}, {"customer_id": 1}, {"customer_id": 1, "quantity": 10}, {"quantity": 7, "sort": "name"},
    {"limit": 2, "page": 2}, {"limit": 2, "page": 5}, {"manufacturer": "sandoz"},
    {"patterns": ["%capsule%"]}, {"customer_id": 2, "sort": "name", "limit": 1},
])
async def test_a_cached_skeleton_page_is_the_fully_computed_page(settings, catalog, query):
    """The common listing from its cached skeleton with the stock figures spliced in is byte
    for byte the page that page_by_stock_or_price computes whole in one statement."""
    catalog.execute("UPDATE Products SET description = 'Say \"ah\" \\ take with water' WHERE product_id = 1")
    announce_change(catalog)
    whole = catalog.execute(service.Q["page_by_stock_or_price"].sql, page_params(**query)).fetchone()
    args = {name: query[name] for name in ("page", "limit", "quantity", "manufacturer", "sort") if name in query}
    patterns = query.get("patterns", [])
    catalog_query = service.CatalogQuery(search=patterns[0].strip("%") if patterns else None, **args)
    assert not catalog_query.needs_every_row() and catalog_query.search_patterns() == patterns
    async with serve(settings.with_overrides(log_timing=True, cache_ttl_products=0)) as http:
        state = http._transport.app.state
        bodies = []
        for _ in range(2):  # the skeleton computed, then the skeleton from the cache
            rendered = await service.list_products(state.context, customer_id=query.get("customer_id"),
                                                    query=catalog_query)
            bodies.append(rendered.body.decode())
        assert len(service._skeleton_caches[state.context.versions]._entries) == 1
    assert bodies[0] == bodies[1]
    assert bodies[0].startswith('{"items":' + whole["items"] + f',"total_items":{whole["total_items"]},')


async def test_a_sale_changes_stock_at_once_and_keeps_the_skeleton(settings, catalog):
    async with serve(settings.with_overrides(log_timing=True)) as http:
        headers = await bearer(http, "cust_1")
        versions = http._transport.app.state.context.versions
        before = by_sku(await listing(http, headers, limit=3))[1]
        listing_version = versions.listing
        order = await http.post("/api/orders", json={"sku_id": 1, "quantity": 4},
                                headers=headers | {"Idempotency-Key": "skeleton-sale"})
        assert order.status_code == 201, order.text
        response = await http.get("/api/products", params={"limit": 3}, headers=headers)
        after = by_sku(response.json())[1]
        assert (before["total_on_hand"], after["total_on_hand"]) == (25, 21)  # no waiting
        assert after["earliest_expiry"] == before["earliest_expiry"]  # 1 of 5 left in A-SOON
        assert versions.listing == listing_version  # a sale is not a listing change ...
        assert queries_run(response) == 1  # ... so the skeleton came from the cache
        order = await http.post("/api/orders", json={"sku_id": 1, "quantity": 1},
                                headers=headers | {"Idempotency-Key": "skeleton-sale-2"})
        assert order.status_code == 201, order.text
        emptied = by_sku(await listing(http, headers, limit=3))[1]
        assert (emptied["total_on_hand"], emptied["earliest_expiry"]) == (
            20, (TODAY + timedelta(days=100)).isoformat())
        catalog.execute("UPDATE Inventory_Batches SET quantity_on_hand = 0 WHERE sku_id = 1")
        async with http._transport.app.state.context.pool.connection() as conn:
            await versions.announce_change(conn)
        gone = by_sku(await listing(http, headers, limit=3))[1]
        assert (gone["total_on_hand"], gone["earliest_expiry"], gone["low_stock"]) == (0, None, True)
        assert versions.listing == listing_version


async def test_a_price_rule_or_product_change_replaces_the_skeleton_at_once(settings, catalog):
    catalog.execute("INSERT INTO Users (username, password_hash, role) VALUES ('boss', %s, 'admin')",
                    (passwords.hash_password(PASSWORD),))
    catalog.execute("SELECT setval(pg_get_serial_sequence('pricing_rules', 'rule_id'), 100)")  # past the fixture's
    async with serve(settings.with_overrides(cache_ttl_products=0)) as http:
        admin = await bearer(http, "boss")
        customer = await bearer(http, "cust_2")
        assert by_sku(await listing(http, customer))[1]["effective_price"] == "10.00"
        rule = await http.post("/api/admin/pricing/rules", headers=admin, json={
            "sku_id": 1, "customer_id": 2, "min_quantity": 1, "discount_percentage": "30"})
        assert rule.status_code == 201, rule.text
        assert by_sku(await listing(http, customer))[1]["effective_price"] == "7.00"  # no waiting
        changed = await http.patch(f"/api/admin/pricing/rules/{rule.json()['rule_id']}", headers=admin,
                                   json={"discount_percentage": "40"})
        assert changed.status_code == 200, changed.text
        assert by_sku(await listing(http, customer))[1]["effective_price"] == "6.00"
        renamed = await http.patch("/api/admin/products/2", headers=admin, json={"name": "Acetaminophen"})
        assert renamed.status_code == 200, renamed.text
        assert by_sku(await listing(http, customer))[3]["product_name"] == "Acetaminophen"
        assert [i["sku_id"] for i in (await listing(http, customer, sort="name"))["items"]] == [3, 1, 2]
        repriced = await http.patch("/api/admin/skus/2", headers=admin, json={"base_price": "40.00"})
        assert repriced.status_code == 200, repriced.text
        assert by_sku(await listing(http, customer))[2]["base_price"] == "40.00"
        hidden = await http.patch("/api/admin/skus/2", headers=admin, json={"is_active": False})
        assert hidden.status_code == 200, hidden.text
        page = await listing(http, customer)
        assert ([i["sku_id"] for i in page["items"]], page["total_items"]) == ([1, 3], 2)


async def test_a_committed_change_reaches_every_worker(settings, catalog):
    async with serve(settings) as first_worker, serve(settings) as second_worker:
        for worker in (first_worker, second_worker):
            assert by_sku(await listing(worker))[1]["base_price"] == "10.00"
        catalog.execute("UPDATE Product_SKUs SET base_price = 12.00 WHERE sku_id = 1")
        # not yet announced: the cached page may stand (for at most CACHE_TTL_PRODUCTS)
        assert by_sku(await listing(first_worker))[1]["base_price"] == "10.00"
        announce_change(catalog)
        for worker in (first_worker, second_worker):
            async def fresh(worker=worker) -> bool:
                return by_sku(await listing(worker))[1]["base_price"] == "12.00"
            await eventually(fresh)


async def test_a_worker_sees_its_own_change_at_once(settings, catalog):
    async with serve(settings) as worker:
        app = worker._transport.app
        await listing(worker)
        catalog.execute("UPDATE Product_SKUs SET base_price = 13.00 WHERE sku_id = 1")
        async with app.state.context.pool.connection() as conn:
            await app.state.context.versions.announce_listing_change(conn)
        assert by_sku(await listing(worker))[1]["base_price"] == "13.00"  # no waiting
        catalog.execute("UPDATE Inventory_Batches SET quantity_on_hand = 1 WHERE batch_no = 'A-LATER'")
        async with app.state.context.pool.connection() as conn:
            await app.state.context.versions.announce_change(conn)
        assert by_sku(await listing(worker))[1]["total_on_hand"] == 6


async def test_without_its_listener_a_worker_reads_the_version_per_request(settings, catalog):
    async with serve(settings) as worker:
        versions = worker._transport.app.state.context.versions
        await versions.stop()
        versions.listening = False
        await listing(worker)
        catalog.execute("UPDATE Product_SKUs SET base_price = 14.00 WHERE sku_id = 1")
        announce_change(catalog)
        assert by_sku(await listing(worker))[1]["base_price"] == "14.00"
        catalog.execute("UPDATE Inventory_Batches SET quantity_on_hand = 2 WHERE batch_no = 'A-LATER'")
        catalog.execute(CATALOG_Q["bump_stock_version"].sql)
        assert by_sku(await listing(worker))[1]["total_on_hand"] == 7


async def test_etag_and_if_none_match(client, catalog):
    first = await client.get("/api/products")
    etag = first.headers["etag"]
    again = await client.get("/api/products", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    catalog.execute("UPDATE Product_SKUs SET base_price = 11.00 WHERE sku_id = 1")
    announce_change(catalog)

    async def changed() -> bool:
        response = await client.get("/api/products", headers={"If-None-Match": etag})
        return response.status_code == 200 and response.headers["etag"] != etag

    await eventually(changed)


def _redis_url() -> str | None:
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=0.3).ping()
    except Exception:
        return None
    return url


async def test_workers_share_the_redis_cache(settings: Settings, catalog):
    url = _redis_url()
    if url is None:
        pytest.skip("no Redis answers at REDIS_URL (or 127.0.0.1:6379): shared-cache test skipped")
    shared = settings.with_overrides(redis_url=url)
    async with serve(shared) as first_worker, serve(shared) as second_worker:
        assert isinstance(first_worker._transport.app.state.context.catalog_cache, RedisResponseCache)
        etag = (await first_worker.get("/api/products", params={"search": "redis-probe"})).headers["etag"]
        catalog.execute("UPDATE Products SET name = 'redis-probe' WHERE product_id = 1")
        # the second worker answers from what the first cached (no version bump yet)
        cached = await second_worker.get("/api/products", params={"search": "redis-probe"})
        assert cached.headers["etag"] == etag and cached.json()["items"] == []
        announce_change(catalog)

        async def fresh() -> bool:
            response = await second_worker.get("/api/products", params={"search": "redis-probe"})
            return [i["sku_id"] for i in response.json()["items"]] == [1, 2]

        await eventually(fresh)


async def test_search_never_matches_through_a_missing_manufacturer(client, catalog):
    """A NULL column must not make an unmatched term count as matched."""
    catalog.execute("INSERT INTO Products (product_id, name, manufacturer) VALUES (9, 'Nameless generic', NULL)")
    catalog.execute("INSERT INTO Product_SKUs (sku_id, product_id, sku_code, base_price) VALUES (9, 9, 'GEN-9', 1.00)")
    announce_change(catalog)
    assert (await listing(client, search="zzzz"))["items"] == []
    assert [i["sku_id"] for i in (await listing(client, search="nameless"))["items"]] == [9]


async def test_stock_changes_committed_together_share_one_bump_drawn_after_all_of_them(settings, conn):
    from stockline import db
    from stockline.kernel.catalog_version import CatalogVersion

    def last_version() -> int:
        return conn.execute("SELECT last_value - (NOT is_called)::int AS drawn FROM catalog_version"
                            ).fetchone()["drawn"]

    async with db.create_pool(settings, settings.database_url) as pool:
        versions = CatalogVersion(settings.database_url)
        before = last_version()
        # five orders committed at once: one bump, sent after all five joined it
        await asyncio.gather(*(versions.announce_committed_change(pool) for _ in range(5)))
        assert last_version() == before + 1 and versions.value == before + 1
        # a change committed after that bump was sent needs (and gets) its own
        await versions.announce_committed_change(pool)
        assert last_version() == before + 2 and versions.value == before + 2
