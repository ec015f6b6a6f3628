"""PHARMASSIST_COMPAT=1: PharmAssist's clients, replayed over HTTP as they call the API
(/work/shared/compat/pharmassist-api.md): the frontend's requests with its headers
(Content-Type: application/json on every request, empty bodies, a stale Bearer on public
endpoints), and the scripts' exact status checks and the fields and types they read. The
world is tests/ordering_world.py; `cust_1` stands for `pharma1` and `boss` for `admin`."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from datetime import timedelta

import httpx
import pytest

from stockline.auth import tokens
from stockline.invariants import check_invariants
from tests.conftest import TEST_SECRET, serve
from tests.ordering_world import PASSWORD, TODAY, ledger_rows, stock

FE = {"Content-Type": "application/json"}  # the frontend's header on every request


@pytest.fixture
def compat(settings):
    return settings.with_overrides(pharmassist_compat=True)


@pytest.fixture
async def api(compat, world):
    async with serve(compat) as http:
        yield http


async def sign_in(http: httpx.AsyncClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = await http.post("/api/login", headers=FE, json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return FE | {"Authorization": f"Bearer {response.json()['access_token']}"}


def claims(headers: dict[str, str]) -> dict:
    payload = headers["Authorization"].split()[1].split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


STALE = FE | {"Authorization": "Bearer " + tokens.issue_token(
    TEST_SECRET, user_id=1, role="customer", customer_id=1, version=0, ttl_seconds=60, now=time.time() - 7200)}


# --- §0, §1, §2: tokens, sign-in, roles ------------------------------------------------------

async def test_login_token_has_the_claims_the_frontend_decodes(api):
    customer, admin, staff = [claims(await sign_in(api, name)) for name in ("cust_1", "boss", "staffer")]
    assert (customer["sub"], customer["username"], customer["role"], customer["customer_id"]) == \
        ("1", "cust_1", "customer", 1)
    assert (admin["username"], admin["role"], admin["customer_id"]) == ("boss", "admin", None)
    assert (staff["role"], staff["stockline_role"]) == ("admin", "staff")
    assert all(isinstance(c["exp"], int) and c["exp"] > time.time() for c in (customer, admin, staff))


async def test_t_login_wrong_password_is_401_with_an_error_string(api):
    response = await api.post("/api/login", headers=STALE, json={"username": "boss", "password": "wrongpass"})
    assert response.status_code == 401
    assert isinstance(response.json()["error"], str) and response.json()["code"] == "invalid_credentials"
    missing = await api.post("/api/login", headers=FE, json={"username": "boss"})
    assert missing.status_code == 400 and isinstance(missing.json()["error"], str)


async def test_public_endpoints_ignore_a_stale_bearer(api):
    assert (await api.get("/api/products?page=1&limit=5", headers=STALE)).status_code == 200
    assert (await api.get("/ready", headers=STALE)).status_code == 200
    assert (await api.post("/api/login", headers=STALE,
                           json={"username": "cust_1", "password": PASSWORD})).status_code == 200
    # a protected endpoint refuses it: 401, the error a string
    response = await api.get("/api/cart", headers=STALE)
    assert response.status_code == 401 and isinstance(response.json()["error"], str)


def _same_bytes_spelling(signature: str) -> str | None:
    """Another last character that a lenient base64 decoder reads as the same bytes."""
    raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    for char in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_":
        other = signature[:-1] + char
        if other != signature and base64.urlsafe_b64decode(other + "=" * (-len(other) % 4)) == raw:
            return other
    return None


async def test_t_jwt_a_tampered_last_character_is_always_401(api):
    headers = await sign_in(api, "cust_1")
    token = headers["Authorization"].split()[1]
    head, payload, signature = token.split(".")
    twin = _same_bytes_spelling(signature)
    assert twin is not None  # an HS256 signature's last character carries 4 bits: 3 twins each
    tampered = [signature[:-1] + ("b" if signature[-1] == "a" else "a"), twin]
    for spelling in tampered:
        response = await api.get("/api/cart", headers=FE | {"Authorization": f"Bearer {head}.{payload}.{spelling}"})
        assert response.status_code == 401, spelling
        assert isinstance(response.json()["error"], str)
    assert (await api.get("/api/cart", headers=headers)).status_code == 200


async def test_t_role_a_customer_gets_403_never_401(api):
    customer = await sign_in(api, "cust_1")
    for path in ("/api/admin/all-orders", "/api/admin/inventory", "/api/admin/dashboard-stats"):
        response = await api.get(path, headers=customer)
        assert response.status_code == 403, path
        assert isinstance(response.json()["error"], str)
    assert (await api.get("/api/admin/all-orders", headers=FE)).status_code == 401


# --- §4.3: the catalog -------------------------------------------------------------------------

async def test_catalog_fields_and_types(api):
    response = await api.get("/api/products?page=1&limit=20&quantity=5", headers=STALE)
    assert response.status_code == 200
    page = response.json()
    assert {"items", "total_items", "total_pages", "current_page", "page_size"} <= page.keys()
    item = next(i for i in page["items"] if i["sku_id"] == 1)
    for key in ("product_name", "package_size", "manufacturer"):
        assert isinstance(item[key], str)
    assert is_number(item["base_price"]) and is_number(item["effective_price"]) and is_number(item["total_on_hand"])
    assert item["total_on_hand"] == 25  # sellable: the expired batch and today's are not counted
    assert item["earliest_expiry"] == (TODAY + timedelta(days=10)).isoformat()
    # Stockline's own parameters still work on the shared path
    sorted_ = (await api.get("/api/products?sort=price&in_stock=true&manufacturer=Teva")).json()
    assert [i["sku_id"] for i in sorted_["items"]] == [3]


async def test_price_a_rule_written_straight_into_the_database_shows_on_the_next_request(api, conn):
    customer = await sign_in(api, "cust_2")  # customer 2 has no rule of its own
    url = "/api/products?page=1&limit=30&quantity=5&customer_id=2"
    before = next(i for i in (await api.get(url, headers=customer)).json()["items"] if i["sku_id"] == 2)
    assert before["effective_price"] == before["base_price"] == 30.0
    rule_id = conn.execute("INSERT INTO Pricing_Rules(sku_id, customer_id, min_quantity, discount_percentage) "
                           "VALUES (2, 2, 2, 10) RETURNING rule_id").fetchone()["rule_id"]
    after = next(i for i in (await api.get(url, headers=customer)).json()["items"] if i["sku_id"] == 2)
    assert after["effective_price"] < after["base_price"]
    assert after["effective_price"] == 27.0 and round(after["effective_price"], 2) == after["effective_price"]
    conn.execute("DELETE FROM Pricing_Rules WHERE rule_id = %s", (rule_id,))
    again = next(i for i in (await api.get(url, headers=customer)).json()["items"] if i["sku_id"] == 2)
    assert again["effective_price"] == 30.0


# --- §4.4-4.7: FUNC, the frontend's cart and checkout, LOCUST ------------------------------------

async def test_func_cart_checkout_and_my_orders(api, conn):
    headers = await sign_in(api, "cust_1")
    assert (await api.get("/api/products?page=1&limit=20&quantity=5", headers=headers)).status_code == 200
    added = await api.post("/api/cart", headers=headers, json={"sku_id": 2, "quantity": 2})
    assert added.status_code in (200, 201)
    assert added.json()["removed"] is False and isinstance(added.json()["cart_id"], int)
    cart = (await api.get("/api/cart", headers=headers)).json()
    assert cart["total_items"] == 1 and cart["total_quantity"] == 2
    assert cart["estimated_total_price"] == 60.0 and is_number(cart["estimated_total_price"])
    [line] = cart["items"]
    assert line["cart_item_id"] and line["quantity"] == 2 and line["available_stock"] == 30
    assert is_number(line["quantity"]) and is_number(line["available_stock"])
    placed = await api.post("/api/checkout", headers=headers, json={})
    assert placed.status_code == 201
    order = placed.json()
    assert order["status"] == "pending" and order["total_price"] == 60.0 and order["order_item_rows"] == 1
    mine = (await api.get("/api/my-orders", headers=headers)).json()
    assert mine["customer_id"] == 1
    [summary] = mine["orders"]
    assert (summary["order_id"], summary["status"], summary["total_quantity"], summary["total_price"]) == \
        (order["order_id"], "pending", 2, 60.0)
    assert stock(conn, (conn.execute("SELECT batch_id FROM Inventory_Batches WHERE batch_no = 'B-1'")
                        .fetchone()["batch_id"])) == 28


async def test_checkout_accepts_an_empty_json_body_and_no_body_at_all(api):
    headers = await sign_in(api, "cust_1")
    for send in ({"headers": headers},  # the frontend: Content-Type: application/json, no body
                 {"headers": {"Authorization": headers["Authorization"]}}):  # Locust: neither
        assert (await api.post("/api/cart", headers=headers, json={"sku_id": 2, "quantity": 1})).status_code == 200
        response = await api.post("/api/checkout", **send)
        assert response.status_code == 201, response.text
    empty = await api.post("/api/checkout", headers=headers)
    assert empty.status_code == 400 and isinstance(empty.json()["error"], str)


async def test_cart_beyond_stock_is_409_and_checkout_short_is_409(api, conn):
    headers = await sign_in(api, "cust_1")
    refused = await api.post("/api/cart", headers=headers, json={"sku_id": 2, "quantity": 31})
    assert refused.status_code == 409
    assert refused.json()["error"] == "Requested quantity exceeds available stock"
    assert (await api.post("/api/cart", headers=headers, json={"sku_id": 2, "quantity": 30})).status_code == 200
    conn.execute("UPDATE Inventory_Batches SET quantity_on_hand = 3 WHERE batch_no = 'B-1'")
    short = await api.post("/api/checkout", headers=headers)
    assert short.status_code == 409 and "Insufficient stock" in short.json()["error"]


async def test_admin_tokens_have_no_cart_and_no_orders_of_their_own(api):
    admin = await sign_in(api, "boss")
    for method, path in (("GET", "/api/my-orders"), ("POST", "/api/checkout")):
        response = await api.request(method, path, headers=admin)
        assert response.status_code == 403 and isinstance(response.json()["error"], str)


# --- §4.8: T-CONC ------------------------------------------------------------------------------------

async def test_t_conc_ten_orders_on_a_batch_of_fifty(api, conn):
    batch_id = conn.execute("SELECT batch_id FROM Inventory_Batches WHERE batch_no = 'B-1'").fetchone()["batch_id"]
    conn.execute("UPDATE Inventory_Batches SET quantity_on_hand = 50 WHERE batch_id = %s", (batch_id,))
    tokens_ = [await sign_in(api, "cust_1") for _ in range(10)]
    answers = await asyncio.gather(*(
        api.post("/api/orders", headers=headers, json={"customer_id": 1, "batch_id": batch_id, "quantity": 10})
        for headers in tokens_))
    statuses = sorted(response.status_code for response in answers)
    assert statuses == [201] * 5 + [409] * 5
    assert all("Insufficient stock" in r.text for r in answers if r.status_code == 409)
    assert stock(conn, batch_id) == 0
    order_ids = [r.json()["order_id"] for r in answers if r.status_code == 201]
    assert all(ledger_rows(conn, order_id) == [(batch_id, -10, "sale")] for order_id in order_ids)


async def test_a_batch_order_never_sells_an_expired_batch(api, world):
    headers = await sign_in(api, "cust_1")
    response = await api.post("/api/orders", headers=headers,
                              json={"customer_id": 1, "batch_id": world["a_expired"], "quantity": 1})
    assert response.status_code == 409 and "Insufficient stock" in response.json()["error"]
    unknown = await api.post("/api/orders", headers=headers, json={"customer_id": 1, "batch_id": 999999,
                                                                   "quantity": 1})
    assert unknown.status_code == 404


# --- §4.9-4.11, 4.18: SMOKE and the admin dashboard ------------------------------------------------

async def test_smoke_and_the_admin_order_views(api):
    assert (await api.get("/ready")).status_code == 200
    assert (await api.get("/api/products?page=1&limit=5")).status_code == 200
    customer = await sign_in(api, "cust_1")
    assert (await api.get("/api/cart", headers=customer)).status_code == 200
    await api.post("/api/cart", headers=customer, json={"sku_id": 1, "quantity": 12})
    order = (await api.post("/api/checkout", headers=customer)).json()
    admin = await sign_in(api, "boss")
    orders = (await api.get("/api/admin/all-orders", headers=admin)).json()["orders"]
    assert orders[0]["order_id"] == order["order_id"]
    first = orders[0]
    assert (first["customer_id"], first["status"], first["total_quantity"]) == (1, "pending", 12)
    assert is_number(first["total_price"]) and first["order_date"]
    detail = (await api.get(f"/api/admin/orders/{order['order_id']}/items", headers=admin)).json()
    assert detail["order"]["status"] == "pending" and detail["order"]["customer_id"] == 1
    assert [item["batch_no"] for item in detail["items"]] == ["A-SOON", "A-LATER"]  # FEFO
    for item in detail["items"]:
        assert item["sku_name"] == "Amoxicillin 500 mg capsules - 3x10"
        for key in ("base_price", "sale_price", "cost_price", "line_total", "line_profit"):
            assert is_number(item[key]), key
    assert detail["totals"]["total_quantity"] == 12 and is_number(detail["totals"]["total_profit"])
    assert (await api.get("/api/admin/orders/999999/items", headers=admin)).json()["error"]
    moved = await api.post(f"/api/admin/orders/{order['order_id']}/status", headers=admin,
                           json={"status": "processed"})
    assert moved.status_code == 200 and moved.json()["status"] == "processed"
    bad = await api.post(f"/api/admin/orders/{order['order_id']}/status", headers=admin, json={"status": "lost"})
    assert bad.status_code == 400 and isinstance(bad.json()["error"], str)
    stats = (await api.get("/api/admin/dashboard-stats", headers=admin)).json()
    assert is_number(stats["total_revenue"]) and is_number(stats["total_profit"])
    assert all(is_number(d["revenue"]) and is_number(d["profit"]) and len(d["day"]) == 10 for d in stats["daily"])
    for key in ("total_orders", "total_batches", "expiring_soon", "low_stock_count"):
        assert is_number(stats[key])


# --- §4.12-4.17: CRUD and the frontend's inventory and catalog admin --------------------------------

async def test_crud_receive_update_delete(api, conn):
    admin = await sign_in(api, "boss")
    assert (await api.get("/api/products?page=1&limit=10&quantity=1", headers=admin)).status_code == 200
    expiry = (TODAY + timedelta(days=400)).isoformat()
    created = await api.post("/api/admin/inventory/batches", headers=admin, json={
        "sku_id": 3, "batch_no": "CRUD-1", "quantity": 12, "expiry_date": expiry, "cost_price": 2.34})
    assert created.status_code == 201, created.text
    batch = created.json()["batch"]
    assert batch["batch_id"] and batch["sku_name"] == "Paracetamol 500 mg tablets - 10"
    assert batch["expiry_date"] == expiry and batch["quantity_on_hand"] == 12 and batch["cost_price"] == 2.34
    updated = await api.put(f"/api/admin/inventory/batches/{batch['batch_id']}", headers=admin,
                            json={"quantity_on_hand": 9, "cost_price": 2.99})
    assert updated.status_code == 200, updated.text
    assert updated.json()["batch"]["quantity_on_hand"] == 9
    assert is_number(updated.json()["batch"]["cost_price"])
    assert abs(updated.json()["batch"]["cost_price"] - 2.99) < 0.001
    moves = conn.execute("SELECT reason, quantity_delta FROM Stock_Movements WHERE batch_id = %s ORDER BY movement_id",
                         (batch["batch_id"],)).fetchall()
    assert [(m["reason"], m["quantity_delta"]) for m in moves] == [("receipt", 12), ("adjustment", -3)]
    deleted = await api.delete(f"/api/admin/inventory/batches/{batch['batch_id']}", headers=admin)
    assert deleted.status_code in (200, 204)
    assert stock(conn, batch["batch_id"]) == 0  # adjusted, so kept for traceability, with no stock
    fresh = await api.post("/api/admin/inventory/batches", headers=admin, json={
        "sku_id": 3, "batch_no": "CRUD-2", "quantity": 5, "expiry_date": expiry, "cost_price": 1})
    gone = await api.delete(f"/api/admin/inventory/batches/{fresh.json()['batch']['batch_id']}", headers=admin)
    assert gone.status_code == 204
    missing = await api.delete("/api/admin/inventory/batches/999999", headers=admin)
    assert missing.status_code == 404 and isinstance(missing.json()["error"], str)


async def test_the_frontends_inventory_forms(api, world):
    admin = await sign_in(api, "boss")
    # free-text SKU name, DD/MM/YYYY, no cost: 60 % of the base price
    by_name = await api.post("/api/admin/inventory/batches", headers=admin, json={
        "sku_name": "Amoxicillin 500 mg capsules 100", "batch_no": "FE-1", "quantity": 4,
        "expiry_date": (TODAY + timedelta(days=300)).strftime("%d/%m/%Y")})
    assert by_name.status_code == 201, by_name.text
    assert by_name.json()["batch"]["cost_price"] == 18.0 and by_name.json()["message"]
    unknown = await api.post("/api/admin/inventory/batches", headers=admin, json={
        "sku_name": "No such thing", "batch_no": "FE-2", "quantity": 4, "expiry_date": "2030-01-01"})
    assert unknown.status_code == 404 and isinstance(unknown.json()["error"], str)
    bad = await api.post("/api/admin/inventory/batches", headers=admin, json={
        "sku_id": 1, "batch_no": "FE-3", "quantity": 0, "expiry_date": "2030-01-01"})
    assert bad.status_code == 400
    page = (await api.get("/api/admin/inventory?page=1&limit=25", headers=admin)).json()
    assert page["total_batches"] >= 9 and page["total_pages"] >= 1 and page["current_page"] == 1
    for batch in page["batches"]:
        assert isinstance(batch["sku_name"], str) and isinstance(batch["batch_no"], str)
        assert len(batch["expiry_date"]) == 10 and is_number(batch["cost_price"])
    critical = await api.get("/api/admin/inventory?filter=critical&limit=100", headers=admin)  # the dashboard
    assert critical.status_code == 200 and isinstance(critical.json()["batches"], list)
    assert (await api.get("/api/admin/inventory?filter=low-stock", headers=admin)).status_code == 200
    # the inline edit always sends all three fields; unchanged ones are left alone
    edit = page["batches"][0]
    same = await api.put(f"/api/admin/inventory/batches/{edit['batch_id']}", headers=admin, json={
        "quantity_on_hand": edit["quantity_on_hand"], "expiry_date": edit["expiry_date"], "cost_price": None})
    assert same.status_code == 200
    empty = await api.put(f"/api/admin/inventory/batches/{edit['batch_id']}", headers=admin, json={})
    assert empty.status_code == 400
    product = await api.post("/api/admin/products", headers=admin,
                             json={"name": "Ibuprofen 200 mg tablets", "manufacturer": "", "description": ""})
    assert product.status_code == 201, product.text
    sku = await api.post("/api/admin/skus", headers=admin, json={
        "product_id": product.json()["product_id"], "package_size": "24", "unit_type": "tablet", "base_price": 3.5})
    assert sku.status_code == 201, sku.text
    assert sku.json()["sku_id"]


async def test_t_ai_plain_words_intake_writes_the_batch_at_once(api, conn):
    admin = await sign_in(api, "boss")
    response = await api.post("/api/admin/add-inventory-nlp", headers=admin, json={
        "text": "Add 40 units of Paracetamol 500 mg tablets 10 Batch #P500-ZZ1 expiring January 2029"})
    assert response.status_code == 201, response.text
    answer = response.json()
    assert (answer["sku_id"], answer["batch_no"], answer["quantity_added"], answer["new_quantity_on_hand"]) == \
        (3, "P500-ZZ1", 40, 40)
    # "January 2029" is the month's last day, the parser's reading of a month-only expiry
    assert answer["expiry_date"] == "2029-01-31" and answer["source"] == "Stockline offline parser" and answer["message"]
    assert stock(conn, answer["batch_id"]) == 40
    for body in ({}, {"text": ""}, {"text": "   "}):  # T-AIVAL
        refused = await api.post("/api/admin/add-inventory-nlp", headers=admin, json=body)
        assert refused.status_code in (400, 422) and isinstance(refused.json()["error"], str)


# --- without the setting ---------------------------------------------------------------------------

async def test_without_the_setting_nothing_changes(settings, compat, world):
    async with serve(settings) as plain, serve(compat) as adapted:
        plain_headers, adapted_headers = await sign_in(plain, "cust_1"), await sign_in(adapted, "cust_1")
        admin = await sign_in(plain, "boss")
        for path in ("/api/admin/all-orders", "/api/admin/orders/1/items"):
            assert (await plain.get(path, headers=admin)).status_code == 404
        assert (await plain.post("/api/admin/add-inventory-nlp", headers=admin, json={"text": "x"})).status_code == 404
        assert (await plain.put("/api/admin/inventory/batches/1", headers=admin, json={})).status_code == 405
        assert (await plain.post("/api/cart", headers=plain_headers, json={"sku_id": 1, "quantity": 3})).is_success
        plain_cart = (await plain.get("/api/cart", headers=plain_headers)).json()
        adapted_cart = (await adapted.get("/api/cart", headers=adapted_headers)).json()
        assert "total_quantity" not in plain_cart and len(adapted_cart["items"]) == 1
        extras = {"cart_id", "total_quantity", "estimated_total_price"}
        assert {k: v for k, v in adapted_cart.items() if k not in extras} | {"items": []} == \
            plain_cart | {"items": []}
        for plain_line, adapted_line in zip(plain_cart["items"], adapted_cart["items"], strict=True):
            assert {k: v for k, v in adapted_line.items() if k not in ("cart_item_id", "available_stock")} == \
                plain_line
        error = (await plain.get("/api/cart", headers=STALE)).json()
        assert set(error["error"]) == {"code", "message", "details"}
        refused = await plain.post("/api/orders", headers=plain_headers, json={"batch_id": 1, "quantity": 1})
        assert refused.status_code == 422


async def test_the_direct_sql_stock_update_is_reported_by_the_invariant_check(api, conn):
    """T-CONC's set-up writes quantity_on_hand past the ledger: `stockline check` names the batch."""
    assert all(result.holds for result in check_invariants(conn))
    batch_id = conn.execute("UPDATE Inventory_Batches SET quantity_on_hand = 50 WHERE batch_no = 'B-1' "
                            "RETURNING batch_id").fetchone()["batch_id"]
    broken = [result for result in check_invariants(conn) if not result.holds]
    assert broken and any(row.get("batch_id") == batch_id for result in broken for row in result.offenders)


async def test_the_accounts_the_clients_assume_come_from_existing_commands(api, compat):
    """README "Coming from PharmAssist": admin/Admin!23 by `stockline users create-admin`,
    pharma1/test1234 by POST /api/admin/users (cust_<id>/Customer@123 by
    `stockline users create-customer-logins --password`, the world's cust_1 here)."""
    import psycopg

    from stockline.accounts.service import create_staff_user

    with psycopg.connect(compat.database_url) as plain:
        create_staff_user(plain, "admin", "Admin!23")
    admin = await sign_in(api, "admin", "Admin!23")
    assert claims(admin)["role"] == "admin" and claims(admin)["customer_id"] is None
    made = await api.post("/api/admin/users", headers=admin, json={
        "username": "pharma1", "password": "test1234", "role": "customer", "customer_id": 2,
        "must_change_password": False})
    assert made.status_code == 201, made.text
    pharma1 = await sign_in(api, "pharma1", "test1234")
    assert (claims(pharma1)["role"], claims(pharma1)["customer_id"]) == ("customer", 2)
    assert (await api.get("/api/cart", headers=pharma1)).status_code == 200
    wrong = await api.post("/api/login", headers=FE, json={"username": "admin", "password": "wrongpass"})
    assert wrong.status_code == 401 and wrong.json()["error"]


async def test_t_ai_a_strength_written_as_one_word_and_an_unsure_match(api, conn):
    """PharmAssist names products "Paracetamol 500mg": the glued strength is a strength, not a
    name word. Where two SKUs fit the text equally, nothing is written (400), never a guess."""
    conn.execute("INSERT INTO Products (product_id, name) VALUES (10, 'Paracetamol 500mg'), (11, 'Ibuprofen 400mg')")
    conn.execute("INSERT INTO Product_SKUs (sku_id, product_id, package_size, unit_type, base_price) VALUES "
                 "(10, 10, '10-strip', 'strip', 1.20), (11, 11, '10-strip', 'strip', 2.00)")
    admin = await sign_in(api, "boss")
    one = await api.post("/api/admin/add-inventory-nlp", headers=admin, json={
        "text": "Add 50 units of Ibuprofen 400mg 10-strip Batch #I400-ZZ1 expiring January 2029"})
    assert one.status_code == 201 and one.json()["sku_id"] == 11
    assert one.json()["new_quantity_on_hand"] == 50
    assert stock(conn, one.json()["batch_id"]) == 50
    unsure = await api.post("/api/admin/add-inventory-nlp", headers=admin, json={
        "text": "Add 50 units of Paracetamol 500mg 10-strip Batch #P500-ZZ1 expiring January 2029"})
    assert unsure.status_code == 400 and "match about equally well" in unsure.json()["error"]
    assert conn.execute("SELECT count(*) AS n FROM Inventory_Batches WHERE batch_no = 'P500-ZZ1'").fetchone()["n"] == 0


async def test_an_unexpected_error_is_500_in_pharmassists_shape_with_cors(compat, world):
    def crashing(app) -> None:
        @app.get("/api/admin/inventory/batches")  # a contract path no route serves with GET
        async def crash() -> None:
            raise RuntimeError("database text that must not leak")

    settings = compat.with_overrides(cors_origins=("http://localhost:3000",))
    async with serve(settings, raise_app_exceptions=False, app_setup=crashing) as http:
        response = await http.get("/api/admin/inventory/batches", headers=FE | {"Origin": "http://localhost:3000"})
    assert response.status_code == 500
    body = response.json()
    assert body["error"] == "Internal server error" and body["code"] == "internal_error"
    assert "leak" not in response.text
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert body["details"]["request_id"] == response.headers["x-request-id"]


async def test_t_oauth_a_code_that_cannot_be_redeemed_is_400_with_an_error_string(api):
    """Sign-in with an identity provider is stockline.auth.oidc's; here only its answer as
    PharmAssist's T-OAUTH and frontend read it (no provider configured)."""
    for headers in (FE, STALE):
        response = await api.post("/api/oauth/google/exchange", headers=headers,
                                  json={"code": "dummy", "code_verifier": "x" * 64})
        assert response.status_code == 400, response.text
        assert isinstance(response.json()["error"], str)
    missing = await api.post("/api/oauth/google/exchange", headers=FE, json={})
    assert missing.status_code == 400 and isinstance(missing.json()["error"], str)


async def test_locust_flows_are_all_2xx(api):
    """The Locust user: sign in, browse (with and without a search), put CART_SKU_ID (1) in
    the cart, check out with no body and no content type, read my-orders; at once for
    every customer login of the world."""

    async def user(username: str, units: int) -> list[int]:
        login = await api.post("/api/login", json={"username": username, "password": PASSWORD})
        bearer_only = {"Authorization": f"Bearer {login.json()['access_token']}"}
        answers = [login.status_code]
        for url in ("/api/products?page=1&limit=20&quantity=1", "/api/products?page=1&limit=20&quantity=1&search=para",
                    "/api/cart"):
            answers.append((await api.get(url, headers=bearer_only)).status_code)
        answers.append((await api.post("/api/cart", headers=bearer_only,
                                       json={"sku_id": 1, "quantity": units})).status_code)
        answers.append((await api.post("/api/checkout", headers=bearer_only)).status_code)
        answers.append((await api.get("/api/my-orders", headers=bearer_only)).status_code)
        return answers

    results = await asyncio.gather(*(user(name, units) for name, units in (("cust_1", 1), ("cust_1b", 2),
                                                                           ("cust_2", 3))))
    assert all(200 <= status < 300 for answers in results for status in answers), results


async def test_stockline_pages_keep_their_error_shape_under_the_setting(api):
    """The customer pages' script posts cart lines signed in by the session cookie and reads
    error.message and error.details: those requests keep Stockline's error shape."""
    from tests.web_support import sign_in_by_form

    csrf = await sign_in_by_form(api, "cust_1", PASSWORD)
    refused = await api.post("/api/cart", headers={"X-CSRF-Token": csrf}, json={"sku_id": 2, "quantity": 31})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "insufficient_stock" and refused.json()["error"]["details"]["lines"]
    api.cookies.clear()


@pytest.mark.slow
def test_t_conc_and_a_preflight_against_a_real_server_with_two_workers(clean_db, world, conn, tmp_path):
    """As T-CONC runs it: `stockline serve --workers 2` with PHARMASSIST_COMPAT=1, ten threads
    each signing in and ordering 10 from a batch whose stock was set to 50 by SQL."""
    from concurrent.futures import ThreadPoolExecutor

    from tests.server_support import ServerProcess

    batch_id = conn.execute("UPDATE Inventory_Batches SET quantity_on_hand = 50 WHERE batch_no = 'B-1' "
                            "RETURNING batch_id").fetchone()["batch_id"]
    served = ServerProcess(clean_db, tmp_path / "data", tmp_path / "serve.log",
                           env={"PHARMASSIST_COMPAT": "1", "CORS_ORIGINS": "http://localhost:3000"}).start()
    try:
        def one_order(_: int) -> tuple[int, str]:
            with httpx.Client(base_url=served.base_url, timeout=30) as http:
                token = http.post("/api/login", json={"username": "cust_1", "password": PASSWORD}).json()
                answer = http.post("/api/orders", headers={"Authorization": f"Bearer {token['access_token']}"},
                                   json={"customer_id": 1, "batch_id": batch_id, "quantity": 10})
                return answer.status_code, answer.text

        with ThreadPoolExecutor(10) as pool:
            answers = list(pool.map(one_order, range(10)))
        assert sorted(status for status, _ in answers) == [201] * 5 + [409] * 5, answers
        assert all("Insufficient stock" in text for status, text in answers if status == 409)
        assert stock(conn, batch_id) == 0
        preflight = httpx.options(f"{served.base_url}/api/checkout", headers={
            "Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type"})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "http://localhost:3000"
    finally:
        assert served.stop() == 0, served.log()[-2000:]
