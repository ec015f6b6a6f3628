"""The supplier and purchase-order pages over HTTP: who may open them, what each shows, what
each form writes and what it refuses (the service's own refusals, shown on the page); the
reports' and inventory's incoming stock and the "create draft purchase orders" action. Then
the pages in a real browser (accessible, fitting a laptop and a tablet) and a delivery
received through the form."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest

from tests.ordering_world import PASSWORD, TODAY, bearer
from tests.purchasing_world import line_ids, ok, purchase_order, sent_order, supplier, supplies
from tests.test_web_quality import _check_pages
from tests.web_support import HTML, screenshot, sign_in, sign_in_by_form


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'").replace("&amp;", "&")


async def _follow(client, response):
    assert response.status_code == 303, response.text
    return await client.get(response.headers["location"], headers=HTML)


@pytest.fixture
async def bought(client, world) -> dict:
    """Alpha (lead time 10) supplies SKU 3 at 1.20 (preferred) and SKU 2 at 19.50; a draft and a
    sent order to it."""
    headers = await bearer(client, "staffer")
    alpha = await supplier(client, headers, "Alpha Pharma", 10, email="orders@alpha.example")
    await supplies(client, headers, alpha["supplier_id"], 3, "1.20", preferred=True)
    await supplies(client, headers, alpha["supplier_id"], 2, "19.50")
    draft = await purchase_order(client, headers, alpha["supplier_id"], {3: 10})
    sent = await sent_order(client, headers, alpha["supplier_id"], {3: 6, 2: 2})
    return {"supplier": alpha["supplier_id"], "draft": draft["po_id"], "sent": sent["po_id"],
            "lines": line_ids(sent)}


STAFF_PAGES = ["/staff/suppliers", "/staff/suppliers/{supplier}", "/staff/purchase-orders",
               "/staff/purchase-orders/new", "/staff/purchase-orders/{draft}", "/staff/purchase-orders/{sent}"]
STAFF_FORMS = ["/staff/suppliers", "/staff/suppliers/{supplier}", "/staff/suppliers/{supplier}/skus",
               "/staff/suppliers/{supplier}/skus/3/remove", "/staff/purchase-orders",
               "/staff/purchase-orders/from-suggestions", "/staff/purchase-orders/{draft}/send",
               "/staff/purchase-orders/{draft}/cancel", "/staff/purchase-orders/{sent}/close",
               "/staff/purchase-orders/{sent}/receive"]


async def test_staff_open_the_pages_and_customers_are_refused_them_and_their_forms(client, conn, bought):
    csrf = await sign_in_by_form(client, "cust_1", PASSWORD)
    for path in STAFF_PAGES:
        answer = await client.get(path.format(**bought), headers=HTML)
        assert answer.status_code == 403, path
    for form in STAFF_FORMS:
        answer = await client.post(form.format(**bought), headers=HTML, data={"csrf_token": csrf, "name": "X"})
        assert answer.status_code == 403, form
    assert conn.execute("SELECT count(*) AS n FROM Suppliers").fetchone()["n"] == 1
    client.cookies.clear()
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    for path in STAFF_PAGES:
        assert (await client.get(path.format(**bought), headers=HTML)).status_code == 200, path
    for form in STAFF_FORMS:  # without the CSRF token: refused, nothing written
        answer = await client.post(form.format(**bought), headers=HTML, data={"name": "X"})
        assert answer.status_code == 403, form
    statuses = conn.execute("SELECT status FROM Purchase_Orders ORDER BY po_id").fetchall()
    assert [r["status"] for r in statuses] == ["draft", "sent"]


async def test_the_supplier_pages_add_edit_and_list_skus(client, conn, bought):
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    listing = _text((await client.get("/staff/suppliers", headers=HTML)).text)
    assert "Alpha Pharma" in listing and "orders@alpha.example" in listing
    refused = await client.post("/staff/suppliers", headers=HTML, data={
        "csrf_token": csrf, "name": "alpha pharma", "lead_time_days": "5"})
    assert refused.status_code == 409 and "already called" in _text(refused.text)
    bad = await client.post("/staff/suppliers", headers=HTML, data={
        "csrf_token": csrf, "name": "Beta", "lead_time_days": "400", "email": "nope"})
    assert bad.status_code == 422
    assert "Lead time must be at most 365" in _text(bad.text) and "must be an address like" in _text(bad.text)
    added = await client.post("/staff/suppliers", data={"csrf_token": csrf, "name": "Beta Supplies",
                                                        "lead_time_days": "14", "contact_name": "Bo"})
    page = await _follow(client, added)
    beta = conn.execute("SELECT supplier_id, lead_time_days, is_active FROM Suppliers WHERE name = 'Beta Supplies'"
                        ).fetchone()
    assert (beta["lead_time_days"], beta["is_active"]) == (14, True)
    assert "Supplier Beta Supplies added" in _text(page.text)
    path = f"/staff/suppliers/{beta['supplier_id']}"
    sku = await client.post(f"{path}/skus", data={"csrf_token": csrf, "sku_id": "3", "unit_cost": "1.15",
                                                  "supplier_sku_code": "B-PARA", "is_preferred": "yes"})
    shown = _text((await _follow(client, sku)).text)
    assert "PARA-3" in shown and "B-PARA" in shown and "1.15" in shown and "preferred" in shown
    preferred = conn.execute("SELECT supplier_id FROM Supplier_SKUs WHERE sku_id = 3 AND is_preferred").fetchall()
    assert [r["supplier_id"] for r in preferred] == [beta["supplier_id"]]
    unknown = await client.post(f"{path}/skus", headers=HTML, data={"csrf_token": csrf, "sku_id": "999",
                                                                     "unit_cost": "1"})
    assert unknown.status_code == 404
    wrong = await client.post(f"{path}/skus", headers=HTML, data={"csrf_token": csrf, "sku_id": "2",
                                                                   "unit_cost": "1.234"})
    assert wrong.status_code == 422 and "Unit cost may have at most 2 decimal places" in _text(wrong.text)
    edited = await client.post(path, data={"csrf_token": csrf, "name": "Beta Supplies", "lead_time_days": "21"})
    shown = _text((await _follow(client, edited)).text)  # the unticked box deactivates it
    assert "inactive" in shown
    assert conn.execute("SELECT lead_time_days, is_active, contact_name FROM Suppliers WHERE supplier_id = %s",
                        (beta["supplier_id"],)).fetchone() == {"lead_time_days": 21, "is_active": False,
                                                               "contact_name": None}
    removed = await client.post(f"{path}/skus/3/remove", data={"csrf_token": csrf})
    assert "removed" in _text((await _follow(client, removed)).text)
    assert conn.execute("SELECT count(*) AS n FROM Supplier_SKUs WHERE supplier_id = %s",
                        (beta["supplier_id"],)).fetchone()["n"] == 0


async def test_a_purchase_order_through_the_forms_from_draft_to_closed_short(client, conn, bought):
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    form = await client.get(f"/staff/purchase-orders/new?supplier_id={bought['supplier']}", headers=HTML)
    assert f'<option value="{bought["supplier"]}" selected>' in form.text
    half = await client.post("/staff/purchase-orders", headers=HTML, data={
        "csrf_token": csrf, "supplier_id": str(bought["supplier"]), "sku_id-0": "3"})
    assert half.status_code == 422 and "Line 1: The quantity is required" in _text(half.text)
    unpriced = await client.post("/staff/purchase-orders", headers=HTML, data={
        "csrf_token": csrf, "supplier_id": str(bought["supplier"]), "sku_id-0": "1", "quantity-0": "5"})
    assert unpriced.status_code == 422 and "Give a unit cost" in _text(unpriced.text)
    created = await client.post("/staff/purchase-orders", data={
        "csrf_token": csrf, "supplier_id": str(bought["supplier"]), "sku_id-0": "3", "quantity-0": "8",
        "sku_id-1": "1", "quantity-1": "4", "unit_cost-1": "6.5", "note": "for the flu season"})
    page = await _follow(client, created)
    po_id = int(created.headers["location"].rsplit("/", 1)[1])
    assert "drafted" in _text(page.text) and "for the flu season" in _text(page.text)
    lines = conn.execute("SELECT sku_id, quantity_ordered, unit_cost::text AS cost FROM Purchase_Order_Lines "
                         "WHERE po_id = %s ORDER BY po_line_id", (po_id,)).fetchall()
    assert [tuple(r.values()) for r in lines] == [(3, 8, "1.20"), (1, 4, "6.50")]
    sent = await client.post(f"/staff/purchase-orders/{po_id}/send", data={"csrf_token": csrf})
    shown = _text((await _follow(client, sent)).text)
    assert f"expected on {(TODAY + timedelta(days=10)).isoformat()}" in shown and "Receive into stock" in shown
    po_lines = line_ids(await ok(await client.get(f"/api/admin/purchase-orders/{po_id}",
                                                  headers=await bearer(client, "staffer"))))
    expiry = (TODAY + timedelta(days=300)).isoformat()
    over = await client.post(f"/staff/purchase-orders/{po_id}/receive", headers=HTML, data={
        "csrf_token": csrf, f"batch_no-{po_lines[3]}": "P-9", f"expiry_date-{po_lines[3]}": expiry,
        f"quantity-{po_lines[3]}": "9"})
    assert over.status_code == 409 and "accept the over-delivery" in _text(over.text)
    assert 'value="P-9"' in over.text  # what was typed is kept
    bad = await client.post(f"/staff/purchase-orders/{po_id}/receive", headers=HTML, data={
        "csrf_token": csrf, f"batch_no-{po_lines[3]}": "P-9", f"quantity-{po_lines[3]}": "3"})
    assert bad.status_code == 422 and "PARA-3" in _text(bad.text) and "expiry date" in _text(bad.text)
    received = await client.post(f"/staff/purchase-orders/{po_id}/receive", data={
        "csrf_token": csrf, f"batch_no-{po_lines[3]}": "P-9", f"expiry_date-{po_lines[3]}": expiry,
        f"quantity-{po_lines[3]}": "5", f"quantity-{po_lines[1]}": "", "note": "van 2"})
    assert "5 units received into stock; the order is partly received" in _text((await _follow(client, received)).text)
    batch = conn.execute("SELECT quantity_on_hand, cost_price::text AS cost FROM Inventory_Batches "
                         "WHERE batch_no = 'P-9'").fetchone()
    assert (batch["quantity_on_hand"], batch["cost"]) == (5, "1.20")
    closed = await client.post(f"/staff/purchase-orders/{po_id}/close", data={"csrf_token": csrf,
                                                                              "note": "discontinued"})
    shown = _text((await _follow(client, closed)).text)
    assert "closed short" in shown and "discontinued" in shown and "Receive into stock" not in shown
    cancel = await client.post(f"/staff/purchase-orders/{po_id}/cancel", headers=HTML, data={"csrf_token": csrf})
    assert cancel.status_code == 409


async def test_the_list_filters_and_drafts_from_the_reorder_suggestions(client, conn, bought):
    cust1, staff = await bearer(client, "cust_1"), await bearer(client, "staffer")
    await supplies(client, staff, bought["supplier"], 2, "19.50", preferred=True)
    await ok(await client.post("/api/orders", json={"sku_id": 2, "quantity": 25}, headers=cust1), 201)
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    listing = await client.get("/staff/purchase-orders?status=sent", headers=HTML)
    assert f"PO #{bought['sent']}" in listing.text and f"PO #{bought['draft']}" not in listing.text
    assert (await client.get("/staff/purchase-orders?status=lost", headers=HTML)).status_code == 422
    report = await client.get("/staff/reports/reorder-suggestions", headers=HTML)
    assert "Create draft purchase orders" in report.text and "Alpha Pharma" in _text(report.text)
    made = await client.post("/staff/purchase-orders/from-suggestions", data={"csrf_token": csrf})
    assert made.headers["location"] == "/staff/purchase-orders?status=draft"
    shown = _text((await client.get(made.headers["location"], headers=HTML)).text)
    assert "Drafted 1 purchase order(s)" in shown
    drafted = conn.execute("SELECT l.sku_id, l.quantity_ordered FROM Purchase_Order_Lines l JOIN Purchase_Orders o "
                           "USING (po_id) WHERE o.note LIKE 'Drafted%%'").fetchall()
    # SKU 2: 25 sold in 30 days, to last 30 + 10 days: 34; 5 left and 2 on order: 27
    assert [(r["sku_id"], r["quantity_ordered"]) for r in drafted] == [(2, 27)]
    again = await client.post("/staff/purchase-orders/from-suggestions", data={"csrf_token": csrf})
    assert "Nothing to draft" in _text((await client.get(again.headers["location"], headers=HTML)).text)


async def test_low_stock_and_inventory_show_what_is_on_order_and_quarantined_batches(client, conn, bought, world):
    await sign_in_by_form(client, "staffer", PASSWORD)
    report = _text((await client.get("/staff/reports/low-stock", headers=HTML)).text)
    assert "On order" in report and "Short after orders" in report
    conn.execute("UPDATE Inventory_Batches SET quarantined = true WHERE batch_id = %s", (world["c"],))
    inventory = await client.get("/staff/inventory?filter=low_stock", headers=HTML)
    shown = _text(inventory.text)
    assert "16 on order" in shown and "quarantined" in shown  # the draft's 10 and the sent order's 6
    conn.execute("UPDATE Inventory_Batches SET quarantined = false WHERE batch_id = %s", (world["c"],))


# --- in a real browser ---------------------------------------------------------------------

def test_the_purchasing_pages_in_a_browser(world, conn, live_url, page):
    staff = {"Authorization": "Bearer " + httpx.post(f"{live_url}/api/login", json={
        "username": "staffer", "password": PASSWORD}).json()["access_token"]}
    alpha = httpx.post(f"{live_url}/api/admin/suppliers", json={"name": "Alpha Pharma", "lead_time_days": 10},
                       headers=staff).json()
    httpx.put(f"{live_url}/api/admin/suppliers/{alpha['supplier_id']}/skus/3",
              json={"unit_cost": "1.20", "is_preferred": True}, headers=staff)
    draft = httpx.post(f"{live_url}/api/admin/purchase-orders", json={
        "supplier_id": alpha["supplier_id"], "lines": [{"sku_id": 3, "quantity": 12}]}, headers=staff).json()
    sent = httpx.post(f"{live_url}/api/admin/purchase-orders", json={
        "supplier_id": alpha["supplier_id"], "lines": [{"sku_id": 3, "quantity": 6}]}, headers=staff).json()
    httpx.post(f"{live_url}/api/admin/purchase-orders/{sent['po_id']}/send", headers=staff)
    sign_in(page, live_url, "staffer", PASSWORD)
    ids = {"s": alpha["supplier_id"], "d": draft["po_id"], "p": sent["po_id"]}
    paths = ["/staff/suppliers", "/staff/suppliers/{s}", "/staff/purchase-orders", "/staff/purchase-orders/new",
             "/staff/purchase-orders/{d}", "/staff/purchase-orders/{p}", "/staff/reports/reorder-suggestions"]
    assert _check_pages(page, live_url, paths, ids) == []
    page.goto(f"{live_url}/staff/purchase-orders/{sent['po_id']}")
    page.get_by_label("Batch number of PARA-3").fill("P-100")
    page.get_by_label("Expiry date of PARA-3").fill((TODAY + timedelta(days=200)).isoformat())
    page.get_by_label("Units of PARA-3 that arrived").fill("6")
    screenshot(page, "staff-purchase-order-receiving")
    page.get_by_role("button", name="Receive into stock").click()
    page.get_by_text("6 units received into stock; the order is received").wait_for()
    screenshot(page, "staff-purchase-order-received")
    assert conn.execute("SELECT quantity_on_hand FROM Inventory_Batches WHERE batch_no = 'P-100'").fetchone() == \
        {"quantity_on_hand": 6}
