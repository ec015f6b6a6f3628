"""The customer's pages over HTTP (catalog, product, cart, checkout, my orders, reorder,
quick order) with their effects on the database; and the customer's story in a browser.

World (tests/ordering_world.py): SKU 1 AMOX-1 10.00, 25 sellable units (A-SOON 5 expiring
first, A-LATER 20); customer 1 gets 20 % on it (8.00). SKU 2 AMOX-2 30.00, 30 units. SKU 3
PARA-3 2.50, 4 units. SKU 4 PARA-4 not on sale. Everyone gets 5 % from 10 units."""

from __future__ import annotations

import asyncio
import dataclasses
import re

import pytest

from stockline.kernel.catalog_version import Q as CATALOG_Q
from stockline.ordering import quick_order
from tests.conftest import serve
from tests.ordering_world import PASSWORD, ledger_rows, receive, stock
from tests.web_support import HTML, csrf_of, screenshot, sign_in, sign_in_by_form


def _cart(conn, username: str) -> dict[int, int]:
    rows = conn.execute("SELECT ci.sku_id, ci.quantity FROM Cart_Items ci JOIN Carts c USING (cart_id) "
                        "JOIN Users u USING (user_id) WHERE u.username = %s", (username,)).fetchall()
    return {row["sku_id"]: row["quantity"] for row in rows}


def _orders(conn, customer_id: int) -> list[dict]:
    return conn.execute("SELECT order_id, status, total_amount FROM Orders WHERE customer_id = %s "
                        "ORDER BY order_id", (customer_id,)).fetchall()


async def _follow(client, response):
    """The page a 303 leads to (its one-shot flash messages included)."""
    assert response.status_code == 303, response.text
    return await client.get(response.headers["location"], headers=HTML)


async def _add(client, csrf, sku_id, quantity, mode="add", next_url="/catalog"):
    return await client.post("/cart/lines", data={"csrf_token": csrf, "sku_id": str(sku_id),
                                                  "quantity": str(quantity), "mode": mode, "next": next_url})


async def _checkout(client, csrf):
    page = await client.get("/cart", headers=HTML)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text).group(1)
    return await client.post("/checkout", data={"csrf_token": csrf, "idempotency_key": key}), key


def _text(html: str) -> str:
    """The page's text with tags and runs of white space collapsed, for phrase checks."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


# --- catalog and product page -------------------------------------------------------------------

async def test_catalog_shows_the_customers_prices_availability_and_hides_skus_not_on_sale(client, world):
    await sign_in_by_form(client, "cust_1", PASSWORD)
    page = await client.get("/catalog", headers=HTML)
    assert page.status_code == 200
    text = _text(page.text)
    assert "AMOX-1" in text and "AMOX-2" in text and "PARA-3" in text and "PARA-4" not in text
    row = _text(re.search(r'<tr data-sku="1">.*?</tr>', page.text, re.S).group(0))
    assert "8.00" in row and "10.00" in row and "−20%" in row and "25 in stock" in row
    low = _text(re.search(r'<tr data-sku="3">.*?</tr>', page.text, re.S).group(0))
    assert "Low: 4 left" in low
    assert 'aria-current="page">Catalog' in page.text


async def test_catalog_quantity_reprices_and_shows_the_next_tier(client, world):
    await sign_in_by_form(client, "cust_2", PASSWORD)
    one = _text(re.search(r'<tr data-sku="2">.*?</tr>', (await client.get("/catalog", headers=HTML)).text,
                          re.S).group(0))
    assert "30.00" in one and "Buy 10 or more: 28.50 each (5% off)" in one
    ten = _text(re.search(r'<tr data-sku="2">.*?</tr>',
                          (await client.get("/catalog?quantity=10", headers=HTML)).text, re.S).group(0))
    assert "28.50" in ten and "−5%" in ten and "Buy 10" not in ten


async def test_catalog_search_filters_and_empty_state(client, world):
    await sign_in_by_form(client, "cust_1", PASSWORD)
    found = _text((await client.get("/catalog?q=para", headers=HTML)).text)
    assert "PARA-3" in found and "AMOX-1" not in found and "1 product matching “para”" in found
    by_maker = _text((await client.get("/catalog?manufacturer=Sandoz&sort=price", headers=HTML)).text)
    assert "AMOX-1" in by_maker and "PARA-3" not in by_maker
    nothing = await client.get("/catalog?q=zzzz&in_stock=1", headers=HTML)
    assert nothing.status_code == 200 and "No products match “zzzz”" in _text(nothing.text)
    assert "untick “In stock only”" in _text(nothing.text)


async def test_catalog_with_a_bad_quantity_says_so_and_prices_one_unit(client, world):
    await sign_in_by_form(client, "cust_1", PASSWORD)
    for bad in ("abc", "0", "2.5"):
        page = await client.get(f"/catalog?quantity={bad}", headers=HTML)
        assert page.status_code == 422 and "Prices are shown for 1 unit" in page.text
        assert "AMOX-1" in page.text


async def test_product_page_shows_ladder_batches_and_prices_for_a_quantity(client, world):
    await sign_in_by_form(client, "cust_2", PASSWORD)
    page = await client.get("/catalog/1?quantity=12", headers=HTML)
    assert page.status_code == 200
    text = _text(page.text)
    assert "Amoxicillin 500 mg capsules" in text and "3x10 · capsule" in text
    assert "1 to 9 10.00 0%" in text and "10 or more 9.50 5%" in text
    assert "For 12 : 114.00" in text  # 12 x 9.50
    assert "A-SOON" in text and "A-LATER" in text and "A-EXPIRED" not in text and "A-TODAY" not in text
    assert re.search(r'<tr data-min="10" class="current"', page.text)


async def test_product_page_is_404_for_unknown_inactive_or_malformed_skus(client, world):
    await sign_in_by_form(client, "cust_1", PASSWORD)
    for path in ("/catalog/4", "/catalog/999", "/catalog/abc", "/catalog/99999999999999999999"):
        page = await client.get(path, headers=HTML)
        assert page.status_code == 404, path
        assert "Page not found" in page.text


async def test_customer_pages_need_a_customer(client, world):
    response = await client.get("/cart", headers=HTML)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=%2Fcart"
    await sign_in_by_form(client, "staffer", PASSWORD)
    for path in ("/cart", "/catalog", "/orders", "/quick-order", "/catalog/1"):
        page = await client.get(path, headers=HTML)
        assert page.status_code == 403 and "for customers" in page.text, path


# --- cart ----------------------------------------------------------------------------------

async def test_add_to_cart_adds_to_the_line(client, world, conn):
    csrf = await sign_in_by_form(client, "cust_1", PASSWORD)
    first = await _add(client, csrf, 1, 3, next_url="/catalog?q=amox")
    assert first.headers["location"] == "/catalog?q=amox"
    assert _cart(conn, "cust_1") == {1: 3}
    page = await _follow(client, await _add(client, csrf, 1, 2))
    assert "Added 2 × Amoxicillin 500 mg capsules (AMOX-1) to your cart; it holds 5 now." in page.text
    assert _cart(conn, "cust_1") == {1: 5}
    assert _cart(conn, "cust_1b") == {}  # the other user of the customer has their own cart


async def test_add_to_cart_refuses_more_than_available_naming_product_and_quantities(client, world, conn):
    csrf = await sign_in_by_form(client, "cust_1", PASSWORD)
    await _add(client, csrf, 1, 5)
    page = await _follow(client, await _add(client, csrf, 1, 21))
    assert ("Not enough stock of Amoxicillin 500 mg capsules (AMOX-1): you asked for 26 in all "
            "(5 already in your cart), only 25 available") in page.text
    assert 'role="alert"' in page.text
    assert _cart(conn, "cust_1") == {1: 5}


async def test_adds_at_the_same_time_all_count(client, world, conn):
    csrf = await sign_in_by_form(client, "cust_1", PASSWORD)
    answers = await asyncio.gather(*(_add(client, csrf, 2, 1) for _ in range(6)))
    assert [answer.status_code for answer in answers] == [303] * 6
    assert _cart(conn, "cust_1") == {2: 6}


@pytest.mark.parametrize(("sku_id", "quantity", "message"), [
    ("1", "abc", "Enter the quantity as a whole number (&#34;abc&#34; is not one)"),
    ("1", "0", "The quantity must be at least 1"),
    ("1", "-3", "Enter the quantity as a whole number"),
    ("1", "", "Enter a quantity"),
    ("1", "1000001", "The quantity must be at most 1,000,000"),
    ("999", "1", "SKU 999 is not in the catalog"),
    ("4", "1", "Paracetamol 500 mg tablets (PARA-4) is no longer sold"),
    ("x", "1", "Choose a product from the catalog"),
])
async def test_add_to_cart_bad_input_is_explained_and_changes_nothing(client, world, conn, sku_id, quantity,
                                                                      message):
    csrf = await sign_in_by_form(client, "cust_1", PASSWORD)
    page = await _follow(client, await _add(client, csrf, sku_id, quantity))
    assert page.status_code == 200 and message in page.text
    assert _cart(conn, "cust_1") == {}


async def test_cart_forms_need_the_csrf_token(client, world, conn):
    await sign_in_by_form(client, "cust_1", PASSWORD)
    for path, data in (("/cart/lines", {"sku_id": "1", "quantity": "1", "mode": "add"}),
                       ("/cart/clear", {}), ("/checkout", {"idempotency_key": "k1"}),
                       ("/quick-order", {"lines": "AMOX-1 1", "action": "add"})):
        response = await client.post(path, data=data, headers=HTML)
        assert response.status_code == 403 and "did not come from Stockline" in response.text, path
    assert _cart(conn, "cust_1") == {} and _orders(conn, 1) == []


async def test_cart_page_shows_lines_prices_and_totals(client, world):
    csrf = await sign_in_by_form(client, "cust_2", PASSWORD)
    empty = await client.get("/cart", headers=HTML)
    assert "Your cart is empty" in empty.text and 'href="/catalog"' in empty.text
    await _add(client, csrf, 2, 10)
    await _add(client, csrf, 3, 2)
    page = await client.get("/cart", headers=HTML)
    text = _text(page.text)
    assert 'aria-current="page">Cart' in page.text
    assert "AMOX-2" in text and "28.50 30.00" in text and "285.00" in text  # 10 x 28.50, 5 % off
    assert "PARA-3" in text and "5.00" in text
    assert "Order total 12 units 290.00" in text
    assert re.search(r'<form method="post" action="/checkout" data-once', page.text)


async def test_cart_set_remove_and_clear(client, world, conn):
    csrf = await sign_in_by_form(client, "cust_1", PASSWORD)
    await _add(client, csrf, 1, 3)
    await _add(client, csrf, 2, 1)
    updated = await _follow(client, await _add(client, csrf, 1, 7, mode="set"))
    assert "Amoxicillin 500 mg capsules: 7 in your cart, 56.00 for the line." in updated.text
    assert _cart(conn, "cust_1") == {1: 7, 2: 1}
    too_many = await _add(client, csrf, 1, 40, mode="set")
    assert too_many.status_code == 409
    text = _text(too_many.text)
    assert "Not enough stock of Amoxicillin 500 mg capsules (AMOX-1): you asked for 40, only 25 available" in text
    assert 'value="40"' in too_many.text  # what was typed stays in the box
    bad = await _add(client, csrf, 1, "lots", mode="set")
    assert bad.status_code == 422 and "whole number" in bad.text
    assert _cart(conn, "cust_1") == {1: 7, 2: 1}
    removed = await client.post("/cart/lines/2/remove", data={"csrf_token": csrf})
    assert "The line is removed" in (await _follow(client, removed)).text and _cart(conn, "cust_1") == {1: 7}
    missing = await _follow(client, await client.post("/cart/lines/2/remove", data={"csrf_token": csrf}))
    assert "was not in your cart" in missing.text
    assert (await _add(client, csrf, 1, 0, mode="set")).status_code == 303 and _cart(conn, "cust_1") == {}
    await _add(client, csrf, 3, 1)
    cleared = await _follow(client, await client.post("/cart/clear", data={"csrf_token": csrf}))
    assert "Your cart is empty now." in cleared.text and _cart(conn, "cust_1") == {}


# --- checkout --------------------------------------------------------------------------------

async def test_checkout_places_the_order_fefo_and_a_second_submit_gets_the_same_order(client, world, conn):
    csrf = await sign_in_by_form(client, "cust_1", PASSWORD)
    await _add(client, csrf, 1, 8)
    await _add(client, csrf, 3, 1)
    response, key = await _checkout(client, csrf)
    [order] = _orders(conn, 1)
    assert response.headers["location"] == f"/orders/{order['order_id']}"
    assert order["status"] == "pending" and str(order["total_amount"]) == "66.50"  # 8 x 8.00 + 2.50
    assert stock(conn, world["a_soon"]) == 0 and stock(conn, world["a_later"]) == 17 and stock(conn, world["c"]) == 3
    assert sorted(ledger_rows(conn, order["order_id"])) == sorted(
        [(world["a_soon"], -5, "sale"), (world["a_later"], -3, "sale"), (world["c"], -1, "sale")])
    assert _cart(conn, "cust_1") == {}
    page = await _follow(client, response)
    assert f"order #{order['order_id']} is placed (2 lines, 9 units, total 66.50)" in page.text
    again = await client.post("/checkout", data={"csrf_token": csrf, "idempotency_key": key})
    assert again.headers["location"] == f"/orders/{order['order_id']}"
    assert "was already placed" in (await _follow(client, again)).text
    assert len(_orders(conn, 1)) == 1 and stock(conn, world["a_later"]) == 17
    await _add(client, csrf, 2, 1)  # the old form sent again after the cart changed: no second order
    stale = await _follow(client, await client.post("/checkout", data={"csrf_token": csrf, "idempotency_key": key}))
    assert f"This order form was already used for order #{order['order_id']}" in stale.text
    assert len(_orders(conn, 1)) == 1 and _cart(conn, "cust_1") == {2: 1}


async def test_checkout_shortage_names_each_short_line_and_keeps_the_cart(client, world, conn):
    csrf = await sign_in_by_form(client, "cust_1", PASSWORD)
    await _add(client, csrf, 3, 4)
    await _add(client, csrf, 2, 1)
    conn.execute("UPDATE Inventory_Batches SET quantity_on_hand = 1 WHERE batch_id = %s", (world["c"],))
    response, _ = await _checkout(client, csrf)
    assert response.status_code == 409
    text = _text(response.text)
    assert "Nothing was ordered and your cart is as it was" in text
    assert "Not enough stock of Paracetamol 500 mg tablets (PARA-3): you asked for 4, only 1 available" in text
    assert _cart(conn, "cust_1") == {3: 4, 2: 1} and _orders(conn, 1) == []
    assert stock(conn, world["b"]) == 30


async def test_checkout_of_an_empty_cart_or_without_a_key_is_explained(client, world, conn):
    csrf = await sign_in_by_form(client, "cust_1", PASSWORD)
    empty = await _follow(client, await client.post("/checkout", data={"csrf_token": csrf,
                                                                        "idempotency_key": "k-1"}))
    assert "Your cart is empty" in empty.text
    await _add(client, csrf, 3, 1)
    keyless = await _follow(client, await client.post("/checkout", data={"csrf_token": csrf}))
    assert "out of date" in keyless.text and _orders(conn, 1) == []


# --- my orders -------------------------------------------------------------------------------

async def test_orders_list_newest_first_with_status_and_empty_state(client, world, conn):
    csrf = await sign_in_by_form(client, "cust_1", PASSWORD)
    empty = await client.get("/orders", headers=HTML)
    assert "You have not ordered anything yet" in empty.text
    ids = []
    for sku_id in (3, 2):
        await _add(client, csrf, sku_id, 1)
        ids.append(int((await _checkout(client, csrf))[0].headers["location"].rsplit("/", 1)[1]))
    conn.execute("UPDATE Orders SET status = 'shipped' WHERE order_id = %s", (ids[0],))
    page = await client.get("/orders", headers=HTML)
    text = _text(page.text)
    assert text.index(f"Order #{ids[1]}") < text.index(f"Order #{ids[0]}")
    assert 'badge badge-shipped">shipped' in page.text and 'badge badge-pending">pending' in page.text
    assert "30.00" in text and "2.50" in text
    shipped = _text((await client.get("/orders?status=shipped", headers=HTML)).text)
    assert f"Order #{ids[0]}" in shipped and f"Order #{ids[1]}" not in shipped
    none = await client.get("/orders?status=cancelled", headers=HTML)
    assert "No cancelled orders" in none.text


async def test_order_detail_shows_batches_and_expiry_and_is_404_for_others(client, world, conn):
    csrf = await sign_in_by_form(client, "cust_1", PASSWORD)
    await _add(client, csrf, 1, 7)
    order_id = int((await _checkout(client, csrf))[0].headers["location"].rsplit("/", 1)[1])
    page = await client.get(f"/orders/{order_id}", headers=HTML)
    text = _text(page.text)
    expiries = {r["batch_no"]: r["expiry_date"] for r in conn.execute(
        "SELECT batch_no, expiry_date FROM Inventory_Batches WHERE batch_id IN (%s, %s)",
        (world["a_soon"], world["a_later"])).fetchall()}
    assert f"A-SOON · expires {expiries['A-SOON']:%d %b %Y} · 5 units" in text
    assert f"A-LATER · expires {expiries['A-LATER']:%d %b %Y} · 2 units" in text
    assert "Order total 56.00" in text and "Cancel order" in text
    await client.post("/logout", data={"csrf_token": csrf})
    await sign_in_by_form(client, "cust_1b", PASSWORD)  # another user of the same customer sees it
    assert (await client.get(f"/orders/{order_id}", headers=HTML)).status_code == 200
    await client.post("/logout", data={"csrf_token": csrf_of((await client.get("/cart", headers=HTML)).text)})
    await sign_in_by_form(client, "cust_2", PASSWORD)
    for path in (f"/orders/{order_id}", "/orders/999999", "/orders/abc"):
        assert (await client.get(path, headers=HTML)).status_code == 404, path
    csrf2 = csrf_of((await client.get("/cart", headers=HTML)).text)
    refused = await client.post(f"/orders/{order_id}/cancel", data={"csrf_token": csrf2}, headers=HTML)
    assert refused.status_code == 404 and _orders(conn, 1)[0]["status"] == "pending"


async def test_cancel_restores_stock_and_a_second_cancel_is_explained(client, world, conn):
    csrf = await sign_in_by_form(client, "cust_1", PASSWORD)
    await _add(client, csrf, 1, 7)
    order_id = int((await _checkout(client, csrf))[0].headers["location"].rsplit("/", 1)[1])
    assert stock(conn, world["a_soon"]) == 0
    page = await _follow(client, await client.post(f"/orders/{order_id}/cancel", data={"csrf_token": csrf}))
    assert f"Order #{order_id} is cancelled" in page.text and "Cancel order</button>" not in page.text
    assert _orders(conn, 1)[0]["status"] == "cancelled"
    assert stock(conn, world["a_soon"]) == 5 and stock(conn, world["a_later"]) == 20
    assert sorted(r for r in ledger_rows(conn, order_id) if r[2] == "cancel") == sorted(
        [(world["a_soon"], 5, "cancel"), (world["a_later"], 2, "cancel")])
    again = await _follow(client, await client.post(f"/orders/{order_id}/cancel", data={"csrf_token": csrf}))
    assert f"Order #{order_id} is cancelled, so it can no longer be cancelled" in again.text
    assert stock(conn, world["a_later"]) == 20


async def test_a_processed_order_cannot_be_cancelled_by_the_customer(client, world, conn):
    csrf = await sign_in_by_form(client, "cust_1", PASSWORD)
    await _add(client, csrf, 2, 2)
    order_id = int((await _checkout(client, csrf))[0].headers["location"].rsplit("/", 1)[1])
    conn.execute("UPDATE Orders SET status = 'processed' WHERE order_id = %s", (order_id,))
    page = await _follow(client, await client.post(f"/orders/{order_id}/cancel", data={"csrf_token": csrf}))
    assert "is processed, so it can no longer be cancelled" in page.text
    assert _orders(conn, 1)[0]["status"] == "processed" and stock(conn, world["b"]) == 28


async def test_reorder_adds_the_lines_and_names_those_it_cannot(client, world, conn):
    csrf = await sign_in_by_form(client, "cust_1", PASSWORD)
    await _add(client, csrf, 1, 3)
    await _add(client, csrf, 2, 2)
    await _add(client, csrf, 3, 3)
    order_id = int((await _checkout(client, csrf))[0].headers["location"].rsplit("/", 1)[1])
    conn.execute("UPDATE Product_SKUs SET is_active = false WHERE sku_id = 2")  # AMOX-2 no longer sold
    await _add(client, csrf, 1, 1)  # the cart already holds one unit of SKU 1: reorder adds to it
    response = await client.post(f"/orders/{order_id}/reorder", data={"csrf_token": csrf})
    assert response.headers["location"] == "/cart"
    page = _text((await _follow(client, response)).text)
    assert f"Added 1 line of order #{order_id} to your cart." in page
    assert "Amoxicillin 500 mg capsules (AMOX-2) is no longer sold" in page
    assert "Not enough stock of Paracetamol 500 mg tablets (PARA-3): you asked for 3, only 1 available" in page
    assert _cart(conn, "cust_1") == {1: 4}
    conn.execute("UPDATE Product_SKUs SET is_active = false WHERE sku_id = 1")
    nothing = await _follow(client, await client.post(f"/orders/{order_id}/reorder", data={"csrf_token": csrf}))
    assert f"Nothing from order #{order_id} could be added" in nothing.text and _cart(conn, "cust_1") == {1: 4}


# --- quick order -----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "lines"), [
    ("AMOX-1\t3", [(1, "AMOX-1", 3)]),
    ("amox-1,3\n\n  PARA-3 ;  12  \r\nx-9    1", [(1, "amox-1", 3), (3, "PARA-3", 12), (4, "x-9", 1)]),
    ("AMOX-1, 2,", [(1, "AMOX-1", 2)]),
])
def test_quick_order_reads_tabs_commas_semicolons_spaces_and_skips_blank_lines(text, lines):
    parsed = quick_order.parse(text)
    assert parsed.error is None
    assert [(line.number, line.code, line.quantity) for line in parsed.lines] == lines
    assert all(line.error is None for line in parsed.lines)


def test_quick_order_refuses_too_many_lines_and_duplicates_in_any_case():
    assert "at most 200" in quick_order.parse("\n".join(f"S-{n} 1" for n in range(201))).error
    assert "more than 20,000 characters" in quick_order.parse("A 1\n" * 6000).error
    second = quick_order.parse("amox-1 1\nAMOX-1 2").lines[1]
    assert second.error == "AMOX-1 is already on line 1; put its whole quantity on one line"


async def test_quick_order_preview_reports_errors_by_line_and_adds_nothing(client, world, conn):
    csrf = await sign_in_by_form(client, "cust_1", PASSWORD)
    page = await client.get("/quick-order", headers=HTML)
    assert page.status_code == 200 and 'aria-current="page">Quick order' in page.text
    text = "amox-1\t3\n\nAMOX-2, 2\nNOPE-9 1\nAMOX-2 x\nAMOX-2 0\nPARA-4 1\nAMOX-1;1\nPARA-3 99\nAMOX-2\n"
    for action in ("preview", "add"):
        response = await client.post("/quick-order", data={"csrf_token": csrf, "lines": text, "action": action})
        assert response.status_code == 422
        body = _text(response.text)
        assert "Line 4: No SKU has the code NOPE-9" in body
        assert 'Line 5: The quantity "x" is not a whole number' in body.replace("&#34;", '"')
        assert "Line 6: The quantity must be between 1 and 1,000,000" in body
        assert "Line 7: PARA-4 is no longer sold" in body
        assert "Line 8: AMOX-1 is already on line 1" in body
        assert "Line 9: Only 4 available" in body
        assert "Line 10: No quantity" in body
        assert "Add all" not in body
    assert "Nothing was added: fix the lines marked below first." in _text(response.text)
    assert _cart(conn, "cust_1") == {}


async def test_quick_order_adds_every_line_or_none(client, world, conn):
    csrf = await sign_in_by_form(client, "cust_1", PASSWORD)
    text = "amox-1\t12\n  PARA-3 ,  2  \n\nAmox-2   10\n"
    preview = await client.post("/quick-order", data={"csrf_token": csrf, "lines": text, "action": "preview"})
    assert preview.status_code == 200
    body = _text(preview.text)
    assert "Amoxicillin 500 mg capsules 3x10 capsule · AMOX-1 12 8.00 20% 96.00" in body
    assert "Amoxicillin 500 mg capsules 100 capsule · AMOX-2 10 28.50 5% 285.00" in body
    assert "Total 386.00" in body and "Add all 3 lines to cart" in body
    assert _cart(conn, "cust_1") == {}
    await _add(client, csrf, 1, 20)  # now 12 more of AMOX-1 would exceed the 25 on sale: all refused
    refused = await client.post("/quick-order", data={"csrf_token": csrf, "lines": text, "action": "add"})
    assert refused.status_code == 409
    assert ("Not enough stock of Amoxicillin 500 mg capsules (AMOX-1): you asked for 32 in all "
            "(20 already in your cart), only 25 available") in _text(refused.text)
    assert _cart(conn, "cust_1") == {1: 20}
    await _add(client, csrf, 1, 0, mode="set")
    added = await client.post("/quick-order", data={"csrf_token": csrf, "lines": text, "action": "add"})
    assert added.headers["location"] == "/cart"
    assert "Added 3 lines (24 units) to your cart." in (await _follow(client, added)).text
    assert _cart(conn, "cust_1") == {1: 12, 3: 2, 2: 10}


async def test_quick_order_with_nothing_pasted(client, world):
    csrf = await sign_in_by_form(client, "cust_1", PASSWORD)
    page = await client.post("/quick-order", data={"csrf_token": csrf, "lines": " \n\n", "action": "preview"})
    assert page.status_code == 422 and "Paste at least one line" in page.text


# --- cost: the number of queries of a page does not grow with its rows ----------------------

def _queries(response) -> int:
    assert response.status_code in (200, 303, 422), response.text
    return int(re.search(r'desc="(\d+) queries"', response.headers["server-timing"]).group(1))


async def test_pages_run_a_fixed_number_of_queries_whatever_their_rows(world, settings, conn):
    async with serve(dataclasses.replace(settings, log_timing=True)) as client:
        csrf = await sign_in_by_form(client, "cust_1", PASSWORD)

        async def costs(order_id: int, quick: str) -> dict[str, int]:
            pages = {"catalog": "/catalog", "search": "/catalog?q=amox&quantity=3",
                     "by price": "/catalog?sort=price&in_stock=1", "product": "/catalog/1", "cart": "/cart",
                     "orders": "/orders", "order": f"/orders/{order_id}"}
            cost = {name: _queries(await client.get(path, headers=HTML)) for name, path in pages.items()}
            cost["quick preview"] = _queries(await client.post("/quick-order", data={
                "csrf_token": csrf, "lines": quick, "action": "preview"}))
            cost["reorder"] = _queries(await client.post(f"/orders/{order_id}/reorder", data={"csrf_token": csrf}))
            await client.post("/cart/clear", data={"csrf_token": csrf})
            return cost

        await _add(client, csrf, 3, 1)
        first = int((await _checkout(client, csrf))[0].headers["location"].rsplit("/", 1)[1])
        await _add(client, csrf, 3, 1)
        few = await costs(first, "PARA-3 1")
        conn.execute("INSERT INTO Products (product_id, name, manufacturer) SELECT 100 + n, 'Extra ' || n, "
                     "'Maker ' || n FROM generate_series(1, 25) n")
        conn.execute("INSERT INTO Product_SKUs (product_id, sku_code, package_size, unit_type, base_price) "
                     "SELECT 100 + n, 'EX-' || n, '10', 'tablet', 1.00 FROM generate_series(1, 25) n")
        conn.execute(CATALOG_Q["bump_catalog_version"].sql)  # what the catalog's writers announce
        for n in range(1, 4):
            receive(conn, 1, f"A-MORE-{n}", 20 + n, 2)
        for sku_id, quantity in ((1, 30), (2, 3), (3, 1)):  # SKU 1 drawn from four batches
            await _add(client, csrf, sku_id, quantity)
        more = int((await _checkout(client, csrf))[0].headers["location"].rsplit("/", 1)[1])
        for sku_id in (1, 2, 3):
            await _add(client, csrf, sku_id, 1)
        many = await costs(more, "AMOX-1 1\nAMOX-2 2\nPARA-3 1\nEX-1 1\nEX-2 1\nNOPE 1")
    assert many == few
    assert max(few.values()) <= 6


# --- the customer's story in a browser --------------------------------------------------------

def test_customer_story_in_a_browser(world, live_url, page, conn):
    sign_in(page, live_url, "cust_2", PASSWORD)
    assert page.url.endswith("/catalog")
    page.get_by_label("Search").fill("capsules")
    page.wait_for_function("() => !document.querySelector('#results').textContent.includes('PARA-3')")
    assert page.locator("#results tbody tr").count() == 2
    screenshot(page, "customer-catalog")

    page.get_by_role("link", name="Amoxicillin 500 mg capsules").first.click()
    page.wait_for_url(re.compile(r"/catalog/1"))
    price = page.locator(".buy [data-field=effective_price]")
    assert price.inner_text() == "10.00"
    page.get_by_label("Quantity").fill("12")
    page.wait_for_function("() => document.querySelector('.buy [data-field=effective_price]').textContent === '9.50'")
    assert page.locator(".buy [data-field=line_total]").inner_text() == "114.00"
    assert page.locator("tr.current").inner_text().startswith("10 or more")
    screenshot(page, "customer-product")
    page.get_by_role("button", name="Add to cart").click()
    assert "it holds 12 now" in page.get_by_role("status").first.inner_text()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Cart").click()
    box = page.get_by_label("Quantity of Amoxicillin 500 mg capsules 3x10")
    assert box.input_value() == "12"
    box.fill("10")  # saved at once, the totals follow (10 x 9.50)
    page.get_by_role("status").filter(has_text="Saved.").wait_for()
    assert page.locator("tfoot [data-field=total_amount]").inner_text() == "95.00"
    assert _cart(conn, "cust_2") == {1: 10}
    box.fill("26")
    page.get_by_text("Not enough stock of Amoxicillin 500 mg capsules: you asked for 26, only 25 available.").wait_for()
    assert _cart(conn, "cust_2") == {1: 10}
    box.fill("10")
    page.get_by_role("status").filter(has_text="Saved.").wait_for()
    screenshot(page, "customer-cart")
    page.get_by_role("button", name=re.compile("Place order")).click()
    page.wait_for_url(re.compile(r"/orders/\d+$"))
    order_id = int(page.url.rsplit("/", 1)[1])
    assert "is placed" in page.get_by_role("status").first.inner_text()
    lines = page.locator("table.order-lines").inner_text()
    assert "A-SOON" in lines and "A-LATER" in lines and "expires" in lines
    assert stock(conn, world["a_soon"]) == 0 and stock(conn, world["a_later"]) == 15
    screenshot(page, "customer-order-detail")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel order").click()
    page.get_by_text(f"Order #{order_id} is cancelled").wait_for()
    assert _orders(conn, 2)[0]["status"] == "cancelled"
    assert stock(conn, world["a_soon"]) == 5 and stock(conn, world["a_later"]) == 20

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My orders").click()
    assert page.get_by_role("link", name=f"Order #{order_id}").is_visible()
    screenshot(page, "customer-orders")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Quick order").click()
    page.get_by_label(re.compile("Lines to order")).fill("amox-2 3\nPARA-3, 1\nNOPE 2")
    page.get_by_role("button", name="Check lines").click()
    assert "Line 3: No SKU has the code NOPE" in page.locator("table.quick-preview").inner_text()
    screenshot(page, "customer-quick-order")
    page.get_by_label(re.compile("Lines to order")).fill("amox-2 3\nPARA-3, 1")
    page.get_by_role("button", name="Check lines").click()
    page.get_by_role("button", name="Add all 2 lines to cart").click()
    page.wait_for_url(re.compile(r"/cart$"))
    assert _cart(conn, "cust_2") == {2: 3, 3: 1}
