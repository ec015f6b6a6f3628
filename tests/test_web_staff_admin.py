"""The back office's admin pages (orders, pricing rules and the price preview, customers,
users) over HTTP: who may open each (the same roles as the JSON API), what each shows, what
each form writes to the database and what it refuses; then the main flows in a real browser."""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal

import httpx
import pytest

from tests.conftest import serve
from tests.ordering_world import PASSWORD, bearer, ledger_rows, stock
from tests.web_support import HTML, screenshot, sign_in, sign_in_by_form


async def _order(client, quantity: int = 8, sku_id: int = 1, customer: str = "cust_1") -> int:
    """An order placed through the API as a customer's user (FEFO allocates it)."""
    response = await client.post("/api/orders", json={"sku_id": sku_id, "quantity": quantity},
                                 headers=await bearer(client, customer))
    assert response.status_code == 201, response.text
    return response.json()["order_id"]


def _status(conn, order_id: int) -> str:
    return conn.execute("SELECT status FROM Orders WHERE order_id = %s", (order_id,)).fetchone()["status"]


def _count(conn, table: str) -> int:
    return conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"]  # noqa: S608 - test tables


# --- who may open what: the API's roles, page for page -----------------------------------

# (page, the API endpoint whose role rule it mirrors); {o} is an order id
PAGES = [
    ("/staff/orders", "/api/admin/orders"),
    ("/staff/orders/{o}", "/api/admin/orders/{o}"),
    ("/staff/pricing/new", "/api/admin/pricing/rules"),
    ("/staff/pricing/1/edit", "/api/admin/pricing/rules/1"),
    ("/staff/pricing/preview?sku_id=1", "/api/admin/pricing/preview?sku_id=1"),
    ("/staff/customers", "/api/admin/customers"),
    ("/staff/customers/new", "/api/admin/customers"),
    ("/staff/customers/1", "/api/admin/customers/1"),
    ("/staff/customers/1/edit", "/api/admin/customers/1"),
    ("/staff/users", "/api/admin/users"),
    ("/staff/users/new", "/api/admin/users"),
    ("/staff/users/1", "/api/admin/users/1"),
]
FORMS = ["/staff/orders/{o}/status", "/staff/pricing", "/staff/pricing/1", "/staff/pricing/1/delete",
         "/staff/customers", "/staff/customers/1", "/staff/customers/1/delete", "/staff/users",
         "/staff/users/1/deactivate", "/staff/users/1/reactivate", "/staff/users/1/password", "/staff/users/4/role"]
FORM_BODIES = {"/staff/orders/{o}/status": {"status": "cancelled"},
               "/staff/pricing": {"min_quantity": "1", "discount_percentage": "50"},
               "/staff/pricing/1": {"min_quantity": "1", "discount_percentage": "50"},
               "/staff/customers": {"name": "Sneaky", "customer_type": "clinic"},
               "/staff/customers/1": {"name": "Renamed", "customer_type": "clinic"},
               "/staff/users": {"username": "sneaky", "password": "Sneaky@12345", "role": "admin"},
               "/staff/users/1/password": {"new_password": "Sneaky@12345", "repeat_password": "Sneaky@12345"},
               "/staff/users/4/role": {"role": "admin"}}
ADMIN_ONLY_FORMS = [path for path in FORMS if not path.startswith("/staff/orders")]


def _snapshot(conn) -> tuple:
    """Everything the forms above could change."""
    return (conn.execute("SELECT order_id, status FROM Orders ORDER BY 1").fetchall(),
            conn.execute("SELECT * FROM Pricing_Rules ORDER BY rule_id").fetchall(),
            conn.execute("SELECT * FROM Customers ORDER BY customer_id").fetchall(),
            conn.execute("SELECT user_id, username, role, customer_id, is_active, password_hash, "
                         "must_change_password, token_version FROM Users ORDER BY user_id").fetchall())


async def test_a_customer_gets_403_on_every_staff_admin_page_and_form(client, world, conn):
    order_id = await _order(client)
    csrf = await sign_in_by_form(client, "cust_1", PASSWORD)
    for page, _ in PAGES:
        response = await client.get(page.format(o=order_id), headers=HTML)
        assert response.status_code == 403, page
        assert "Not allowed" in response.text
    before = _snapshot(conn)
    for form in FORMS:
        response = await client.post(form.format(o=order_id), headers=HTML,
                                     data={"csrf_token": csrf, **FORM_BODIES.get(form, {})})
        assert response.status_code == 403, form
    assert _snapshot(conn) == before


async def test_staff_may_open_exactly_what_the_api_lets_staff_do(client, world, conn):
    order_id = await _order(client)
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    for page, api in PAGES:
        shown = await client.get(page.format(o=order_id), headers=HTML)
        answered = await client.get(api.format(o=order_id))
        assert answered.status_code in (200, 403), api
        assert shown.status_code == answered.status_code, (page, api)
    # the rules list is admin-only in the API: staff are sent on to the preview they may use
    response = await client.get("/staff/pricing", headers=HTML)
    assert response.status_code == 303 and response.headers["location"] == "/staff/pricing/preview"
    assert (await client.get("/api/admin/pricing/rules")).status_code == 403
    before = _snapshot(conn)
    for form in ADMIN_ONLY_FORMS:
        response = await client.post(form, headers=HTML, data={"csrf_token": csrf, **FORM_BODIES.get(form, {})})
        assert response.status_code == 403, form
        assert "Only admins" in response.text
    assert _snapshot(conn) == before


async def test_admins_may_open_every_page(client, world):
    order_id = await _order(client)
    await sign_in_by_form(client, "boss", PASSWORD)
    for page, _ in [*PAGES, ("/staff/pricing", None)]:
        response = await client.get(page.format(o=order_id), headers=HTML)
        assert response.status_code == 200, page
        assert '<h1>' in response.text


async def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    response = await client.get("/staff/orders?status=pending", headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fstaff%2Forders%3Fstatus%3Dpending"


async def test_every_form_without_the_csrf_token_is_refused_and_writes_nothing(client, world, conn):
    order_id = await _order(client)
    await sign_in_by_form(client, "boss", PASSWORD)
    before = _snapshot(conn)
    for form in FORMS:
        response = await client.post(form.format(o=order_id), headers=HTML, data=FORM_BODIES.get(form, {}))
        assert response.status_code == 403, form
        assert "did not come from Stockline" in response.text
    assert _snapshot(conn) == before


# --- orders ---------------------------------------------------------------------------------

async def test_order_list_shows_every_customers_orders_with_filters(client, world, conn):
    first = await _order(client, 2, customer="cust_1")
    second = await _order(client, 1, sku_id=2, customer="cust_2")
    await sign_in_by_form(client, "staffer", PASSWORD)
    page = await client.get("/staff/orders", headers=HTML)
    assert page.status_code == 200
    assert f'href="/staff/orders/{first}"' in page.text and f'href="/staff/orders/{second}"' in page.text
    assert "First Pharmacy" in page.text and "Second Pharmacy" in page.text
    assert page.text.index(f"#{second}<") < page.text.index(f"#{first}<")  # newest first
    only_2 = await client.get("/staff/orders?customer_id=2", headers=HTML)
    assert f'href="/staff/orders/{second}"' in only_2.text and f'href="/staff/orders/{first}"' not in only_2.text
    conn.execute("UPDATE Orders SET status = 'processed' WHERE order_id = %s", (first,))
    processed = await client.get("/staff/orders?status=processed", headers=HTML)
    assert f'href="/staff/orders/{first}"' in processed.text
    assert f'href="/staff/orders/{second}"' not in processed.text
    past = await client.get("/staff/orders?date_to=2000-01-01", headers=HTML)
    assert "No orders match these filters" in past.text


async def test_order_list_explains_bad_filters_instead_of_failing(client, world):
    await sign_in_by_form(client, "staffer", PASSWORD)
    for query, message in (("customer_id=abc", "Customer number must be a whole number"),
                           ("status=lost", "Status must be one of"),
                           ("date_from=2026-02-31", "From must be a date"),
                           ("date_from=2026-03-02&date_to=2026-03-01", "date_from must not be after date_to")):
        response = await client.get(f"/staff/orders?{query}", headers=HTML)
        assert response.status_code == 422, query
        assert message in response.text, query


async def test_order_list_pages(client, world, conn):
    for _ in range(27):
        await _order(client, 1, sku_id=2)
    await sign_in_by_form(client, "staffer", PASSWORD)
    first = await client.get("/staff/orders", headers=HTML)
    assert first.text.count('href="/staff/orders/') == 25 and "Page 1 of 2" in first.text
    second = await client.get("/staff/orders?page=2", headers=HTML)
    assert second.text.count('href="/staff/orders/') == 2 and "Page 2 of 2" in second.text
    assert (await client.get("/staff/orders?page=x", headers=HTML)).status_code == 200


async def test_order_detail_shows_batches_costs_and_only_the_allowed_moves(client, world, conn):
    order_id = await _order(client, 8)  # FEFO: 5 from A-SOON (cost 6.00), 3 from A-LATER (7.00)
    await sign_in_by_form(client, "staffer", PASSWORD)
    page = await client.get(f"/staff/orders/{order_id}", headers=HTML)
    assert page.status_code == 200
    for text in ("A-SOON", "A-LATER", "AMOX-1", "First Pharmacy", "cust_1", "64.00",  # 8 x 8.00 (20 % off)
                 "51.00", "13.00"):  # cost 5 x 6 + 3 x 7; profit
        assert text in page.text, text
    buttons = [("processed", "Mark as processed"), ("cancelled", "Cancel order"), ("shipped", "Mark as shipped")]
    assert all(f'value="{s}"' in page.text and label in page.text for s, label in buttons[:2])
    assert 'value="shipped"' not in page.text
    assert 'data-confirm="Cancel order' in page.text
    conn.execute("UPDATE Orders SET status = 'shipped' WHERE order_id = %s", (order_id,))
    page = await client.get(f"/staff/orders/{order_id}", headers=HTML)
    assert not any(f'name="status" value="{s}"' in page.text for s, _ in buttons)
    assert "that is final" in page.text
    missing = await client.get("/staff/orders/999999", headers=HTML)
    assert missing.status_code == 404 and "No order 999999" in missing.text


async def test_status_buttons_move_an_order_through_its_lifecycle(client, world, conn):
    order_id = await _order(client, 8)
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    for status in ("processed", "shipped"):
        response = await client.post(f"/staff/orders/{order_id}/status", data={"csrf_token": csrf, "status": status})
        assert response.status_code == 303 and response.headers["location"] == f"/staff/orders/{order_id}"
        assert _status(conn, order_id) == status
        shown = await client.get(response.headers["location"], headers=HTML)
        assert f"Order {order_id} is now {status}." in shown.text


async def test_an_illegal_move_is_refused_with_a_clear_message_and_changes_nothing(client, world, conn):
    order_id = await _order(client, 8)
    conn.execute("UPDATE Orders SET status = 'shipped' WHERE order_id = %s", (order_id,))
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    batches_before = [stock(conn, batch) for batch in (world["a_soon"], world["a_later"])]
    response = await client.post(f"/staff/orders/{order_id}/status", headers=HTML,
                                 data={"csrf_token": csrf, "status": "cancelled"})
    assert response.status_code == 409
    assert "An order that is shipped cannot become cancelled" in response.text
    assert _status(conn, order_id) == "shipped"
    assert [stock(conn, batch) for batch in (world["a_soon"], world["a_later"])] == batches_before
    assert [row[2] for row in ledger_rows(conn, order_id)] == ["sale", "sale"]
    unknown = await client.post(f"/staff/orders/{order_id}/status", headers=HTML,
                                data={"csrf_token": csrf, "status": "delivered"})
    assert unknown.status_code == 422 and "Choose a status" in unknown.text
    assert _status(conn, order_id) == "shipped"


async def test_cancelling_gives_the_units_back_to_their_batches_through_the_ledger(client, world, conn):
    order_id = await _order(client, 8)
    assert (stock(conn, world["a_soon"]), stock(conn, world["a_later"])) == (0, 17)
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    response = await client.post(f"/staff/orders/{order_id}/status", data={"csrf_token": csrf, "status": "cancelled"})
    assert response.status_code == 303
    assert _status(conn, order_id) == "cancelled"
    assert (stock(conn, world["a_soon"]), stock(conn, world["a_later"])) == (5, 20)
    assert sorted(ledger_rows(conn, order_id)) == sorted([
        (world["a_soon"], -5, "sale"), (world["a_later"], -3, "sale"),
        (world["a_soon"], 5, "cancel"), (world["a_later"], 3, "cancel")])
    note = conn.execute("SELECT note, user_id FROM Stock_Movements WHERE order_id = %s AND reason = 'cancel' "
                        "LIMIT 1", (order_id,)).fetchone()
    assert note == {"note": "cancelled by staffer", "user_id": 4}
    shown = await client.get(f"/staff/orders/{order_id}", headers=HTML)
    assert "its 8 units went back" in shown.text


# --- pricing rules --------------------------------------------------------------------------

def _rules(conn) -> list[dict]:
    return conn.execute("SELECT rule_id, sku_id, customer_id, min_quantity, discount_percentage, valid_from, "
                        "valid_to FROM Pricing_Rules ORDER BY rule_id").fetchall()


async def test_rule_list_with_filters(client, world):
    await sign_in_by_form(client, "boss", PASSWORD)
    page = await client.get("/staff/pricing", headers=HTML)
    assert page.status_code == 200
    assert "#1<" in page.text and "#2<" in page.text and "AMOX-1" in page.text and "First Pharmacy" in page.text
    only_1 = await client.get("/staff/pricing?customer_id=1", headers=HTML)
    assert "#2<" in only_1.text and "#1<" not in only_1.text
    bad = await client.get("/staff/pricing?sku_id=0", headers=HTML)
    assert bad.status_code == 422 and "SKU number must be at least 1" in bad.text


async def test_adding_a_rule_writes_the_row_and_shows_it(client, world, conn):
    csrf = await sign_in_by_form(client, "boss", PASSWORD)
    response = await client.post("/staff/pricing", data={
        "csrf_token": csrf, "sku_id": "3", "customer_id": "2", "min_quantity": "4", "discount_percentage": "12.5",
        "valid_from": "2020-01-01", "valid_to": ""})
    assert response.status_code == 303 and response.headers["location"] == "/staff/pricing?sku_id=3&customer_id=2"
    added = _rules(conn)[-1]
    assert (added["sku_id"], added["customer_id"], added["min_quantity"], added["discount_percentage"]) == \
        (3, 2, 4, Decimal("12.50"))
    assert str(added["valid_from"]) == "2020-01-01" and added["valid_to"] is None
    shown = await client.get(response.headers["location"], headers=HTML)
    assert f"Rule {added['rule_id']} added: 12.50 % off SKU PARA-3 for Second Pharmacy, from 4 units." in shown.text


@pytest.mark.parametrize(("fields", "status", "message"), [
    ({"discount_percentage": "150"}, 422, "Discount (%) must be at most 100"),
    ({"discount_percentage": "-1"}, 422, "Discount (%) must be at least 0"),
    ({"discount_percentage": "5.555"}, 422, "Discount (%) may have at most 2 decimal places"),
    ({"discount_percentage": ""}, 422, "Discount (%) is required"),
    ({"min_quantity": "0"}, 422, "Minimum quantity must be at least 1"),
    ({"min_quantity": "two"}, 422, "Minimum quantity must be a whole number"),
    ({"customer_id": "999"}, 422, "Customer 999 does not exist"),
    ({"sku_id": "999"}, 422, "SKU 999 does not exist"),
    ({"valid_from": "2026-05-02", "valid_to": "2026-05-01"}, 422, "must not be after valid_to"),
    ({"valid_to": "tomorrow"}, 422, "Valid to must be a date (YYYY-MM-DD)"),
    ({"sku_id": "1", "customer_id": "1", "min_quantity": "1"}, 409, "Rule 2 already prices SKU 1, customer 1"),
])
async def test_a_refused_rule_shows_why_keeps_the_input_and_writes_nothing(client, world, conn, fields, status,
                                                                          message):
    csrf = await sign_in_by_form(client, "boss", PASSWORD)
    before = _rules(conn)
    body = {"sku_id": "", "customer_id": "", "min_quantity": "3", "discount_percentage": "10"} | fields
    response = await client.post("/staff/pricing", headers=HTML, data={"csrf_token": csrf, **body})
    assert response.status_code == status
    assert message in response.text.replace("&#39;", "'")
    for name, value in body.items():
        if value:
            assert f'value="{value}"' in response.text, name
    assert _rules(conn) == before


async def test_editing_and_deleting_a_rule(client, world, conn):
    csrf = await sign_in_by_form(client, "boss", PASSWORD)
    form = await client.get("/staff/pricing/1/edit", headers=HTML)
    assert 'name="min_quantity"' in form.text and 'value="10"' in form.text
    response = await client.post("/staff/pricing/1", data={
        "csrf_token": csrf, "sku_id": "", "customer_id": "", "min_quantity": "20", "discount_percentage": "7"})
    assert response.status_code == 303
    assert _rules(conn)[0]["min_quantity"] == 20 and _rules(conn)[0]["discount_percentage"] == Decimal("7.00")
    refused = await client.post("/staff/pricing/1", headers=HTML, data={
        "csrf_token": csrf, "min_quantity": "0", "discount_percentage": "7"})
    assert refused.status_code == 422 and _rules(conn)[0]["min_quantity"] == 20
    deleted = await client.post("/staff/pricing/1/delete", data={"csrf_token": csrf})
    assert deleted.status_code == 303 and [rule["rule_id"] for rule in _rules(conn)] == [2]
    gone = await client.post("/staff/pricing/1/delete", headers=HTML, data={"csrf_token": csrf})
    assert gone.status_code == 404 and "No pricing rule 1" in gone.text


async def test_price_preview_shows_what_the_pricing_module_says(client, world):
    await sign_in_by_form(client, "staffer", PASSWORD)
    page = await client.get("/staff/pricing/preview?sku_id=1&customer_id=1&quantity=3", headers=HTML)
    assert page.status_code == 200
    api = (await client.get("/api/admin/pricing/preview?sku_id=1&customer_id=1&quantity=3")).json()
    assert (api["base_price"], api["applied_rule_id"], api["discount_percentage"], api["unit_price"],
            api["line_total"]) == ("10.00", 2, "20.00", "8.00", "24.00")
    for testid, shown in (("base-price", "10.00"), ("applied-rule", "#2"), ("discount", "20.00 %"),
                          ("unit-price", "8.00"), ("line-total", "24.00")):
        assert f'data-testid="{testid}">{shown}<' in page.text, testid
    assert api["explanation"] in page.text.replace("&#43;", "+")
    anonymous = await client.get("/staff/pricing/preview?sku_id=1&quantity=10", headers=HTML)
    assert 'data-testid="applied-rule">#1<' in anonymous.text and 'data-testid="unit-price">9.50<' in anonymous.text


async def test_price_preview_explains_bad_input(client, world):
    await sign_in_by_form(client, "staffer", PASSWORD)
    empty = await client.get("/staff/pricing/preview", headers=HTML)
    assert empty.status_code == 200 and "Choose a SKU to see its price" in empty.text
    for query, status, message in (("sku_id=999", 404, "No SKU 999"),
                                   ("sku_id=1&customer_id=999", 404, "No customer 999"),
                                   ("sku_id=1&quantity=0", 422, "Quantity must be at least 1"),
                                   ("sku_id=abc", 422, "SKU number must be a whole number")):
        response = await client.get(f"/staff/pricing/preview?{query}", headers=HTML)
        assert response.status_code == status and message in response.text, query


# --- customers ------------------------------------------------------------------------------

async def test_customer_list_search_and_detail(client, world, conn):
    order_id = await _order(client, 2)
    await sign_in_by_form(client, "boss", PASSWORD)
    page = await client.get("/staff/customers", headers=HTML)
    assert "First Pharmacy" in page.text and "Second Pharmacy" in page.text
    found = await client.get("/staff/customers?search=second", headers=HTML)
    assert "Second Pharmacy" in found.text and "First Pharmacy" not in found.text
    none = await client.get("/staff/customers?search=zzz", headers=HTML)
    assert "No customer" in none.text and "zzz" in none.text
    detail = await client.get("/staff/customers/1", headers=HTML)
    for text in ("cust_1", "cust_1b", f'href="/staff/orders/{order_id}"', "Latest orders (1 in all)",
                 'href="/staff/users/new?customer_id=1"'):
        assert text in detail.text, text
    assert "Delete customer" not in detail.text  # it has users and orders


async def test_customer_list_pages(client, world, conn):
    conn.execute("INSERT INTO Customers (name) SELECT 'Bulk ' || lpad(n::text, 2, '0') FROM generate_series(1, 30) n")
    await sign_in_by_form(client, "boss", PASSWORD)
    first = await client.get("/staff/customers", headers=HTML)
    assert "Page 1 of 2" in first.text and "Bulk 01" in first.text and "Second Pharmacy" not in first.text
    second = await client.get("/staff/customers?page=2", headers=HTML)
    assert "Second Pharmacy" in second.text


async def test_adding_and_editing_a_customer(client, world, conn):
    csrf = await sign_in_by_form(client, "boss", PASSWORD)
    response = await client.post("/staff/customers", data={
        "csrf_token": csrf, "name": "  City Hospital ", "customer_type": "hospital", "email": "buy@city.example",
        "phone": "+44 20 7946 0000", "address": "1 High Street\nLondon"})
    assert response.status_code == 303
    row = conn.execute("SELECT * FROM Customers ORDER BY customer_id DESC LIMIT 1").fetchone()
    assert (row["name"], row["customer_type"], row["email"], row["phone"], row["address"]) == \
        ("City Hospital", "hospital", "buy@city.example", "+44 20 7946 0000", "1 High Street\nLondon")
    assert response.headers["location"] == f"/staff/customers/{row['customer_id']}"
    response = await client.post(f"/staff/customers/{row['customer_id']}", data={
        "csrf_token": csrf, "name": "City General Hospital", "customer_type": "hospital", "email": "",
        "phone": "", "address": ""})
    assert response.status_code == 303
    row = conn.execute("SELECT * FROM Customers WHERE customer_id = %s", (row["customer_id"],)).fetchone()
    assert (row["name"], row["email"], row["phone"], row["address"]) == ("City General Hospital", None, None, None)
    deleted = await client.post(f"/staff/customers/{row['customer_id']}/delete", data={"csrf_token": csrf})
    assert deleted.status_code == 303
    assert conn.execute("SELECT count(*) AS n FROM Customers WHERE customer_id = %s",
                        (row["customer_id"],)).fetchone()["n"] == 0


@pytest.mark.parametrize(("fields", "message"), [
    ({"name": ""}, "Name is required"),
    ({"email": "not-an-email"}, "Email must be an address like"),
    ({"phone": "call me"}, "Phone must be digits"),
    ({"customer_type": "bakery"}, "Type must be one of"),
    ({"name": "x" * 201}, "Name is too long (at most 200 characters)"),
])
async def test_a_refused_customer_shows_why_and_writes_nothing(client, world, conn, fields, message):
    csrf = await sign_in_by_form(client, "boss", PASSWORD)
    body = {"name": "Valid Name", "customer_type": "clinic", "email": "a@b.example"} | fields
    before = _count(conn, "Customers")
    response = await client.post("/staff/customers", headers=HTML, data={"csrf_token": csrf, **body})
    assert response.status_code == 422 and message in response.text
    assert 'aria-invalid="true"' in response.text
    assert _count(conn, "Customers") == before
    edit = await client.post("/staff/customers/2", headers=HTML, data={"csrf_token": csrf, **body})
    assert edit.status_code == 422
    assert conn.execute("SELECT name FROM Customers WHERE customer_id = 2").fetchone()["name"] == "Second Pharmacy"


async def test_a_customer_in_use_cannot_be_deleted(client, world, conn):
    csrf = await sign_in_by_form(client, "boss", PASSWORD)
    response = await client.post("/staff/customers/2/delete", headers=HTML, data={"csrf_token": csrf})
    assert response.status_code == 409 and "still has 1 user" in response.text
    assert _count(conn, "Customers") == 2


# --- users ----------------------------------------------------------------------------------

def _user(conn, username: str) -> dict | None:
    return conn.execute("SELECT user_id, username, role, customer_id, is_active, must_change_password, password_hash "
                        "FROM Users WHERE lower(username) = lower(%s)", (username,)).fetchone()


async def test_user_list_with_filters(client, world):
    await sign_in_by_form(client, "boss", PASSWORD)
    page = await client.get("/staff/users", headers=HTML)
    assert all(name in page.text for name in ("cust_1", "cust_1b", "cust_2", "staffer", "boss"))
    staff = await client.get("/staff/users?role=staff", headers=HTML)
    assert ">staffer<" in staff.text and ">cust_1<" not in staff.text
    of_1 = await client.get("/staff/users?customer_id=1", headers=HTML)
    assert ">cust_1<" in of_1.text and ">cust_1b<" in of_1.text and ">cust_2<" not in of_1.text
    inactive = await client.get("/staff/users?active=false", headers=HTML)
    assert "No users match these filters" in inactive.text
    bad = await client.get("/staff/users?role=king", headers=HTML)
    assert bad.status_code == 422 and "Role must be one of" in bad.text


async def test_adding_a_customer_user(client, world, conn):
    csrf = await sign_in_by_form(client, "boss", PASSWORD)
    form = await client.get("/staff/users/new?customer_id=2", headers=HTML)
    assert 'name="customer_id"' in form.text and 'value="2"' in form.text
    response = await client.post("/staff/users", data={
        "csrf_token": csrf, "username": "cust_2b", "password": "Fresh@12345", "role": "customer",
        "customer_id": "2", "must_change_password": "yes"})
    assert response.status_code == 303
    added = _user(conn, "cust_2b")
    assert (added["role"], added["customer_id"], added["is_active"], added["must_change_password"]) == \
        ("customer", 2, True, True)
    assert added["password_hash"].startswith("$argon2id$")
    assert response.headers["location"] == f"/staff/users/{added['user_id']}"
    staff = await client.post("/staff/users", data={
        "csrf_token": csrf, "username": "clerk", "password": "Fresh@12345", "role": "staff"})
    assert staff.status_code == 303
    assert (_user(conn, "clerk")["role"], _user(conn, "clerk")["must_change_password"]) == ("staff", False)


@pytest.mark.parametrize(("fields", "status", "message", "marked"), [
    ({"username": "CUST_1"}, 409, "The username 'CUST_1' is taken (usernames ignore case)", "username"),
    ({"customer_id": "999"}, 422, "Customer 999 does not exist", "customer_id"),
    ({"customer_id": ""}, 422, "A customer user needs the customer_id it belongs to", "customer_id"),
    ({"role": "staff"}, 422, "A staff user belongs to no customer", "customer_id"),
    ({"customer_id": "two"}, 422, "Customer number must be a whole number", "customer_id"),
    ({"username": "a b"}, 422, "A username has 3 to 64 characters", "username"),
    ({"password": "short"}, 422, "The password must have at least", None),
    ({"role": "owner"}, 422, "Role must be one of", "role"),
])
async def test_a_refused_user_shows_why_and_writes_nothing(client, world, conn, fields, status, message, marked):
    csrf = await sign_in_by_form(client, "boss", PASSWORD)
    before = conn.execute("SELECT * FROM Users ORDER BY user_id").fetchall()
    body = {"username": "newbie", "password": "Fresh@12345", "role": "customer", "customer_id": "1"} | fields
    response = await client.post("/staff/users", headers=HTML, data={"csrf_token": csrf, **body})
    assert response.status_code == status
    assert message in response.text.replace("&#39;", "'")
    assert "Fresh@12345" not in response.text  # a password is never sent back
    if marked:  # the field to correct is marked and carries the message
        assert re.search(f'id="{marked}"[^>]*aria-invalid="true"', response.text, re.S)
        assert f'id="{marked}-problem"' in response.text
    assert conn.execute("SELECT * FROM Users ORDER BY user_id").fetchall() == before


async def test_deactivating_reactivating_and_resetting_a_password(client, world, conn):
    csrf = await sign_in_by_form(client, "boss", PASSWORD)
    old_hash = _user(conn, "cust_2")["password_hash"]
    page = await client.get("/staff/users/3", headers=HTML)
    assert "cust_2" in page.text and "Deactivate" in page.text
    assert (await client.post("/staff/users/3/deactivate", data={"csrf_token": csrf})).status_code == 303
    assert _user(conn, "cust_2")["is_active"] is False
    assert (await client.post("/api/login", json={"username": "cust_2", "password": PASSWORD})).status_code == 401
    assert "Reactivate" in (await client.get("/staff/users/3", headers=HTML)).text
    assert (await client.post("/staff/users/3/reactivate", data={"csrf_token": csrf})).status_code == 303
    assert _user(conn, "cust_2")["is_active"] is True
    differ = await client.post("/staff/users/3/password", headers=HTML, data={
        "csrf_token": csrf, "new_password": "Brand@12345", "repeat_password": "Brand@54321"})
    assert differ.status_code == 422 and "The two passwords differ" in differ.text
    assert _user(conn, "cust_2")["password_hash"] == old_hash
    reset = await client.post("/staff/users/3/password", data={
        "csrf_token": csrf, "new_password": "Brand@12345", "repeat_password": "Brand@12345"})
    assert reset.status_code == 303
    after = _user(conn, "cust_2")
    assert after["password_hash"] != old_hash and after["must_change_password"] is True
    login = await client.post("/api/login", json={"username": "cust_2", "password": "Brand@12345"})
    assert login.status_code == 200 and login.json()["must_change_password"] is True


async def test_the_last_admin_cannot_be_deactivated(client, world, conn):
    csrf = await sign_in_by_form(client, "boss", PASSWORD)
    response = await client.post("/staff/users/5/deactivate", headers=HTML, data={"csrf_token": csrf})
    assert response.status_code == 409 and "the last active admin" in response.text
    assert _user(conn, "boss")["is_active"] is True


async def test_changing_a_users_role_ends_their_sessions(client, world, conn):
    csrf = await sign_in_by_form(client, "boss", PASSWORD)
    old_token = await bearer(client, "cust_2")
    page = await client.get("/staff/users/3", headers=HTML)
    assert re.search(r'<option value="customer" selected>', page.text) and 'id="customer_id"' in page.text
    assert re.search(r'id="customer_id"[^>]*value="2"', page.text, re.S)
    response = await client.post("/staff/users/3/role", data={"csrf_token": csrf, "role": "staff"})
    assert response.status_code == 303 and response.headers["location"] == "/staff/users/3"
    assert (_user(conn, "cust_2")["role"], _user(conn, "cust_2")["customer_id"]) == ("staff", None)
    assert (await client.get("/api/me", headers=old_token)).status_code == 401
    shown = await client.get("/staff/users/3", headers=HTML)
    assert "cust_2 is now staff; their sessions ended." in shown.text
    back = await client.post("/staff/users/3/role", data={"csrf_token": csrf, "role": "customer", "customer_id": "1"})
    assert back.status_code == 303
    assert (_user(conn, "cust_2")["role"], _user(conn, "cust_2")["customer_id"]) == ("customer", 1)
    assert "cust_2 is now customer of First Pharmacy" in (await client.get("/staff/users/3", headers=HTML)).text


@pytest.mark.parametrize(("fields", "status", "message", "marked"), [
    ({"role": "customer", "customer_id": ""}, 422, "A customer user needs the customer_id it belongs to",
     "customer_id"),
    ({"role": "customer", "customer_id": "999"}, 422, "Customer 999 does not exist", "customer_id"),
    ({"role": "customer", "customer_id": "two"}, 422, "Customer number must be a whole number", "customer_id"),
    ({"role": "staff", "customer_id": "1"}, 422, "A staff user belongs to no customer", "customer_id"),
    ({"role": "owner"}, 422, "Role must be one of", "role"),
    ({}, 422, "Role is required", "role"),
])
async def test_a_refused_role_change_shows_why_keeps_the_input_and_writes_nothing(client, world, conn, fields,
                                                                                 status, message, marked):
    csrf = await sign_in_by_form(client, "boss", PASSWORD)
    before = _snapshot(conn)
    response = await client.post("/staff/users/4/role", headers=HTML, data={"csrf_token": csrf, **fields})
    assert response.status_code == status and message in response.text
    assert re.search(f'id="{marked}"[^>]*aria-invalid="true"', response.text, re.S)
    if fields.get("customer_id"):
        assert f'value="{fields["customer_id"]}"' in response.text
    assert _snapshot(conn) == before


async def test_the_last_admin_cannot_be_demoted_but_one_of_two_may_demote_themselves(client, world, conn):
    csrf = await sign_in_by_form(client, "boss", PASSWORD)
    before = _snapshot(conn)
    refused = await client.post("/staff/users/5/role", headers=HTML, data={"csrf_token": csrf, "role": "staff"})
    assert refused.status_code == 409
    assert "User 5 is the last active admin and cannot be made staff; make another user an admin first" \
        in refused.text
    assert _snapshot(conn) == before
    assert (await client.post("/staff/users/4/role", data={"csrf_token": csrf, "role": "admin"})).status_code == 303
    assert _user(conn, "staffer")["role"] == "admin"
    own = await client.post("/staff/users/5/role", data={"csrf_token": csrf, "role": "staff"})
    assert own.status_code == 303 and own.headers["location"] == "/login"
    assert any(h.startswith("stockline_session=\"\"") for h in own.headers.get_list("set-cookie"))
    assert _user(conn, "boss")["role"] == "staff"
    login = await client.get("/login", headers=HTML)
    assert login.status_code == 200 and "You are now staff; sign in again." in login.text


# --- cost: the number of queries of a page does not grow with its rows ----------------------

def _queries(response) -> int:
    assert response.status_code == 200, response.text
    return int(re.search(r'desc="(\d+) queries"', response.headers["server-timing"]).group(1))


async def test_list_and_detail_pages_run_a_fixed_number_of_queries(world, settings, conn):
    pages = ["/staff/orders", "/staff/orders?customer_id=1", "/staff/pricing", "/staff/customers",
             "/staff/customers/1", "/staff/users", "/staff/pricing/preview?sku_id=1&customer_id=1"]
    async with serve(dataclasses.replace(settings, log_timing=True)) as client:
        first = await _order(client, 8)
        await sign_in_by_form(client, "boss", PASSWORD)
        few = {page: _queries(await client.get(page, headers=HTML)) for page in [*pages, f"/staff/orders/{first}"]}
        for n in range(12):
            await _order(client, 1, sku_id=2, customer="cust_1" if n % 2 else "cust_2")
        conn.execute("INSERT INTO Users (customer_id, username, password_hash, role) SELECT 1, 'extra_' || n, 'x', "
                     "'customer' FROM generate_series(1, 12) n")
        conn.execute("INSERT INTO Pricing_Rules (sku_id, customer_id, min_quantity, discount_percentage) "
                     "SELECT 3, 1, n, 1 FROM generate_series(2, 13) n")
        more = await _order(client, 12)
        many = {page: _queries(await client.get(page, headers=HTML)) for page in pages}
        many[f"/staff/orders/{first}"] = _queries(await client.get(f"/staff/orders/{more}", headers=HTML))
    assert many == few
    # a customer's page also shows their account (what they owe, overdue, the credit limit): one more
    assert {page: count for page, count in few.items() if count > 3} == {"/staff/customers/1": 4}


# --- in a real browser ------------------------------------------------------------------------

def _place_order(base_url: str, quantity: int) -> int:
    token = httpx.post(f"{base_url}/api/login", json={"username": "cust_1", "password": PASSWORD}
                       ).json()["access_token"]
    placed = httpx.post(f"{base_url}/api/orders", json={"sku_id": 1, "quantity": quantity},
                        headers={"Authorization": f"Bearer {token}"})
    assert placed.status_code == 201, placed.text
    return placed.json()["order_id"]


def test_staff_moves_an_order_through_its_lifecycle_in_a_browser(world, conn, live_url, page):
    order_id = _place_order(live_url, 8)
    to_cancel = _place_order(live_url, 2)
    sign_in(page, live_url, "staffer", PASSWORD)
    page.get_by_role("link", name="Orders", exact=True).click()
    page.get_by_label("Customer number").fill("1")
    page.get_by_role("button", name="Show orders").click()
    screenshot(page, "staff_orders")
    page.get_by_role("link", name=f"#{order_id}", exact=True).click()
    page.get_by_role("heading", name=f"Order #{order_id}").wait_for()
    screenshot(page, "staff_order_detail")
    for label, status in (("Mark as processed", "processed"), ("Mark as shipped", "shipped")):
        page.get_by_role("button", name=label).click()
        page.get_by_text(f"Order {order_id} is now {status}.").wait_for()
        assert _status(conn, order_id) == status
    assert page.get_by_role("button", name="Cancel order").count() == 0
    # cancelling asks first; saying no changes nothing, yes restocks
    page.goto(f"{live_url}/staff/orders/{to_cancel}")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Cancel order").click()
    assert _status(conn, to_cancel) == "pending"
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel order").click()
    page.get_by_text(f"Order {to_cancel} is cancelled").wait_for()
    assert _status(conn, to_cancel) == "cancelled"
    assert [row[2] for row in ledger_rows(conn, to_cancel)].count("cancel") >= 1
    assert stock(conn, world["a_later"]) == 20 - 3  # only the shipped order's 3 units left it


def test_admin_adds_a_rule_sees_it_in_the_preview_and_adds_a_customer_user(world, conn, live_url, page):
    sign_in(page, live_url, "boss", PASSWORD)
    page.get_by_role("link", name="Pricing", exact=True).click()
    screenshot(page, "staff_pricing")
    page.get_by_role("link", name="New rule").click()
    page.get_by_label("SKU number (optional)").fill("2")
    page.get_by_label("Customer number (optional)").fill("2")
    page.get_by_label("Minimum quantity").fill("5")
    page.get_by_label("Discount (%)").fill("15")
    page.get_by_role("button", name="Add rule").click()
    page.get_by_text("15.00 % off SKU AMOX-2 for Second Pharmacy, from 5 units").wait_for()
    rule = conn.execute("SELECT rule_id, discount_percentage FROM Pricing_Rules WHERE sku_id = 2 AND customer_id = 2"
                        ).fetchone()
    assert rule["discount_percentage"] == Decimal("15.00")
    page.get_by_role("link", name="Price preview").click()
    page.get_by_label("SKU number").fill("2")
    page.get_by_label("Customer number").fill("2")
    page.get_by_label("Quantity").fill("6")
    page.get_by_role("button", name="Show price").click()
    assert page.get_by_test_id("applied-rule").inner_text() == f"#{rule['rule_id']}"
    assert page.get_by_test_id("unit-price").inner_text() == "25.50"  # 30.00 less 15 %
    assert page.get_by_test_id("line-total").inner_text() == "153.00"
    page.get_by_text("AMOX-2 · Amoxicillin 500 mg capsules (100 capsule)").wait_for()  # the SKU look-up
    screenshot(page, "staff_price_preview")
    page.get_by_label("SKU number").fill("para")  # a name finds SKU numbers to pick from
    page.wait_for_function("() => document.querySelectorAll('#sku_id-options option').length === 2")
    assert page.locator("#sku_id-options option").first.get_attribute("value") == "3"

    page.get_by_role("link", name="Customers", exact=True).click()
    screenshot(page, "staff_customers")
    page.get_by_label("Name or email contains").type("second")  # the list follows the typing
    page.wait_for_url("**/staff/customers?search=second")
    assert page.get_by_role("link", name="First Pharmacy").count() == 0
    page.get_by_role("link", name="Second Pharmacy").click()
    screenshot(page, "staff_customer_detail")
    page.get_by_role("link", name="Add a user").click()
    assert page.get_by_label("Customer number").input_value() == "2"
    page.get_by_label("Role").select_option("staff")  # staff belong to no customer: the field goes
    assert page.get_by_label("Customer number").is_hidden()
    page.get_by_label("Role").select_option("customer")
    page.get_by_label("Username").fill("cust_2_buyer")
    page.get_by_label("Initial password").fill("Buyer@12345")
    page.get_by_role("button", name="Add user").click()
    page.get_by_text("User cust_2_buyer added as customer.").wait_for()
    added = _user(conn, "cust_2_buyer")
    assert (added["role"], added["customer_id"], added["must_change_password"]) == ("customer", 2, True)
    page.get_by_role("link", name="Users", exact=True).click()
    screenshot(page, "staff_users")


def test_admin_changes_a_users_role_in_a_browser(world, conn, live_url, page):
    sign_in(page, live_url, "boss", PASSWORD)
    page.goto(f"{live_url}/staff/users/3")
    assert page.get_by_label("Customer number").input_value() == "2"
    page.get_by_label("New role").select_option("staff")  # staff belong to no customer: the field goes
    assert page.get_by_label("Customer number").is_hidden()
    screenshot(page, "staff_user_detail")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Change role").click()
    page.get_by_text("cust_2 is now staff; their sessions ended.").wait_for()
    assert (_user(conn, "cust_2")["role"], _user(conn, "cust_2")["customer_id"]) == ("staff", None)
    page.get_by_label("New role").select_option("customer")
    page.get_by_label("Customer number").fill("")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Change role").click()
    page.get_by_role("alert").filter(has_text="A customer user needs the customer_id it belongs to").wait_for()
    assert _user(conn, "cust_2")["role"] == "staff"
