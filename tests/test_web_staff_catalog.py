"""The back office's product and SKU pages over HTTP: who may open each (the roles of
/api/admin/products and /api/admin/skus), what each shows, what each form writes to the
database and what it refuses; their cost in queries; then the main flow in a real browser,
up to the customer's catalog."""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal

import pytest

from tests.conftest import serve
from tests.ordering_world import PASSWORD, TODAY, bearer
from tests.web_support import HTML, screenshot, sign_in, sign_in_by_form


def _products(conn) -> list[dict]:
    return conn.execute("SELECT product_id, name, manufacturer, description, category, is_active "
                        "FROM Products ORDER BY product_id").fetchall()


def _skus(conn) -> list[dict]:
    return conn.execute("SELECT sku_id, product_id, sku_code, package_size, unit_type, base_price, reorder_level, "
                        "is_active FROM Product_SKUs ORDER BY sku_id").fetchall()


def _sku(conn, sku_id: int) -> dict | None:
    return conn.execute("SELECT * FROM Product_SKUs WHERE sku_id = %s", (sku_id,)).fetchone()


def _snapshot(conn) -> tuple:
    return _products(conn), _skus(conn)


def _marked(html: str, field: str) -> bool:
    """The field carries aria-invalid and its own message."""
    return bool(re.search(f'id="{field}"[^>]*aria-invalid="true"', html, re.S)) and f'id="{field}-problem"' in html


async def _catalog_codes(client, search: str) -> list[str]:
    """The SKU codes a customer's user (cust_1) finds in the catalog API."""
    response = await client.get(f"/api/products?search={search}", headers=await bearer(client, "cust_1"))
    assert response.status_code == 200, response.text
    return [item["sku_code"] for item in response.json()["items"]]


# --- who may open what: the API's roles ---------------------------------------------------

# (page, the API endpoint whose role rule it mirrors)
PAGES = [
    ("/staff/products", "/api/admin/products"),
    ("/staff/products?search=amox&active=true", "/api/admin/products?search=amox&active=true"),
    ("/staff/products/new", "/api/admin/products"),
    ("/staff/products/1", "/api/admin/products/1"),
    ("/staff/products/1/edit", "/api/admin/products/1"),
    ("/staff/products/1/skus/new", "/api/admin/products/1"),
    ("/staff/skus/1/edit", "/api/admin/skus/1"),
]
FORM_BODIES = {
    "/staff/products": {"name": "Sneaky"},
    "/staff/products/1": {"name": "Renamed", "is_active": "yes"},
    "/staff/products/1/deactivate": {},
    "/staff/products/2/reactivate": {},
    "/staff/products/1/delete": {},
    "/staff/products/1/skus": {"sku_code": "SNEAK-1", "package_size": "1", "unit_type": "box", "base_price": "1"},
    "/staff/skus/1": {"sku_code": "AMOX-1", "package_size": "1", "unit_type": "box", "base_price": "1",
                      "reorder_level": "1", "is_active": "yes"},
    "/staff/skus/1/deactivate": {},
    "/staff/skus/4/reactivate": {},
    "/staff/skus/1/delete": {},
}


async def test_a_customer_gets_403_on_every_page_and_form(client, world, conn):
    csrf = await sign_in_by_form(client, "cust_1", PASSWORD)
    for page, api in PAGES:
        response = await client.get(page, headers=HTML)
        assert response.status_code == 403, page
        assert "Only the distributor's staff" in response.text.replace("&#39;", "'")
        assert (await client.get(api)).status_code == 403, api
    before = _snapshot(conn)
    for form, body in FORM_BODIES.items():
        response = await client.post(form, headers=HTML, data={"csrf_token": csrf, **body})
        assert response.status_code == 403, form
    assert _snapshot(conn) == before


@pytest.mark.parametrize("username", ["staffer", "boss"])
async def test_staff_and_admins_may_open_every_page_as_the_api_lets_them(client, world, username):
    await sign_in_by_form(client, username, PASSWORD)
    for page, api in PAGES:
        shown = await client.get(page, headers=HTML)
        assert (await client.get(api)).status_code == 200, api
        assert shown.status_code == 200, page
        assert shown.text.count("<h1>") == 1, page
    nav = (await client.get("/staff/products", headers=HTML)).text
    assert '<a href="/staff/products" aria-current="page">Products</a>' in nav


async def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    response = await client.get("/staff/products?search=amox", headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fstaff%2Fproducts%3Fsearch%3Damox"


async def test_every_form_without_the_csrf_token_is_refused_and_writes_nothing(client, world, conn):
    await sign_in_by_form(client, "staffer", PASSWORD)
    before = _snapshot(conn)
    for form, body in FORM_BODIES.items():
        response = await client.post(form, headers=HTML, data=body)
        assert response.status_code == 403, form
        assert "did not come from Stockline" in response.text
    assert _snapshot(conn) == before


# --- the product list ---------------------------------------------------------------------

async def test_product_list_shows_sku_counts_and_filters(client, world, conn):
    conn.execute("INSERT INTO Products (name, manufacturer, category, is_active) VALUES "
                 "('Zinc tablets', 'Cipla', 'Supplements', false)")
    await sign_in_by_form(client, "staffer", PASSWORD)
    page = await client.get("/staff/products", headers=HTML)
    assert page.status_code == 200
    rows = re.findall(r'<tr>\s*<th scope="row"><a href="/staff/products/(\d+)">([^<]+)</a>.*?</tr>', page.text, re.S)
    assert [(int(pid), name) for pid, name in rows] == [
        (1, "Amoxicillin 500 mg capsules"), (2, "Paracetamol 500 mg tablets"), (3, "Zinc tablets")]
    amox_row = re.search(r'href="/staff/products/1">.*?</tr>', page.text, re.S).group(0)
    assert '<td class="num">2</td>' in amox_row and "Sandoz" in amox_row and "active" in amox_row
    zinc_row = re.search(r'href="/staff/products/3">.*?</tr>', page.text, re.S).group(0)
    assert "none yet" in zinc_row and "inactive" in zinc_row and "Supplements" in zinc_row
    found = await client.get("/staff/products?search=teva", headers=HTML)
    assert 'href="/staff/products/2"' in found.text and 'href="/staff/products/1"' not in found.text
    active = await client.get("/staff/products?active=true", headers=HTML)
    assert 'href="/staff/products/3"' not in active.text and 'href="/staff/products/1"' in active.text
    inactive = await client.get("/staff/products?active=false", headers=HTML)
    assert 'href="/staff/products/3"' in inactive.text and 'href="/staff/products/1"' not in inactive.text
    none = await client.get("/staff/products?search=zzz", headers=HTML)
    assert "No products match these filters" in none.text
    bad = await client.get("/staff/products?active=maybe", headers=HTML)
    assert bad.status_code == 422 and "Shown must be yes or no" in bad.text


async def test_product_list_pages(client, world, conn):
    conn.execute("INSERT INTO Products (name) SELECT 'Bulk ' || lpad(n::text, 2, '0') FROM generate_series(1, 30) n")
    await sign_in_by_form(client, "staffer", PASSWORD)
    first = await client.get("/staff/products", headers=HTML)
    assert first.text.count('<th scope="row"><a href="/staff/products/') == 25 and "Page 1 of 2" in first.text
    assert "Amoxicillin" in first.text and "Paracetamol" not in first.text
    second = await client.get("/staff/products?page=2", headers=HTML)
    assert "Paracetamol" in second.text and "Page 2 of 2" in second.text
    assert (await client.get("/staff/products?page=x", headers=HTML)).status_code == 200


# --- one product --------------------------------------------------------------------------

async def test_product_page_shows_its_fields_and_skus_with_price_reorder_level_stock_and_state(client, world, conn):
    conn.execute("UPDATE Products SET category = 'Antibiotics', description = 'Broad spectrum' WHERE product_id = 1")
    await sign_in_by_form(client, "staffer", PASSWORD)
    page = await client.get("/staff/products/1", headers=HTML)
    assert page.status_code == 200
    for text in ("Amoxicillin 500 mg capsules", "Sandoz", "Antibiotics", "Broad spectrum", "SKUs (2)"):
        assert text in page.text, text
    row_1 = re.search(r'AMOX-1 <span class="muted small">#1</span>.*?</tr>', page.text, re.S).group(0)
    api_1 = (await client.get("/api/admin/skus/1")).json()
    assert api_1["available"] == 25  # 5 + 20; the expired and today's batches do not count
    cells = re.findall(r'<td class="num">([^<]+)', row_1)
    assert cells == ["10.00", "10", "25"]
    assert "3x10 capsule" in row_1 and "on sale" in row_1 and "Deactivate SKU AMOX-1" in row_1
    assert "Delete product" not in page.text  # it has SKUs
    para = await client.get("/staff/products/2", headers=HTML)
    row_3 = re.search(r"PARA-3 <span.*?</tr>", para.text, re.S).group(0)
    assert "badge-warn\">low" in row_3  # 4 sellable, reorder level 10
    row_4 = re.search(r"PARA-4 <span.*?</tr>", para.text, re.S).group(0)
    assert "deactivated" in row_4 and "Reactivate SKU PARA-4" in row_4
    missing = await client.get("/staff/products/999", headers=HTML)
    assert missing.status_code == 404 and "No product 999" in missing.text
    assert (await client.get("/staff/skus/999/edit", headers=HTML)).status_code == 404


# --- adding and editing products ------------------------------------------------------------

async def test_adding_and_editing_a_product(client, world, conn):
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    response = await client.post("/staff/products", data={
        "csrf_token": csrf, "name": "  Cetirizine 10 mg tablets ", "manufacturer": "Cipla", "category": "",
        "description": "Antihistamine"})
    assert response.status_code == 303
    added = _products(conn)[-1]
    assert added == {"product_id": added["product_id"], "name": "Cetirizine 10 mg tablets", "manufacturer": "Cipla",
                     "description": "Antihistamine", "category": None, "is_active": True}
    assert response.headers["location"] == f"/staff/products/{added['product_id']}"
    shown = await client.get(response.headers["location"], headers=HTML)
    assert "Product Cetirizine 10 mg tablets added" in shown.text and "No SKUs yet" in shown.text
    pid = added["product_id"]
    form = await client.get(f"/staff/products/{pid}/edit", headers=HTML)
    assert 'value="Cipla"' in form.text and re.search(r'id="is_active"[^>]*checked', form.text)
    edited = await client.post(f"/staff/products/{pid}", data={
        "csrf_token": csrf, "name": "Cetirizine 10 mg", "manufacturer": "", "category": "Allergy",
        "description": "Antihistamine"})  # the box left unticked: inactive
    assert edited.status_code == 303 and edited.headers["location"] == f"/staff/products/{pid}"
    assert _products(conn)[-1] == {"product_id": pid, "name": "Cetirizine 10 mg", "manufacturer": None,
                                   "description": "Antihistamine", "category": "Allergy", "is_active": False}


@pytest.mark.parametrize(("fields", "message", "marked"), [
    ({"name": ""}, "Name is required", "name"),
    ({"name": "   "}, "Name is required", "name"),
    ({"name": "x" * 201}, "Name is too long (at most 200 characters)", "name"),
    ({"category": "c" * 101}, "Category is too long (at most 100 characters)", "category"),
])
async def test_a_refused_product_shows_why_keeps_the_input_and_writes_nothing(client, world, conn, fields, message,
                                                                             marked):
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    body = {"name": "Valid", "manufacturer": "Kept Maker", "category": "", "description": ""} | fields
    before = _snapshot(conn)
    response = await client.post("/staff/products", headers=HTML, data={"csrf_token": csrf, **body})
    assert response.status_code == 422 and message in response.text
    assert _marked(response.text, marked) and 'value="Kept Maker"' in response.text
    edit = await client.post("/staff/products/1", headers=HTML, data={"csrf_token": csrf, "is_active": "yes", **body})
    assert edit.status_code == 422 and message in edit.text
    assert _snapshot(conn) == before


async def test_deactivating_a_product_hides_its_skus_from_customers(client, world, conn):
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    assert await _catalog_codes(client, "amox") == ["AMOX-1", "AMOX-2"]
    response = await client.post("/staff/products/1/deactivate", data={"csrf_token": csrf})
    assert response.status_code == 303 and response.headers["location"] == "/staff/products/1"
    assert _products(conn)[0]["is_active"] is False
    assert await _catalog_codes(client, "amox") == []
    shown = await client.get("/staff/products/1", headers=HTML)
    assert "none of its SKUs shows in the catalog" in shown.text and "Reactivate product" in shown.text
    assert (await client.post("/staff/products/1/reactivate", data={"csrf_token": csrf})).status_code == 303
    assert _products(conn)[0]["is_active"] is True
    assert await _catalog_codes(client, "amox") == ["AMOX-1", "AMOX-2"]


async def test_a_product_with_skus_cannot_be_deleted_an_empty_one_can(client, world, conn):
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    refused = await client.post("/staff/products/1/delete", headers=HTML, data={"csrf_token": csrf})
    assert refused.status_code == 409
    assert "Product 1 has SKUs; deactivate it instead" in refused.text
    assert len(_products(conn)) == 2
    pid = conn.execute("INSERT INTO Products (name) VALUES ('Empty one') RETURNING product_id").fetchone()["product_id"]
    assert "Delete product" in (await client.get(f"/staff/products/{pid}", headers=HTML)).text
    deleted = await client.post(f"/staff/products/{pid}/delete", data={"csrf_token": csrf})
    assert deleted.status_code == 303 and deleted.headers["location"] == "/staff/products"
    assert [p["product_id"] for p in _products(conn)] == [1, 2]
    gone = await client.post(f"/staff/products/{pid}/delete", headers=HTML, data={"csrf_token": csrf})
    assert gone.status_code == 404 and f"No product {pid}" in gone.text


# --- adding and editing SKUs ----------------------------------------------------------------

SKU_BODY = {"sku_code": "CET-10", "package_size": "30", "unit_type": "tablet", "base_price": "4.5",
            "reorder_level": "12"}


async def test_adding_a_sku_puts_it_on_sale(client, world, conn):
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    form = await client.get("/staff/products/2/skus/new", headers=HTML)
    assert "Paracetamol 500 mg tablets" in form.text and 'value="10"' in form.text  # the default reorder level
    response = await client.post("/staff/products/2/skus", data={"csrf_token": csrf, **SKU_BODY})
    assert response.status_code == 303 and response.headers["location"] == "/staff/products/2"
    added = _skus(conn)[-1]
    assert added == {"sku_id": 5, "product_id": 2, "sku_code": "CET-10", "package_size": "30", "unit_type": "tablet",
                     "base_price": Decimal("4.50"), "reorder_level": 12, "is_active": True}
    shown = await client.get("/staff/products/2", headers=HTML)
    assert "SKU CET-10 added at 4.50; it is on sale now." in shown.text and "SKUs (3)" in shown.text
    assert "CET-10" in await _catalog_codes(client, "CET-10")
    # a code left empty is made from the SKU's number; the reorder level defaults to 10
    generated = await client.post("/staff/products/2/skus", data={
        "csrf_token": csrf, **SKU_BODY, "sku_code": "", "reorder_level": ""})
    assert generated.status_code == 303
    assert (_skus(conn)[-1]["sku_code"], _skus(conn)[-1]["reorder_level"]) == ("SKU-000006", 10)


@pytest.mark.parametrize(("fields", "status", "message", "marked"), [
    ({"base_price": "-1"}, 422, "Base price must be at least 0", "base_price"),
    ({"base_price": "cheap"}, 422, "Base price must be an amount like 12.50", "base_price"),
    ({"base_price": "1.005"}, 422, "Base price may have at most 2 decimal places", "base_price"),
    ({"base_price": ""}, 422, "Base price is required", "base_price"),
    ({"package_size": ""}, 422, "Package size is required", "package_size"),
    ({"unit_type": ""}, 422, "Unit type is required", "unit_type"),
    ({"reorder_level": "-3"}, 422, "Reorder level must be at least 0", "reorder_level"),
    ({"reorder_level": "2.5"}, 422, "Reorder level must be a whole number", "reorder_level"),
    ({"sku_code": "-bad code"}, 422, "SKU code must start with a letter or digit", "sku_code"),
    ({"sku_code": "amox-1"}, 409, "Another SKU already uses that SKU code", "sku_code"),
])
async def test_a_refused_sku_shows_why_keeps_the_input_and_writes_nothing(client, world, conn, fields, status,
                                                                         message, marked):
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    conn.execute("UPDATE Product_SKUs SET sku_code = 'amox-1' WHERE sku_id = 2")  # codes are unique as written
    before = _snapshot(conn)
    body = SKU_BODY | fields
    response = await client.post("/staff/products/2/skus", headers=HTML, data={"csrf_token": csrf, **body})
    assert response.status_code == status
    assert message in response.text and _marked(response.text, marked)
    for value in body.values():
        if value:
            assert f'value="{value}"' in response.text, value
    edit = await client.post("/staff/skus/3", headers=HTML, data={"csrf_token": csrf, "is_active": "yes", **body})
    assert edit.status_code == status and message in edit.text and _marked(edit.text, marked)
    assert _snapshot(conn) == before


async def test_adding_a_sku_to_a_missing_product_is_404(client, world, conn):
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    response = await client.post("/staff/products/999/skus", headers=HTML, data={"csrf_token": csrf, **SKU_BODY})
    assert response.status_code == 404 and "No product 999" in response.text
    assert len(_skus(conn)) == 4


async def test_editing_a_sku(client, world, conn):
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    form = await client.get("/staff/skus/3/edit", headers=HTML)
    for value in ("PARA-3", "10", "tablet", "2.50"):
        assert f'value="{value}"' in form.text, value
    assert "Sellable stock now: 4" in form.text
    response = await client.post("/staff/skus/3", data={
        "csrf_token": csrf, "sku_code": "PARA-10", "package_size": "12", "unit_type": "tablet",
        "base_price": "2.75", "reorder_level": "3"})  # the box left unticked: deactivated
    assert response.status_code == 303 and response.headers["location"] == "/staff/products/2"
    assert _sku(conn, 3)["sku_code"] == "PARA-10" and _sku(conn, 3)["base_price"] == Decimal("2.75")
    assert (_sku(conn, 3)["reorder_level"], _sku(conn, 3)["is_active"]) == (3, False)
    blank_code = await client.post("/staff/skus/3", headers=HTML, data={
        "csrf_token": csrf, "sku_code": "", "package_size": "12", "unit_type": "tablet", "base_price": "2.75",
        "reorder_level": "3"})
    assert blank_code.status_code == 422 and "SKU code is required" in blank_code.text
    assert _sku(conn, 3)["sku_code"] == "PARA-10"


async def test_deactivating_and_reactivating_a_sku_changes_the_customer_catalog(client, world, conn):
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    assert await _catalog_codes(client, "PARA") == ["PARA-3"]
    response = await client.post("/staff/skus/3/deactivate", data={"csrf_token": csrf})
    assert response.status_code == 303 and response.headers["location"] == "/staff/products/2"
    assert _sku(conn, 3)["is_active"] is False
    assert await _catalog_codes(client, "PARA") == []
    shown = await client.get("/staff/products/2", headers=HTML)
    assert "SKU PARA-3 is deactivated; customers no longer see it." in shown.text
    assert (await client.post("/staff/skus/4/reactivate", data={"csrf_token": csrf})).status_code == 303
    assert _sku(conn, 4)["is_active"] is True
    assert await _catalog_codes(client, "PARA") == ["PARA-4"]
    missing = await client.post("/staff/skus/999/deactivate", headers=HTML, data={"csrf_token": csrf})
    assert missing.status_code == 404 and "No SKU 999" in missing.text


async def test_a_sku_in_use_cannot_be_deleted_an_unused_one_can(client, world, conn):
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    refused = await client.post("/staff/skus/1/delete", headers=HTML, data={"csrf_token": csrf})
    assert refused.status_code == 409
    assert "SKU 1 has batches, orders, pricing rules or cart lines; deactivate it instead" in refused.text
    assert _sku(conn, 1) is not None
    await client.post("/staff/products/2/skus", data={"csrf_token": csrf, **SKU_BODY})
    deleted = await client.post("/staff/skus/5/delete", data={"csrf_token": csrf})
    assert deleted.status_code == 303 and deleted.headers["location"] == "/staff/products/2"
    assert _sku(conn, 5) is None
    shown = await client.get("/staff/products/2", headers=HTML)
    assert "SKU CET-10 deleted." in shown.text
    gone = await client.post("/staff/skus/5/delete", headers=HTML, data={"csrf_token": csrf})
    assert gone.status_code == 404 and "No SKU 5" in gone.text


# --- cost: the number of queries of a page does not grow with its rows ----------------------

def _queries(response) -> int:
    assert response.status_code == 200, response.text
    return int(re.search(r'desc="(\d+) queries"', response.headers["server-timing"]).group(1))


async def test_list_and_detail_pages_run_a_fixed_number_of_queries(world, settings, conn):
    pages = ["/staff/products", "/staff/products?search=a&active=true", "/staff/products/1",
             "/staff/skus/1/edit", "/staff/products/1/edit", "/staff/products/1/skus/new"]
    async with serve(dataclasses.replace(settings, log_timing=True)) as client:
        await sign_in_by_form(client, "staffer", PASSWORD)
        few = {page: _queries(await client.get(page, headers=HTML)) for page in pages}
        conn.execute("INSERT INTO Products (name) SELECT 'Amox extra ' || n FROM generate_series(1, 30) n")
        conn.execute("INSERT INTO Product_SKUs (product_id, sku_code, base_price) "
                     "SELECT 1, 'AMOX-X' || n, n FROM generate_series(1, 20) n")
        conn.execute("INSERT INTO Inventory_Batches (sku_id, batch_no, expiry_date, quantity_on_hand, cost_price) "
                     "SELECT 1, 'EXTRA-' || n, %s::date + 50, 3, 1 FROM generate_series(1, 20) n", (TODAY,))
        many = {page: _queries(await client.get(page, headers=HTML)) for page in pages}
        listed = await client.get("/staff/products/1", headers=HTML)
        assert listed.text.count('<th scope="row">AMOX-') == 22
    assert many == few
    assert max(few.values()) <= 3


# --- in a real browser ------------------------------------------------------------------------

def test_staff_adds_a_product_and_a_sku_and_a_customer_finds_it_in_the_catalog(world, conn, live_url, page):
    sign_in(page, live_url, "staffer", PASSWORD)
    page.get_by_role("link", name="Products", exact=True).click()
    page.get_by_role("link", name="New product").click()
    page.get_by_label("Name").fill("Cetirizine 10 mg tablets")
    page.get_by_label("Manufacturer (optional)").fill("Cipla")
    page.get_by_label("Category (optional)").fill("Allergy")
    page.get_by_role("button", name="Add product").click()
    page.get_by_text("Product Cetirizine 10 mg tablets added").wait_for()
    product = conn.execute("SELECT product_id, is_active FROM Products WHERE name = 'Cetirizine 10 mg tablets'"
                           ).fetchone()
    assert product["is_active"] is True
    page.get_by_role("link", name="Add a SKU").click()
    page.get_by_label("SKU code (optional)").fill("CET-30")
    page.get_by_label("Package size").fill("30")
    page.get_by_label("Unit type").fill("tablet")
    page.get_by_label("Base price").fill("-2")
    page.get_by_role("button", name="Add SKU").click()
    page.get_by_text("Base price must be at least 0").first.wait_for()  # refused, the input kept
    assert page.get_by_label("Package size").input_value() == "30"
    assert conn.execute("SELECT count(*) AS n FROM Product_SKUs WHERE sku_code = 'CET-30'").fetchone()["n"] == 0
    page.get_by_label("Base price").fill("4.20")
    page.get_by_role("button", name="Add SKU").click()
    page.get_by_text("SKU CET-30 added at 4.20; it is on sale now.").wait_for()
    sku = conn.execute("SELECT product_id, base_price, is_active FROM Product_SKUs WHERE sku_code = 'CET-30'"
                       ).fetchone()
    assert (sku["product_id"], sku["base_price"], sku["is_active"]) == (product["product_id"], Decimal("4.20"), True)
    assert page.get_by_role("rowheader", name="CET-30").is_visible()
    screenshot(page, "staff_product_detail")

    page.get_by_role("link", name="Products", exact=True).click()
    page.get_by_label("Name, manufacturer or category contains").type("ceti")  # the list follows the typing
    page.wait_for_url("**/staff/products?search=ceti*")
    assert page.get_by_role("link", name="Amoxicillin 500 mg capsules").count() == 0
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="Cetirizine 10 mg tablets"))
    assert row.get_by_role("cell", name="1", exact=True).is_visible()  # one SKU
    page.get_by_label("Shown").select_option("true")
    page.get_by_role("button", name="Show products").click()
    page.get_by_role("link", name="Cetirizine 10 mg tablets").wait_for()
    page.goto(f"{live_url}/staff/products")
    screenshot(page, "staff_products")
    page.set_viewport_size({"width": 800, "height": 900})  # a tablet: no sideways scrolling
    for path in ("/staff/products", f"/staff/products/{product['product_id']}", "/staff/skus/1/edit"):
        page.goto(f"{live_url}{path}")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path

    customer = page.context.browser.new_context(viewport={"width": 1280, "height": 860})
    try:
        shop = customer.new_page()
        sign_in(shop, live_url, "cust_1", PASSWORD)
        shop.goto(f"{live_url}/catalog?q=cetirizine")
        shop.get_by_text("CET-30").first.wait_for()
        assert shop.get_by_text("Cetirizine 10 mg tablets").first.is_visible()
    finally:
        customer.close()
