"""Cart, FEFO checkout, direct orders, my orders and cancellation through the real ASGI app,
with the stock and the ledger read back from the database after every write."""

from __future__ import annotations

import asyncio
import json

import psycopg
import pytest

from stockline.invariants import check_invariants
from tests.conftest import serve
from tests.ordering_world import TODAY, bearer, ledger_rows, stock
from tests.races import wait_until_blocked


@pytest.fixture
async def cust1(client, world):
    return await bearer(client, "cust_1")


def assert_invariants_hold(conn) -> None:
    broken = {r.name: r.offenders for r in check_invariants(conn) if not r.holds}
    assert broken == {}


async def fill(client, headers, lines: dict[int, int]) -> None:
    for sku_id, quantity in lines.items():
        response = await client.post("/api/cart", json={"sku_id": sku_id, "quantity": quantity}, headers=headers)
        assert response.status_code == 200, response.text


def order_count(conn) -> int:
    return conn.execute("SELECT count(*) AS n FROM Orders").fetchone()["n"]


# --- cart ----------------------------------------------------------------------------------

async def test_cart_prices_each_line_for_its_own_quantity_as_the_catalog_does(client, cust1):
    await fill(client, cust1, {1: 3, 2: 12})
    cart = (await client.get("/api/cart", headers=cust1)).json()
    lines = {line["sku_id"]: line for line in cart["items"]}
    assert (lines[1]["effective_price"], lines[1]["discount_percentage"], lines[1]["applied_rule_id"]) == \
        ("8.00", "20.00", 2)  # customer 1's contract on SKU 1
    assert (lines[2]["effective_price"], lines[2]["line_total"], lines[2]["applied_rule_id"]) == \
        ("28.50", "342.00", 1)  # 12 units reach the global 5 % tier
    assert cart["total_amount"] == "366.00" and cart["total_units"] == 15
    assert lines[1]["available"] == 25 and lines[1]["earliest_expiry"] is not None
    for sku_id, quantity in ((1, 3), (2, 12)):
        listed = (await client.get(f"/api/products/{sku_id}", params={"quantity": quantity},
                                   headers=cust1)).json()
        assert listed["effective_price"] == lines[sku_id]["effective_price"]
    assert cart["ready_to_check_out"] is True


async def test_cart_line_is_set_not_added_and_zero_removes_it(client, cust1):
    await fill(client, cust1, {3: 2})
    await fill(client, cust1, {3: 3})
    cart = (await client.get("/api/cart", headers=cust1)).json()
    assert [(line["sku_id"], line["quantity"]) for line in cart["items"]] == [(3, 3)]
    await fill(client, cust1, {3: 0})
    assert (await client.get("/api/cart", headers=cust1)).json()["items"] == []


async def test_cart_refuses_more_than_is_available_and_changes_nothing(client, cust1, conn):
    await fill(client, cust1, {1: 2})
    response = await client.post("/api/cart", json={"sku_id": 1, "quantity": 26}, headers=cust1)
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "insufficient_stock"
    assert error["details"] == {"lines": [{"sku_id": 1, "requested": 26, "available": 25}]}  # expired, today's out
    cart = (await client.get("/api/cart", headers=cust1)).json()
    assert [(line["sku_id"], line["quantity"]) for line in cart["items"]] == [(1, 2)]


@pytest.mark.parametrize(("body", "status"), [
    ({"sku_id": 4, "quantity": 1}, 404),           # not on sale
    ({"sku_id": 999, "quantity": 1}, 404),         # no such SKU
    ({"sku_id": 1, "quantity": -1}, 422),
    ({"sku_id": 1, "quantity": 1.5}, 422),
    ({"sku_id": "one", "quantity": 1}, 422),
    ({"sku_id": 1}, 422),
    ({"sku_id": 1, "quantity": 1, "price": "0.01"}, 422),  # no field the server does not know
    ({"sku_id": 1, "quantity": 10_000_000}, 422),
])
async def test_cart_rejects_bad_lines_with_a_clear_error(client, cust1, body, status):
    response = await client.post("/api/cart", json=body, headers=cust1)
    assert response.status_code == status
    assert set(response.json()["error"]) == {"code", "message", "details"}
    assert (await client.get("/api/cart", headers=cust1)).json()["items"] == []


async def test_removing_a_line_and_clearing_the_cart(client, cust1):
    await fill(client, cust1, {1: 1, 3: 1})
    response = await client.delete("/api/cart/items/1", headers=cust1)
    assert response.status_code == 200
    assert [line["sku_id"] for line in response.json()["items"]] == [3]
    assert (await client.delete("/api/cart/items/1", headers=cust1)).status_code == 404
    response = await client.delete("/api/cart", headers=cust1)
    assert response.status_code == 200 and response.json()["items"] == []


async def test_double_clicks_on_a_new_cart_never_collide(client, cust1, conn):
    responses = await asyncio.gather(*(
        client.post("/api/cart", json={"sku_id": sku_id, "quantity": 1}, headers=cust1)
        for sku_id in (1, 1, 2, 2, 3, 3, 1, 2)))
    assert [r.status_code for r in responses] == [200] * 8
    assert conn.execute("SELECT count(*) AS n FROM Carts").fetchone()["n"] == 1
    assert conn.execute("SELECT count(*) AS n FROM Cart_Items").fetchone()["n"] == 3


async def test_users_of_one_customer_have_their_own_carts(client, cust1):
    other = await bearer(client, "cust_1b")
    await fill(client, cust1, {1: 2})
    assert (await client.get("/api/cart", headers=other)).json()["items"] == []


async def test_cart_shows_a_line_that_can_no_longer_be_filled(client, cust1, conn, world):
    await fill(client, cust1, {3: 4})
    conn.execute("UPDATE Product_SKUs SET is_active = false WHERE sku_id = 3")
    line = (await client.get("/api/cart", headers=cust1)).json()["items"][0]
    assert line["problem"] == "no longer sold"


async def test_cart_and_orders_are_for_signed_in_customers_only(client, world):
    staff = await bearer(client, "staffer")
    for method, path in (("GET", "/api/cart"), ("POST", "/api/checkout"), ("GET", "/api/my-orders"),
                         ("GET", "/api/my-orders/1"), ("POST", "/api/my-orders/1/cancel")):
        assert (await client.request(method, path)).status_code == 401
        response = await client.request(method, path, headers=staff)
        assert response.status_code == 403, (method, path)
        assert response.json()["error"]["code"] == "forbidden"


# --- checkout ------------------------------------------------------------------------------

async def test_checkout_allocates_fefo_across_batches_and_writes_the_ledger(client, cust1, conn, world):
    await fill(client, cust1, {1: 12, 2: 3})
    response = await client.post("/api/checkout", headers=cust1)
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["status"] == "pending" and order["customer_id"] == 1 and order["username"] == "cust_1"
    allocations = [(i["sku_id"], i["batch_no"], i["quantity"], i["sale_price"]) for i in order["items"]]
    # SKU 1: the batch expiring soonest first; expired, empty and expiring-today batches never
    assert allocations == [(1, "A-SOON", 5, "8.00"), (1, "A-LATER", 7, "8.00"), (2, "B-1", 3, "30.00")]
    assert order["total_amount"] == "186.00" and order["total_units"] == 15
    assert stock(conn, world["a_soon"]) == 0 and stock(conn, world["a_later"]) == 13
    assert stock(conn, world["a_expired"]) == 50 and stock(conn, world["a_today"]) == 7
    assert ledger_rows(conn, order["order_id"]) == [
        (world["a_soon"], -5, "sale"), (world["a_later"], -7, "sale"), (world["b"], -3, "sale")]
    items = conn.execute("SELECT batch_id, base_price, discount_percentage, sale_price, unit_cost, pricing_rule_id "
                         "FROM Order_Items WHERE order_id = %s ORDER BY order_item_id",
                         (order["order_id"],)).fetchall()
    assert [(str(i["unit_cost"]), i["pricing_rule_id"]) for i in items] == \
        [("6.00", 2), ("7.00", 2), ("20.00", None)]  # the batch's cost at the time of sale
    assert (await client.get("/api/cart", headers=cust1)).json()["items"] == []
    assert_invariants_hold(conn)


async def test_the_checkout_answer_is_the_order_as_read_back(client, cust1, world):
    """The answer is built from what the transaction holds, not read back: it must be the
    very order a read shows (ids, dates, names, batches, prices, totals)."""
    await fill(client, cust1, {1: 12, 2: 3, 3: 4})
    placed = await client.post("/api/checkout", headers=cust1)
    assert placed.status_code == 201, placed.text
    read = await client.get(f"/api/my-orders/{placed.json()['order_id']}", headers=cust1)
    assert placed.json() == read.json()
    direct = await client.post("/api/orders", json={"sku_id": 1, "quantity": 6}, headers=cust1)
    assert direct.status_code == 201, direct.text
    read = await client.get(f"/api/my-orders/{direct.json()['order_id']}", headers=cust1)
    assert direct.json() == read.json()


async def test_a_checkout_is_four_statements_however_many_lines(settings, world):
    """BEGIN, the call of stockline_place_order, COMMIT, the catalog version bump (Server-
    Timing counts the 2 besides BEGIN and COMMIT). No statement per line or per batch."""
    async with serve(settings.with_overrides(log_timing=True)) as http:
        headers = await bearer(http, "cust_1")
        for lines in ({3: 1}, {1: 12, 2: 3, 3: 1}):  # one batch; then five batches
            await fill(http, headers, lines)
            placed = await http.post("/api/checkout", headers=headers)
            assert placed.status_code == 201, placed.text
            assert placed.headers["server-timing"].endswith('desc="2 queries"')


async def test_checkout_charges_what_the_cart_showed(client, cust1):
    await fill(client, cust1, {1: 9, 2: 10, 3: 4})
    cart = (await client.get("/api/cart", headers=cust1)).json()
    order = (await client.post("/api/checkout", headers=cust1)).json()
    assert order["total_amount"] == cart["total_amount"]
    shown = {line["sku_id"]: line["effective_price"] for line in cart["items"]}
    assert all(item["sale_price"] == shown[item["sku_id"]] for item in order["items"])


async def test_checkout_is_all_or_nothing_and_lists_every_short_line(client, cust1, conn, world):
    await fill(client, cust1, {1: 20, 2: 30, 3: 4})
    conn.execute("UPDATE Inventory_Batches SET quantity_on_hand = quantity_on_hand - 10 WHERE batch_id = %s",
                 (world["b"],))  # someone else's sale, as the ledger would record it
    conn.execute("INSERT INTO Stock_Movements (batch_id, quantity_delta, reason) VALUES (%s, -10, 'adjustment')",
                 (world["b"],))
    conn.execute("UPDATE Inventory_Batches SET quantity_on_hand = 0 WHERE batch_id = %s", (world["c"],))
    conn.execute("INSERT INTO Stock_Movements (batch_id, quantity_delta, reason) VALUES (%s, -4, 'write_off')",
                 (world["c"],))
    before = conn.execute("SELECT batch_id, quantity_on_hand FROM Inventory_Batches ORDER BY 1").fetchall()
    response = await client.post("/api/checkout", headers=cust1)
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "insufficient_stock"
    assert error["details"]["lines"] == [{"sku_id": 2, "requested": 30, "available": 20},
                                         {"sku_id": 3, "requested": 4, "available": 0}]
    assert conn.execute("SELECT batch_id, quantity_on_hand FROM Inventory_Batches ORDER BY 1").fetchall() == before
    assert order_count(conn) == 0
    assert len((await client.get("/api/cart", headers=cust1)).json()["items"]) == 3  # the cart is kept
    assert_invariants_hold(conn)


async def test_checkout_refuses_a_sku_taken_off_sale(client, cust1, conn):
    await fill(client, cust1, {3: 1})
    conn.execute("UPDATE Products SET is_active = false WHERE product_id = 2")
    response = await client.post("/api/checkout", headers=cust1)
    assert response.status_code == 409
    assert response.json()["error"]["details"]["lines"] == [{"sku_id": 3, "requested": 1, "available": 0}]


async def test_checkout_of_an_empty_cart_is_refused(client, cust1, conn):
    response = await client.post("/api/checkout", headers=cust1)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "cart_empty"
    assert order_count(conn) == 0


async def test_shelf_life_setting_narrows_what_checkout_may_sell(conn, settings, world):
    async with serve(settings.with_overrides(min_shelf_life_days=30)) as http:
        headers = await bearer(http, "cust_1")
        response = await http.post("/api/cart", json={"sku_id": 1, "quantity": 21}, headers=headers)
        assert response.json()["error"]["details"]["lines"][0]["available"] == 20  # A-SOON (10 days) is out
        await fill(http, headers, {1: 2})
        order = (await http.post("/api/checkout", headers=headers)).json()
        assert [item["batch_no"] for item in order["items"]] == ["A-LATER"]


async def test_checkout_makes_the_catalog_fresh_at_once(client, cust1):
    before = (await client.get("/api/products/1", headers=cust1)).json()["total_on_hand"]
    listing = (await client.get("/api/products", headers=cust1)).json()  # now cached
    assert {i["sku_id"]: i["total_on_hand"] for i in listing["items"]}[1] == before
    await fill(client, cust1, {1: 6})
    assert (await client.post("/api/checkout", headers=cust1)).status_code == 201
    listing = (await client.get("/api/products", headers=cust1)).json()
    assert {i["sku_id"]: i["total_on_hand"] for i in listing["items"]}[1] == before - 6


# --- idempotency ---------------------------------------------------------------------------

async def test_a_repeated_idempotency_key_returns_the_first_order(client, cust1, conn):
    await fill(client, cust1, {1: 2})
    key = {"Idempotency-Key": "order-2026-11-25-0001"}
    first = await client.post("/api/checkout", headers=cust1 | key)
    again = await client.post("/api/checkout", headers=cust1 | key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert order_count(conn) == 1
    await fill(client, cust1, {1: 2})  # the same cart again is still the same request
    assert (await client.post("/api/checkout", headers=cust1 | key)).json()["order_id"] == first.json()["order_id"]
    assert order_count(conn) == 1


async def test_an_idempotency_key_reused_for_another_cart_is_refused(client, cust1, conn):
    await fill(client, cust1, {1: 2})
    key = {"Idempotency-Key": "k-1"}
    assert (await client.post("/api/checkout", headers=cust1 | key)).status_code == 201
    await fill(client, cust1, {3: 1})
    response = await client.post("/api/checkout", headers=cust1 | key)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert order_count(conn) == 1
    assert (await client.post("/api/checkout", headers=cust1 | {"Idempotency-Key": "k-2"})).status_code == 201


async def test_double_submitted_checkouts_place_one_order(client, cust1, conn):
    other_user = await bearer(client, "cust_1b")  # same customer, so the same key space
    await fill(client, cust1, {1: 3})
    await fill(client, other_user, {1: 3})
    key = {"Idempotency-Key": "double-click"}
    responses = await asyncio.gather(*(client.post("/api/checkout", headers=h | key)
                                       for h in (cust1, cust1, cust1, other_user, other_user)))
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 200, 201]
    assert len({r.json()["order_id"] for r in responses}) == 1
    assert order_count(conn) == 1
    assert_invariants_hold(conn)


async def test_the_same_cart_checked_out_twice_at_once_is_one_order(client, cust1, conn):
    await fill(client, cust1, {2: 1})
    responses = await asyncio.gather(*(client.post("/api/checkout", headers=cust1) for _ in range(2)))
    assert sorted(r.status_code for r in responses) == [201, 422]  # the second finds the cart emptied
    assert order_count(conn) == 1
    assert_invariants_hold(conn)


async def test_simultaneous_requests_with_one_key_get_the_first_order_not_a_shortage(client, world, conn):
    cust2 = await bearer(client, "cust_2")
    key = {"Idempotency-Key": "k1"}  # 16 of 30 units: a second order of 16 would be short
    responses = await asyncio.gather(*(client.post("/api/orders", json={"sku_id": 2, "quantity": 16},
                                                   headers=cust2 | key) for _ in range(3)))
    assert sorted(r.status_code for r in responses) == [200, 200, 201]
    assert len({r.json()["order_id"] for r in responses}) == 1
    assert order_count(conn) == 1


async def test_a_key_used_for_a_direct_order_does_not_answer_a_checkout(client, cust1, conn):
    key = {"Idempotency-Key": "k"}
    assert (await client.post("/api/orders", json={"sku_id": 2, "quantity": 2}, headers=cust1 | key)).status_code == 201
    response = await client.post("/api/checkout", headers=cust1 | key)  # empty cart, same key
    assert (response.status_code, response.json()["error"]["code"]) == (409, "idempotency_key_reused")


async def test_keys_are_per_customer(client, cust1, conn):
    cust2 = await bearer(client, "cust_2")
    await fill(client, cust1, {1: 1})
    await fill(client, cust2, {1: 1})
    key = {"Idempotency-Key": "shared-key"}
    first = await client.post("/api/checkout", headers=cust1 | key)
    second = await client.post("/api/checkout", headers=cust2 | key)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["order_id"] != second.json()["order_id"]


@pytest.mark.parametrize("key", [b"", b"x" * 201, b"with space", "ünïcode".encode()])
async def test_malformed_idempotency_keys_are_422(client, cust1, conn, key):
    await fill(client, cust1, {1: 1})
    response = await client.post("/api/checkout", headers=cust1 | {"Idempotency-Key": key})
    assert response.status_code == 422
    assert order_count(conn) == 0


# --- direct orders -------------------------------------------------------------------------

async def test_a_customer_orders_directly_for_itself_only(client, cust1, conn, world):
    response = await client.post("/api/orders", json={"sku_id": 1, "quantity": 6, "customer_id": 2}, headers=cust1)
    assert response.status_code == 201
    order = response.json()
    assert order["customer_id"] == 1  # never the body's customer
    assert [(i["batch_no"], i["quantity"]) for i in order["items"]] == [("A-SOON", 5), ("A-LATER", 1)]
    assert (await client.get("/api/cart", headers=cust1)).json()["items"] == []  # the cart is not involved
    assert_invariants_hold(conn)


async def test_staff_order_for_a_named_customer(client, world, conn):
    staff = await bearer(client, "staffer")
    missing = await client.post("/api/orders", json={"sku_id": 2, "quantity": 1}, headers=staff)
    assert missing.status_code == 422
    unknown = await client.post("/api/orders", json={"sku_id": 2, "quantity": 1, "customer_id": 77}, headers=staff)
    assert unknown.status_code == 404
    response = await client.post("/api/orders", json={"sku_id": 2, "quantity": 1, "customer_id": 2}, headers=staff)
    assert response.status_code == 201
    order = response.json()
    assert (order["customer_id"], order["user_id"], order["total_amount"]) == (2, 4, "30.00")
    assert order_count(conn) == 1


async def test_direct_order_errors(client, cust1, conn):
    short = await client.post("/api/orders", json={"sku_id": 3, "quantity": 5}, headers=cust1)
    assert short.status_code == 409
    assert short.json()["error"]["details"]["lines"] == [{"sku_id": 3, "requested": 5, "available": 4}]
    assert (await client.post("/api/orders", json={"sku_id": 999, "quantity": 1}, headers=cust1)).status_code == 404
    assert (await client.post("/api/orders", json={"sku_id": 1, "quantity": 0}, headers=cust1)).status_code == 422
    assert (await client.post("/api/orders", json={"sku_id": 1, "quantity": 1})).status_code == 401
    assert order_count(conn) == 0


async def test_direct_order_idempotency(client, cust1, conn):
    key = {"Idempotency-Key": "direct-1"}
    first = await client.post("/api/orders", json={"sku_id": 3, "quantity": 1}, headers=cust1 | key)
    again = await client.post("/api/orders", json={"sku_id": 3, "quantity": 1}, headers=cust1 | key)
    other = await client.post("/api/orders", json={"sku_id": 3, "quantity": 2}, headers=cust1 | key)
    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 409)
    assert order_count(conn) == 1


# --- my orders -----------------------------------------------------------------------------

async def test_my_orders_newest_first_paginated_and_filtered(client, cust1, conn):
    ids = []
    for _ in range(3):
        ids.append((await client.post("/api/orders", json={"sku_id": 2, "quantity": 2}, headers=cust1)).json()["order_id"])
    cust2 = await bearer(client, "cust_2")
    await client.post("/api/orders", json={"sku_id": 2, "quantity": 1}, headers=cust2)
    await client.post(f"/api/my-orders/{ids[0]}/cancel", headers=cust1)
    page = (await client.get("/api/my-orders", params={"limit": 2}, headers=cust1)).json()
    assert [o["order_id"] for o in page["items"]] == [ids[2], ids[1]]
    assert (page["total_items"], page["total_pages"], page["current_page"], page["page_size"]) == (3, 2, 1, 2)
    assert page["items"][0] | {"order_date": None, "updated_at": None} == {
        "order_id": ids[2], "order_date": None, "updated_at": None, "status": "pending",
        "total_amount": "60.00", "line_count": 1, "units": 2, "recalled": False}
    second = (await client.get("/api/my-orders", params={"limit": 2, "page": 2}, headers=cust1)).json()
    assert [o["order_id"] for o in second["items"]] == [ids[0]]
    past_end = (await client.get("/api/my-orders", params={"page": 9}, headers=cust1)).json()
    assert (past_end["items"], past_end["total_items"]) == ([], 3)
    cancelled = (await client.get("/api/my-orders", params={"status": "cancelled"}, headers=cust1)).json()
    assert [o["order_id"] for o in cancelled["items"]] == [ids[0]]
    for bad in ({"status": "lost"}, {"page": 0}, {"limit": 201}, {"limit": "x"}):
        assert (await client.get("/api/my-orders", params=bad, headers=cust1)).status_code == 422


async def test_order_detail_traces_every_batch_and_hides_other_customers_orders(client, cust1, world):
    order_id = (await client.post("/api/orders", json={"sku_id": 1, "quantity": 7}, headers=cust1)).json()["order_id"]
    detail = (await client.get(f"/api/my-orders/{order_id}", headers=cust1)).json()
    assert [(i["batch_no"], i["expiry_date"], i["product_name"], i["package_size"]) for i in detail["items"]] == [
        ("A-SOON", str(TODAY.fromordinal(TODAY.toordinal() + 10)), "Amoxicillin 500 mg capsules", "3x10"),
        ("A-LATER", str(TODAY.fromordinal(TODAY.toordinal() + 100)), "Amoxicillin 500 mg capsules", "3x10")]
    assert "unit_cost" not in detail["items"][0]  # costs are the distributor's business
    same_customer = await bearer(client, "cust_1b")
    assert (await client.get(f"/api/my-orders/{order_id}", headers=same_customer)).status_code == 200
    cust2 = await bearer(client, "cust_2")
    for method, path in (("GET", f"/api/my-orders/{order_id}"), ("POST", f"/api/my-orders/{order_id}/cancel")):
        response = await client.request(method, path, headers=cust2)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert (await client.get("/api/my-orders/999999", headers=cust1)).status_code == 404
    assert (await client.get("/api/my-orders/abc", headers=cust1)).status_code == 422


# --- cancellation --------------------------------------------------------------------------

async def test_cancelling_returns_every_unit_to_the_batch_it_came_from(client, cust1, conn, world):
    await fill(client, cust1, {1: 12, 2: 3})
    order = (await client.post("/api/checkout", headers=cust1)).json()
    # a receipt into the batch meanwhile must not confuse the return
    conn.execute("UPDATE Inventory_Batches SET quantity_on_hand = quantity_on_hand + 4 WHERE batch_id = %s",
                 (world["a_later"],))
    conn.execute("INSERT INTO Stock_Movements (batch_id, quantity_delta, reason) VALUES (%s, 4, 'receipt')",
                 (world["a_later"],))
    response = await client.post(f"/api/my-orders/{order['order_id']}/cancel", headers=cust1)
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert (stock(conn, world["a_soon"]), stock(conn, world["a_later"]), stock(conn, world["b"])) == (5, 24, 30)
    assert ledger_rows(conn, order["order_id"])[3:] == [
        (world["a_soon"], 5, "cancel"), (world["a_later"], 7, "cancel"), (world["b"], 3, "cancel")]
    again = await client.post(f"/api/my-orders/{order['order_id']}/cancel", headers=cust1)
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_transition"
    assert stock(conn, world["a_soon"]) == 5  # nothing returned twice
    assert_invariants_hold(conn)


async def test_customers_cannot_cancel_an_order_already_processed(client, cust1, conn, world):
    order_id = (await client.post("/api/orders", json={"sku_id": 2, "quantity": 2}, headers=cust1)).json()["order_id"]
    conn.execute("UPDATE Orders SET status = 'processed' WHERE order_id = %s", (order_id,))
    response = await client.post(f"/api/my-orders/{order_id}/cancel", headers=cust1)
    assert response.status_code == 409
    assert response.json()["error"]["details"] == {"from": "processed", "to": "cancelled", "allowed": []}
    assert stock(conn, world["b"]) == 28


async def test_concurrent_cancellations_return_units_once(client, cust1, conn, world):
    order_id = (await client.post("/api/orders", json={"sku_id": 2, "quantity": 5}, headers=cust1)).json()["order_id"]
    responses = await asyncio.gather(*(client.post(f"/api/my-orders/{order_id}/cancel", headers=cust1)
                                       for _ in range(6)))
    assert sorted(r.status_code for r in responses) == [200] + [409] * 5
    assert stock(conn, world["b"]) == 30
    assert_invariants_hold(conn)


# --- races ---------------------------------------------------------------------------------

async def test_checkout_rereads_stock_after_waiting_for_the_lock(client, cust1, conn, clean_db, world):
    """A competing sale holds SKU 2's lock while checkout arrives; checkout must wait, then
    see the stock that sale left, not what it read before."""
    await fill(client, cust1, {2: 25})
    with psycopg.connect(clean_db) as rival:  # not autocommit: holds its locks until commit
        rival.execute("SELECT 1 FROM Product_SKUs WHERE sku_id = 2 FOR NO KEY UPDATE")
        checkout = asyncio.create_task(client.post("/api/checkout", headers=cust1))
        await wait_until_blocked(clean_db, rival.info.backend_pid, checkout)
        rival.execute("UPDATE Inventory_Batches SET quantity_on_hand = quantity_on_hand - 10 WHERE batch_id = %s",
                      (world["b"],))
        rival.execute("INSERT INTO Stock_Movements (batch_id, quantity_delta, reason) VALUES (%s, -10, 'adjustment')",
                      (world["b"],))
        rival.commit()
        response = await checkout
    assert response.status_code == 409
    assert response.json()["error"]["details"]["lines"] == [{"sku_id": 2, "requested": 25, "available": 20}]
    assert stock(conn, world["b"]) == 20
    assert_invariants_hold(conn)


async def test_crossing_checkouts_neither_deadlock_nor_oversell(client, conn, world):
    """Carts naming the same SKUs in opposite orders, all at once, wanting 6 units of SKU 3
    where 4 exist: no deadlock, no 5xx; two carts get every unit they asked for, the third
    a 409 naming SKU 3 alone, and exactly the 4 units of SKU 3 are sold."""
    users = ["cust_1", "cust_1b", "cust_2"]
    headers = [await bearer(client, u) for u in users]
    for index, h in enumerate(headers):
        lines = {1: 4, 2: 6, 3: 2} if index % 2 else {3: 2, 2: 6, 1: 4}
        await fill(client, h, lines)
    rounds = await asyncio.gather(*(client.post("/api/checkout", headers=h) for h in headers))
    assert sorted(r.status_code for r in rounds) == [201, 201, 409]
    refused = next(r.json()["error"] for r in rounds if r.status_code == 409)
    assert refused["code"] == "insufficient_stock"
    assert refused["details"]["lines"] == [{"sku_id": 3, "requested": 2, "available": 0}]
    sold = {r["sku_id"]: r["n"] for r in conn.execute(
        "SELECT sku_id, sum(quantity_ordered) AS n FROM Order_Items GROUP BY sku_id").fetchall()}
    assert sold == {1: 8, 2: 12, 3: 4}
    assert_invariants_hold(conn)


# --- the invariants `stockline check` adds for orders ---------------------------------------

async def test_check_catches_broken_orders(client, cust1, conn, world):
    placed = [(await client.post("/api/orders", json={"sku_id": sku, "quantity": 2}, headers=cust1)).json()["order_id"]
              for sku in (1, 2, 3)]
    await client.post(f"/api/my-orders/{placed[2]}/cancel", headers=cust1)
    assert_invariants_hold(conn)
    conn.execute("UPDATE Orders SET total_amount = total_amount + 1 WHERE order_id = %s", (placed[0],))
    conn.execute("UPDATE Order_Items SET batch_id = %s WHERE order_id = %s", (world["a_expired"], placed[1]))
    conn.execute("DELETE FROM Stock_Movements WHERE order_id = %s AND reason = 'cancel'", (placed[2],))
    broken = {r.name: r.offenders for r in check_invariants(conn) if not r.holds}
    assert [o["order_id"] for o in broken["order_total_mismatch"]] == [placed[0]]
    assert [o["order_id"] for o in broken["sold_after_expiry"]] == [placed[1]]
    assert {o["order_id"] for o in broken["order_ledger_mismatch"]} == {placed[1], placed[2]}
    assert json.dumps(broken, default=str)  # reportable as `stockline check --json`
