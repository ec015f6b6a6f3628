"""The staff stock pages (dashboard, inventory, batches, plain-words entry, reports) over
HTTP on the real app and database, and the pages in a real browser (with screenshots). The
SVG chart builder on its own: tests/test_charts.py."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from tests.ordering_world import PASSWORD, TODAY, bearer
from tests.web_support import HTML, screenshot, sign_in, sign_in_by_form

FUTURE = (TODAY + timedelta(days=400)).isoformat()


def _counts(conn) -> tuple:
    """Everything a stock form can change: the batches (each one's stock, cost and expiry),
    the ledger and the edit history."""
    row = conn.execute("SELECT (SELECT count(*) FROM Stock_Movements) AS moves, "
                       "(SELECT count(*) FROM Batch_Edits) AS edits, "
                       "(SELECT string_agg(concat_ws(':', batch_id, quantity_on_hand, cost_price, expiry_date), ' ' "
                       "ORDER BY batch_id) FROM Inventory_Batches) AS batches").fetchone()
    return row["batches"], row["moves"], row["edits"]


def _ledger_matches_stock(conn) -> None:
    off = conn.execute("SELECT b.batch_id FROM Inventory_Batches AS b LEFT JOIN Stock_Movements AS m USING (batch_id) "
                       "GROUP BY b.batch_id, b.quantity_on_hand "
                       "HAVING b.quantity_on_hand <> coalesce(sum(m.quantity_delta), 0)").fetchall()
    assert off == []


def _receipt(**changes) -> dict[str, str]:
    return {"sku_code": "AMOX-1", "batch_no": "NEW-1", "expiry_date": FUTURE, "quantity": "12",
            "cost_price": "6.40", "note": "delivery 881"} | changes


def _text(html: str) -> str:
    """The page's visible text, roughly (tags out, entities of quotes back)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'").replace("&#34;", '"')


# ---------------------------------------------------------------- who may open the pages

STAFF_PAGES = ["/staff", "/staff/inventory", "/staff/inventory/receive", "/staff/inventory/entry",
               "/staff/reports", "/staff/reports/expiring", "/staff/batches/1"]


def _batch_forms(world) -> list[tuple[str, dict[str, str]]]:
    """A valid post of every batch form (each would change stock, cost, expiry or the batches)."""
    later = world["a_later"]
    return [(f"/staff/batches/{later}/adjust", {"delta": "-1", "reason": "damaged"}),
            (f"/staff/batches/{world['a_expired']}/write-off", {}),
            (f"/staff/batches/{later}/edit", {"cost_price": "9.00", "expiry_date": FUTURE, "cost_price_was": "7.00",
                                              "expiry_date_was": (TODAY + timedelta(days=100)).isoformat()}),
            (f"/staff/batches/{later}/delete", {}),
            ("/staff/inventory/write-off-expired", {"note": "bin"})]


async def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    for path in STAFF_PAGES:
        response = await client.get(path, headers=HTML)
        assert response.status_code == 303 and response.headers["location"].startswith("/login?next="), path


async def test_a_customer_is_refused_every_staff_stock_page_and_form(client, world, conn):
    csrf = await sign_in_by_form(client, "cust_1", PASSWORD)
    for path in STAFF_PAGES:
        response = await client.get(path, headers=HTML)
        assert response.status_code == 403 and "Not allowed" in response.text, path
    before = _counts(conn)
    for path, form in (("/staff/inventory/receive", _receipt()), *_batch_forms(world)):
        response = await client.post(path, data=form | {"csrf_token": csrf}, headers=HTML)
        assert response.status_code == 403 and "Not allowed" in response.text, path
    assert _counts(conn) == before


async def test_admins_may_use_the_staff_pages(client, world):
    await sign_in_by_form(client, "boss", PASSWORD)
    assert (await client.get("/staff/inventory", headers=HTML)).status_code == 200


async def test_forms_without_the_csrf_token_are_refused_and_change_nothing(client, world, conn):
    await sign_in_by_form(client, "staffer", PASSWORD)
    before = _counts(conn)
    for path, form in (("/staff/inventory/receive", _receipt()), *_batch_forms(world),
                       ("/staff/inventory/entry", {"text": "5 x AMOX-1 batch Z-1 exp Jan 2031 at 1.00"}),
                       ("/staff/inventory/entry/confirm", {"text": "5 x AMOX-1 batch Z-1 exp Jan 2031 at 1.00",
                                                           "l1-receive": "1", "l1-sku_id": "1",
                                                           "l1-batch_no": "Z-1", "l1-expiry_date": FUTURE,
                                                           "l1-quantity": "5", "l1-cost_price": "1.00"})):
        for token in (None, "forged"):
            data = form if token is None else form | {"csrf_token": token}
            response = await client.post(path, data=data, headers=HTML)
            assert response.status_code == 403 and "did not come from Stockline" in response.text, path
    assert _counts(conn) == before


# ---------------------------------------------------------------- dashboard

async def _loss_making_order(client, conn, csrf: str) -> int:
    """Receive 10 units of SKU 3 at 5.00 expiring first (so FEFO sells them), then cust_1
    orders 2 at 2.50: revenue 5.00, profit -5.00 today."""
    soon = (TODAY + timedelta(days=5)).isoformat()
    response = await client.post("/staff/inventory/receive", data=_receipt(
        sku_code="PARA-3", batch_no="DEAR-1", expiry_date=soon, quantity="10", cost_price="5.00",
        csrf_token=csrf))
    assert response.status_code == 303
    headers = await bearer(client, "cust_1") | {"Idempotency-Key": uuid.uuid4().hex}
    order = await client.post("/api/orders", json={"sku_id": 3, "quantity": 2}, headers=headers)
    assert order.status_code == 201, order.text
    return order.json()["order_id"]


async def test_dashboard_shows_the_figures_and_both_charts_with_a_loss_day(client, world, conn):
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    await _loss_making_order(client, conn, csrf)
    response = await client.get("/staff", headers=HTML)
    assert response.status_code == 200
    html = response.text
    text = _text(html)
    assert "Revenue 5.00" in text and "Profit -5.00" in text and "Orders 1" in text
    assert "Low stock 0 SKUs" in text  # PARA-3 holds 4 + 8 sellable units now, its reorder level is 10
    svgs = re.findall(r"<svg id=\"(chart-\w+)\".*?</svg>", html, re.S)
    assert svgs == ["chart-daily", "chart-weekly"]
    daily = re.search(r'<svg id="chart-daily".*?</svg>', html, re.S).group(0)
    assert 'role="img"' in daily and "<title id=\"chart-daily-title\">Revenue and profit per day" in daily
    assert daily.count('class="bar-revenue"') == 14 and daily.count('class="bar-profit"') == 13
    assert daily.count('class="bar-loss"') == 1
    assert f"{TODAY:%a %d %b %Y}: loss -5.00</title>" in daily
    assert f"{TODAY:%a %d %b %Y}: revenue 5.00</title>" in daily
    weekly = re.search(r'<svg id="chart-weekly".*?</svg>', html, re.S).group(0)
    assert weekly.count('class="bar-revenue"') == 8 and weekly.count('class="bar-loss"') == 1
    # the same figures as a table, and the top tens
    assert re.search(rf"{TODAY:%a %d %b %Y}</th><td class=\"num\">5.00</td>\s*<td class=\"num loss\">-5.00", html)
    assert "Paracetamol 500 mg tablets" in text and "First Pharmacy" in text


async def test_dashboard_without_any_sales_says_so(client, world):
    await sign_in_by_form(client, "staffer", PASSWORD)
    html = (await client.get("/staff", headers=HTML)).text
    assert html.count("No sales in this period") == 2
    assert "No sales in the last 30 days" in html and "No orders in the last 30 days" in html


# ---------------------------------------------------------------- inventory list

async def test_inventory_lists_batches_with_search_filters_and_badges(client, world):
    await sign_in_by_form(client, "staffer", PASSWORD)
    everything = await client.get("/staff/inventory", headers=HTML)
    assert everything.status_code == 200
    for batch_no in ("A-SOON", "A-LATER", "A-EXPIRED", "B-1", "C-1", "D-1"):
        assert f">{batch_no}</a>" in everything.text
    found = (await client.get("/staff/inventory?search=later", headers=HTML)).text
    assert ">A-LATER</a>" in found and ">A-SOON</a>" not in found
    assert "No batches match" in (await client.get("/staff/inventory?search=zzz", headers=HTML)).text
    expired = (await client.get("/staff/inventory?filter=expired", headers=HTML)).text
    assert ">A-EXPIRED</a>" in expired and ">A-TODAY</a>" in expired and ">A-LATER</a>" not in expired
    assert "badge badge-bad\">Expired" in expired
    soon = (await client.get("/staff/inventory?filter=expiring", headers=HTML)).text
    assert ">A-SOON</a>" in soon and "10 days left" in soon and ">A-LATER</a>" not in soon
    low = (await client.get("/staff/inventory?filter=low_stock", headers=HTML)).text
    assert ">C-1</a>" in low and ">B-1</a>" not in low and ">low</span>" in low
    one_sku = (await client.get("/staff/inventory?sku_id=2", headers=HTML)).text
    assert ">B-1</a>" in one_sku and ">A-SOON</a>" not in one_sku
    by_quantity = (await client.get("/staff/inventory?sort=quantity", headers=HTML)).text
    assert by_quantity.index(">A-EMPTY</a>") < by_quantity.index(">A-EXPIRED</a>")
    # nonsense in the query string is ignored, never an error
    odd = await client.get("/staff/inventory?filter=bogus&sort=nope&page=abc&sku_id=x", headers=HTML)
    assert odd.status_code == 200 and ">B-1</a>" in odd.text
    beyond = (await client.get("/staff/inventory?page=9", headers=HTML)).text
    assert "No batches on this page" in beyond


# ---------------------------------------------------------------- receiving

async def test_receiving_a_batch_writes_the_batch_and_its_receipt(client, world, conn):
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    response = await client.post("/staff/inventory/receive", data=_receipt(csrf_token=csrf))
    assert response.status_code == 303 and response.headers["location"] == "/staff/inventory/receive"
    batch = conn.execute("SELECT * FROM Inventory_Batches WHERE batch_no = 'NEW-1'").fetchone()
    assert (batch["sku_id"], batch["quantity_on_hand"], batch["cost_price"], batch["expiry_date"].isoformat()) == (
        1, 12, Decimal("6.40"), FUTURE)
    moves = conn.execute("SELECT quantity_delta, reason, user_id, note FROM Stock_Movements WHERE batch_id = %s",
                         (batch["batch_id"],)).fetchall()
    assert moves == [{"quantity_delta": 12, "reason": "receipt", "user_id": 4, "note": "delivery 881"}]
    _ledger_matches_stock(conn)
    page = await client.get("/staff/inventory/receive", headers=HTML)
    assert "Received into a new batch NEW-1 of Amoxicillin 500 mg capsules (AMOX-1); it now holds 12 units." in \
        _text(page.text)
    assert f'href="/staff/batches/{batch["batch_id"]}">NEW-1</a>' in page.text  # among the recent receipts
    listed = await client.get("/staff/inventory?search=NEW-1", headers=HTML)
    assert ">NEW-1</a>" in listed.text
    # the same batch again, same expiry: more of it
    again = await client.post("/staff/inventory/receive", data=_receipt(quantity="3", csrf_token=csrf))
    assert again.status_code == 303
    assert conn.execute("SELECT quantity_on_hand FROM Inventory_Batches WHERE batch_no = 'NEW-1'").fetchone()[
        "quantity_on_hand"] == 15
    assert "existing batch NEW-1" in _text((await client.get("/staff/inventory/receive", headers=HTML)).text)
    _ledger_matches_stock(conn)


@pytest.mark.parametrize(("changes", "status", "message"), [
    ({"quantity": "12a"}, 422, "Quantity must be a whole number"),
    ({"quantity": "0"}, 422, "Quantity must be more than 0"),
    ({"quantity": "2000000"}, 422, "Quantity must be at most 1,000,000"),
    ({"cost_price": "abc"}, 422, "Cost price must be an amount like 12.50"),
    ({"cost_price": "1.234"}, 422, "Cost price may have at most 2 decimal places"),
    ({"cost_price": "-1"}, 422, "Cost price must be at least 0"),
    ({"expiry_date": "2031-02-30"}, 422, "Expiry date must be a date"),
    ({"expiry_date": (TODAY - timedelta(days=1)).isoformat()}, 422, "would arrive expired"),
    ({"expiry_date": TODAY.isoformat()}, 422, "is not after today"),
    ({"batch_no": "!oops"}, 422, "Batch number may hold letters, digits"),
    ({"batch_no": ""}, 422, "Batch number is required"),
    ({"sku_code": ""}, 422, "SKU is required"),
    ({"sku_code": "NOPE-9"}, 404, "No SKU 'NOPE-9'"),
    ({"batch_no": "A-SOON"}, 409, "Batch A-SOON of this SKU expires on"),
])
async def test_a_refused_receipt_shows_the_form_again_and_writes_nothing(client, world, conn, changes, status,
                                                                         message):
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    before = _counts(conn)
    form = _receipt(**changes)
    response = await client.post("/staff/inventory/receive", data=form | {"csrf_token": csrf})
    assert response.status_code == status
    assert message in _text(response.text)
    assert 'aria-invalid="true"' in response.text  # the field is marked
    for name in ("sku_code", "batch_no", "quantity", "cost_price"):  # what was typed is kept
        if form[name] and form[name] != "!oops":
            assert f'value="{form[name]}"' in response.text
    assert _counts(conn) == before


async def test_an_unknown_sku_code_suggests_near_ones(client, world, conn):
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    response = await client.post("/staff/inventory/receive", data=_receipt(sku_code="amox", csrf_token=csrf))
    assert response.status_code == 404
    assert "Did you mean" in response.text and "<strong>AMOX-1</strong>" in response.text
    para = await client.post("/staff/inventory/receive", data=_receipt(sku_code="para", csrf_token=csrf))
    assert "<strong>PARA-3</strong>" in para.text and "<strong>PARA-4</strong>" not in para.text  # inactive
    lower = await client.post("/staff/inventory/receive", data=_receipt(sku_code="amox-2", csrf_token=csrf))
    assert lower.status_code == 303  # a code in the wrong case is still that SKU
    assert conn.execute("SELECT sku_id FROM Inventory_Batches WHERE batch_no = 'NEW-1'").fetchone()["sku_id"] == 2


# ---------------------------------------------------------------- batch page: adjust, write off

async def test_batch_page_shows_the_batch_and_its_movements(client, world, conn):
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    await client.post(f"/staff/batches/{world['a_later']}/adjust", data={
        "delta": "-1", "reason": "other", "note": "<b>counted</b>", "csrf_token": csrf})
    response = await client.get(f"/staff/batches/{world['a_later']}", headers=HTML)
    assert response.status_code == 200
    text = _text(response.text)
    assert "Batch A-LATER" in text and "AMOX-1" in text and "19 units" in text and "7.00 per unit" in text
    assert "receipt +20" in text and "adjustment -1" in text and "staffer" in text
    assert "other: &lt;b&gt;counted&lt;/b&gt;" in response.text  # escaped
    assert "Only expired stock is written off here" in text and "Write off 20 units" not in text
    assert (await client.get("/staff/batches/999999", headers=HTML)).status_code == 404
    assert (await client.get("/staff/batches/abc", headers=HTML)).status_code == 422


async def test_adjusting_a_batch_writes_an_adjustment_movement(client, world, conn):
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    batch_id = world["a_later"]
    response = await client.post(f"/staff/batches/{batch_id}/adjust", data={
        "delta": "-3", "reason": "damaged", "note": "crushed box", "csrf_token": csrf})
    assert response.status_code == 303 and response.headers["location"] == f"/staff/batches/{batch_id}"
    page = await client.get(f"/staff/batches/{batch_id}", headers=HTML)
    assert "Batch A-LATER adjusted by -3 (damaged); it now holds 17 units." in _text(page.text)
    counted = await client.post(f"/staff/batches/{batch_id}/adjust", data={
        "new_quantity": "25", "reason": "count_correction", "csrf_token": csrf})
    assert counted.status_code == 303
    moves = conn.execute("SELECT quantity_delta, reason, user_id, note FROM Stock_Movements WHERE batch_id = %s "
                         "AND reason = 'adjustment' ORDER BY movement_id", (batch_id,)).fetchall()
    assert moves == [{"quantity_delta": -3, "reason": "adjustment", "user_id": 4, "note": "damaged: crushed box"},
                     {"quantity_delta": 8, "reason": "adjustment", "user_id": 4, "note": "count_correction"}]
    assert conn.execute("SELECT quantity_on_hand FROM Inventory_Batches WHERE batch_id = %s",
                        (batch_id,)).fetchone()["quantity_on_hand"] == 25
    _ledger_matches_stock(conn)


@pytest.mark.parametrize(("form", "status", "message"), [
    ({"delta": "three", "reason": "damaged"}, 422, "Change must be a whole number"),
    ({"delta": "-3"}, 422, "Reason is required"),
    ({"delta": "-3", "reason": "stolen"}, 422, "Reason must be one of the choices offered"),
    ({"reason": "damaged"}, 422, "Fill in the change"),
    ({"delta": "1", "new_quantity": "5", "reason": "found"}, 422, "not both"),
    ({"delta": "-21", "reason": "damaged"}, 409, "Batch A-LATER holds 20 units; it cannot lose 21"),
    ({"new_quantity": "20", "reason": "count_correction"}, 409, "already holds 20 units"),
])
async def test_a_refused_adjustment_changes_nothing(client, world, conn, form, status, message):
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    before = _counts(conn)
    response = await client.post(f"/staff/batches/{world['a_later']}/adjust", data=form | {"csrf_token": csrf})
    assert response.status_code == status and message in _text(response.text)
    assert "Batch A-LATER" in response.text  # the batch page again, with the typed values
    if form.get("delta"):
        assert f'value="{form["delta"]}"' in response.text
    assert _counts(conn) == before


async def test_writing_off_an_expired_batch(client, world, conn):
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    batch_id = world["a_expired"]
    page = await client.get(f"/staff/batches/{batch_id}", headers=HTML)
    assert "Write off 50 units" in page.text and 'data-confirm="Write off all 50 units' in page.text
    response = await client.post(f"/staff/batches/{batch_id}/write-off", data={"note": "bin 4", "csrf_token": csrf})
    assert response.status_code == 303
    notice = _text((await client.get(f"/staff/batches/{batch_id}", headers=HTML)).text)
    assert "Wrote off 50 units of batch A-EXPIRED (value at cost 50.00)." in notice
    assert "holds no stock: nothing to write off" in notice
    moves = conn.execute("SELECT quantity_delta, reason, user_id, note FROM Stock_Movements WHERE batch_id = %s "
                         "AND reason = 'write_off'", (batch_id,)).fetchall()
    assert moves == [{"quantity_delta": -50, "reason": "write_off", "user_id": 4, "note": "bin 4"}]
    _ledger_matches_stock(conn)
    again = await client.post(f"/staff/batches/{batch_id}/write-off", data={"csrf_token": csrf})
    assert again.status_code == 409 and "holds no stock" in again.text


async def test_a_batch_that_has_not_expired_is_not_written_off(client, world, conn):
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    before = _counts(conn)
    response = await client.post(f"/staff/batches/{world['a_later']}/write-off", data={"csrf_token": csrf})
    assert response.status_code == 409 and "has not expired" in response.text
    assert _counts(conn) == before


# ---------------------------------------------------------------- batch page: correct, delete

def _batch_row(conn, batch_id: int) -> dict:
    return conn.execute("SELECT quantity_on_hand, cost_price, expiry_date FROM Inventory_Batches WHERE batch_id = %s",
                        (batch_id,)).fetchone()


def _edits(conn) -> list[tuple]:
    rows = conn.execute("SELECT batch_id, field, old_value, new_value, user_id, note FROM Batch_Edits "
                        "ORDER BY edit_id").fetchall()
    return [tuple(r.values()) for r in rows]


def _edit_form(html: str) -> dict[str, str]:
    """The correction form's fields as the page drew them."""
    form = re.search(r'<form method="post" action="/staff/batches/\d+/edit".*?</form>', html, re.S).group(0)
    return dict(re.findall(r'name="([a-z_]+)"[^>]*? value="([^"]*)"', form))


async def test_correcting_cost_and_expiry_is_recorded_and_shown(client, world, conn):
    await sign_in_by_form(client, "staffer", PASSWORD)  # the form carries the session's CSRF token
    batch_id, new_expiry = world["a_later"], TODAY + timedelta(days=120)
    page = await client.get(f"/staff/batches/{batch_id}", headers=HTML)
    form = _edit_form(page.text)  # filled in with what the batch holds now
    assert (form["cost_price"], form["cost_price_was"]) == ("7.00", "7.00")
    assert form["expiry_date"] == form["expiry_date_was"] == (TODAY + timedelta(days=100)).isoformat()
    assert "No corrections yet" in page.text
    moves_before = _counts(conn)[1]
    response = await client.post(f"/staff/batches/{batch_id}/edit", data=form | {
        "cost_price": "7.5", "expiry_date": new_expiry.isoformat(), "note": "<i>invoice</i> 77"})
    assert response.status_code == 303 and response.headers["location"] == f"/staff/batches/{batch_id}"
    row = _batch_row(conn, batch_id)
    assert (row["cost_price"], row["expiry_date"], row["quantity_on_hand"]) == (Decimal("7.50"), new_expiry, 20)
    assert _edits(conn) == [
        (batch_id, "expiry_date", (TODAY + timedelta(days=100)).isoformat(), new_expiry.isoformat(), 4,
         "<i>invoice</i> 77"),
        (batch_id, "cost_price", "7.00", "7.50", 4, "<i>invoice</i> 77")]
    assert _counts(conn)[1] == moves_before  # a correction moves no stock
    _ledger_matches_stock(conn)
    shown = await client.get(f"/staff/batches/{batch_id}", headers=HTML)
    text = _text(shown.text)
    assert (f"Batch A-LATER corrected: expiry date is now {new_expiry:%d %b %Y} and cost price is now 7.50 "
            "(recorded in its edit history).") in text
    assert "cost price 7.00 7.50 staffer" in text
    assert f"expiry date {TODAY + timedelta(days=100):%d %b %Y} {new_expiry:%d %b %Y} staffer" in text
    assert "&lt;i&gt;invoice&lt;/i&gt; 77" in shown.text  # escaped
    assert _edit_form(shown.text)["cost_price_was"] == "7.50"


async def test_a_correction_changes_only_what_the_form_changed(client, world, conn):
    """A clerk corrects the cost on a page drawn before someone else moved the expiry: the
    other person's expiry stays."""
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    batch_id = world["b"]
    form = _edit_form((await client.get(f"/staff/batches/{batch_id}", headers=HTML)).text)
    moved = (TODAY + timedelta(days=222)).isoformat()
    meanwhile = await client.patch(f"/api/admin/inventory/batches/{batch_id}", json={"expiry_date": moved},
                                   headers=await bearer(client, "boss"))
    assert meanwhile.status_code == 200
    response = await client.post(f"/staff/batches/{batch_id}/edit", data=form | {"cost_price": "19.99",
                                                                                 "csrf_token": csrf})
    assert response.status_code == 303
    row = _batch_row(conn, batch_id)
    assert (row["cost_price"], row["expiry_date"].isoformat()) == (Decimal("19.99"), moved)
    assert [(e[1], e[3], e[4]) for e in _edits(conn)] == [("expiry_date", moved, 5), ("cost_price", "19.99", 4)]


@pytest.mark.parametrize(("changes", "message"), [
    ({"cost_price": "abc"}, "Cost price must be an amount like 12.50"),
    ({"cost_price": "-1"}, "Cost price must be at least 0"),
    ({"cost_price": "1.234"}, "Cost price may have at most 2 decimal places"),
    ({"expiry_date": "2031-02-30"}, "Expiry date must be a date"),
    ({"note": "x" * 501}, "Note is too long (at most 500 characters)"),
    ({}, "Nothing changed: type a new cost price or expiry date"),
    ({"cost_price": "7"}, "Nothing changed"),  # the same amount, written otherwise
    ({"cost_price": "", "expiry_date": ""}, "Give a new cost price or expiry date"),
])
async def test_a_refused_correction_changes_nothing(client, world, conn, changes, message):
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    batch_id = world["a_later"]
    form = _edit_form((await client.get(f"/staff/batches/{batch_id}", headers=HTML)).text) | changes
    before = _counts(conn)
    response = await client.post(f"/staff/batches/{batch_id}/edit", data=form | {"csrf_token": csrf})
    assert response.status_code == 422 and message in _text(response.text)
    assert "Batch A-LATER" in response.text
    if changes.get("cost_price"):  # what was typed is kept, the field marked
        assert re.search(rf'name="cost_price" type="text" value="{changes["cost_price"]}"[^>]*aria-invalid="true"',
                         response.text) or message.startswith("Nothing")
    assert _counts(conn) == before


async def test_an_expiry_cannot_move_to_a_day_the_batch_was_sold(client, world, conn):
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    sale = await client.post("/api/orders", json={"sku_id": 2, "quantity": 1},
                             headers=await bearer(client, "cust_2") | {"Idempotency-Key": uuid.uuid4().hex})
    assert sale.status_code == 201
    form = _edit_form((await client.get(f"/staff/batches/{world['b']}", headers=HTML)).text)
    before = _counts(conn)
    response = await client.post(f"/staff/batches/{world['b']}/edit", data=form | {
        "expiry_date": TODAY.isoformat(), "cost_price": "25.00", "csrf_token": csrf})
    assert response.status_code == 409
    assert f"Batch B-1 was sold on {TODAY.isoformat()}; its expiry must stay after that day" in _text(response.text)
    assert re.search(rf'name="expiry_date" type="date" value="{TODAY.isoformat()}"[^>]*aria-invalid="true"',
                     response.text)
    assert _counts(conn) == before  # the cost was not changed either


async def test_deleting_a_batch_entered_by_mistake(client, world, conn):
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    assert (await client.post("/staff/inventory/receive", data=_receipt(csrf_token=csrf))).status_code == 303
    batch_id = conn.execute("SELECT batch_id FROM Inventory_Batches WHERE batch_no = 'NEW-1'").fetchone()["batch_id"]
    page = await client.get(f"/staff/batches/{batch_id}", headers=HTML)
    assert "Delete batch NEW-1</button>" in page.text
    assert 'data-confirm="Delete batch NEW-1 and the 12 units it received? This cannot be undone."' in page.text
    response = await client.post(f"/staff/batches/{batch_id}/delete", data={"csrf_token": csrf})
    assert response.status_code == 303 and response.headers["location"] == "/staff/inventory"
    assert conn.execute("SELECT count(*) AS n FROM Inventory_Batches WHERE batch_id = %s", (batch_id,)).fetchone()[
        "n"] == 0
    assert conn.execute("SELECT count(*) AS n FROM Stock_Movements WHERE batch_id = %s", (batch_id,)).fetchone()[
        "n"] == 0
    _ledger_matches_stock(conn)
    listed = _text((await client.get("/staff/inventory", headers=HTML)).text)
    assert ("Deleted batch NEW-1 of Amoxicillin 500 mg capsules (AMOX-1) with the 12 units it received." in listed)
    again = await client.post(f"/staff/batches/{batch_id}/delete", data={"csrf_token": csrf}, headers=HTML)
    assert again.status_code == 404


async def test_a_sold_or_moved_batch_cannot_be_deleted(client, world, conn):
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    sale = await client.post("/api/orders", json={"sku_id": 2, "quantity": 1},
                             headers=await bearer(client, "cust_2") | {"Idempotency-Key": uuid.uuid4().hex})
    assert sale.status_code == 201
    await client.post(f"/staff/batches/{world['c']}/adjust", data={"delta": "1", "reason": "found",
                                                                   "csrf_token": csrf})
    for batch_id, batch_no, why in ((world["b"], "B-1", "has been sold, so it stays for traceability"),
                                    (world["c"], "C-1", "has stock movements besides its receipt")):
        page = await client.get(f"/staff/batches/{batch_id}", headers=HTML)
        assert "Delete batch" not in page.text and "/delete" not in page.text  # not offered
        before = _counts(conn)
        response = await client.post(f"/staff/batches/{batch_id}/delete", data={"csrf_token": csrf})
        assert response.status_code == 409
        assert f"Batch {batch_no} {why}" in _text(response.text) and 'role="alert"' in response.text
        assert _counts(conn) == before
    untouched = await client.get(f"/staff/batches/{world['a_later']}", headers=HTML)
    assert "Delete batch A-LATER</button>" in untouched.text  # only its receipt: offered
    _ledger_matches_stock(conn)


# ---------------------------------------------------------------- inventory: write off every expired batch

async def test_writing_off_every_expired_batch_from_the_inventory_page(client, world, conn):
    csrf = await sign_in_by_form(client, "boss", PASSWORD)  # the API lets staff and admins do it; so do the pages
    page = await client.get("/staff/inventory", headers=HTML)
    # A-EXPIRED (50 units at 1.00) and A-TODAY (7: it expires at the start of today)
    assert "2 expired batches still hold 57 units (57.00 at cost)" in _text(page.text)
    assert 'data-confirm="Write off all 57 units of the 2 expired batches? This cannot be undone."' in page.text
    response = await client.post("/staff/inventory/write-off-expired", data={"note": "quarterly", "csrf_token": csrf})
    assert response.status_code == 303 and response.headers["location"] == "/staff/inventory"
    after = await client.get("/staff/inventory", headers=HTML)
    assert "Wrote off 2 expired batches, 57 units (value at cost 57.00)." in _text(after.text)
    assert "Write off every expired batch" not in after.text  # nothing left to offer
    moves = conn.execute("SELECT batch_id, quantity_delta, user_id, note FROM Stock_Movements "
                         "WHERE reason = 'write_off' ORDER BY batch_id").fetchall()
    assert [tuple(m.values()) for m in moves] == [(world["a_expired"], -50, 5, "quarterly"),
                                                  (world["a_today"], -7, 5, "quarterly")]
    assert _batch_row(conn, world["a_expired"])["quantity_on_hand"] == 0
    assert _batch_row(conn, world["a_today"])["quantity_on_hand"] == 0
    _ledger_matches_stock(conn)
    before = _counts(conn)
    again = await client.post("/staff/inventory/write-off-expired", data={"csrf_token": csrf})
    assert again.status_code == 303 and _counts(conn) == before
    assert "No expired batch holds stock: nothing was written off." in (
        await client.get("/staff/inventory", headers=HTML)).text
    too_long = await client.post("/staff/inventory/write-off-expired", data={"note": "x" * 501, "csrf_token": csrf})
    assert too_long.status_code == 303 and _counts(conn) == before
    assert "Note is too long" in (await client.get("/staff/inventory", headers=HTML)).text


# ---------------------------------------------------------------- plain-words entry

ENTRY = ("Add 5 units of AMOX-1 batch E-1 expiring January 2030 at 6.50 each\n"
         "10 x Paracetamol 500 mg tablets 10 lot P-9 exp 31/03/2030\n"
         "3 units of Amoxicillin 500 mg capsules batch E-3 exp 2030-05-01 cost 2\n"
         "something weird")


def _confirm_form(html: str) -> dict[str, str]:
    """The confirm form's fields as the browser would send them (ticked boxes only)."""
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))
    for name, value in re.findall(r'<input id="[^"]+" name="(l\d+-[a-z_]+)" type="[a-z]+" value="([^"]*)"', html):
        form[name] = value
    for name in re.findall(r'name="(l\d+-receive)" value="1" checked', html):
        form[name] = "1"
    for name, body in re.findall(r'<select id="[^"]+" name="(l\d+-sku_id)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="(\d*)" selected', body)
        form[name] = chosen.group(1) if chosen else ""
    form["text"] = form["text"].replace("&#10;", "\n")
    return form


async def test_plain_words_entry_reads_lines_and_writes_only_on_confirm(client, world, conn):
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    before = _counts(conn)
    read = await client.post("/staff/inventory/entry", data={"text": ENTRY, "csrf_token": csrf})
    assert read.status_code == 200 and _counts(conn) == before
    text = _text(read.text)
    assert "Read as: 5 units · batch E-1 · expiry 31 Jan 2030 · cost 6.50 · SKU AMOX-1" in text
    assert "No cost price in the line" in text
    assert "2 SKUs match about equally well" in text
    assert "No active SKU matches 'something weird'" in text and "cannot be received from here" in text
    form = _confirm_form(read.text)
    assert form["l1-receive"] == "1" and form["l1-sku_id"] == "1" and form["l2-receive"] == "1"
    assert "l3-receive" not in form and form["l3-sku_id"] == "" and "l4-sku_id" not in form
    assert form["text"].splitlines() == ENTRY.splitlines()
    # line 2 has no cost: nothing at all is received
    refused = await client.post("/staff/inventory/entry/confirm", data=form)
    assert refused.status_code == 422 and "Cost price is required" in refused.text
    assert "1 ticked line needs correcting (marked below); nothing was received" in _text(refused.text)
    assert _counts(conn) == before
    # cost given, line 3's SKU chosen and ticked
    form |= {"l2-cost_price": "0.90", "l3-receive": "1", "l3-sku_id": "2"}
    confirmed = await client.post("/staff/inventory/entry/confirm", data=form)
    assert confirmed.status_code == 303 and confirmed.headers["location"].startswith("/staff/inventory?filter=recent")
    rows = conn.execute("SELECT b.sku_id, b.batch_no, b.quantity_on_hand, b.cost_price, b.expiry_date, m.reason, "
                        "m.quantity_delta, m.note FROM Inventory_Batches AS b JOIN Stock_Movements AS m USING "
                        "(batch_id) WHERE b.batch_no IN ('E-1', 'P-9', 'E-3') ORDER BY b.batch_id").fetchall()
    assert [(r["sku_id"], r["batch_no"], r["quantity_on_hand"], r["cost_price"], r["expiry_date"], r["reason"])
            for r in rows] == [(1, "E-1", 5, Decimal("6.50"), date(2030, 1, 31), "receipt"),
                               (3, "P-9", 10, Decimal("0.90"), date(2030, 3, 31), "receipt"),
                               (2, "E-3", 3, Decimal("2.00"), date(2030, 5, 1), "receipt")]
    assert rows[0]["note"].startswith("plain-words entry: Add 5 units of AMOX-1")
    _ledger_matches_stock(conn)
    listed = await client.get(confirmed.headers["location"], headers=HTML)
    assert "Received 3 lines: E-1 (5 on hand), P-9 (10 on hand), E-3 (3 on hand)." in _text(listed.text)


async def test_entry_receives_nothing_when_one_line_is_refused_and_keeps_every_line_editable(client, world, conn):
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    text = ("5 x AMOX-1 batch E-7 exp Jan 2031 at 1.00\n"
            "4 x AMOX-1 batch A-SOON exp Feb 2031 at 1.00\n"
            "2 x AMOX-2 batch E-8 exp Mar 2031 at 1.00")
    form = _confirm_form((await client.post("/staff/inventory/entry", data={"text": text, "csrf_token": csrf})).text)
    before = _counts(conn)
    first = await client.post("/staff/inventory/entry/confirm", data=form)
    assert first.status_code == 409
    page = _text(first.text)
    assert "Line 2 cannot be received: Batch A-SOON of this SKU expires on" in page
    assert "Nothing was received; correct that line or untick it" in page
    assert "Received into" not in page and "badge-ok" not in first.text  # no line is marked received
    assert _counts(conn) == before  # line 1 came first, and it was not received either
    assert conn.execute("SELECT count(*) AS n FROM Inventory_Batches WHERE batch_no IN ('E-7', 'E-8')").fetchone()[
        "n"] == 0
    assert re.search(r'id="l2-batch_no" name="l2-batch_no" type="text" value="A-SOON"[^>]*aria-invalid="true"',
                     first.text)  # the refused line's batch number is marked
    again = _confirm_form(first.text)  # every line still editable and ticked as it was
    assert [again.get(f"l{n}-receive") for n in (1, 2, 3)] == ["1", "1", "1"]
    assert (again["l1-batch_no"], again["l3-batch_no"], again["l2-quantity"]) == ("E-7", "E-8", "4")
    again["l2-batch_no"] = "A-SOON-2"  # corrected: a new batch
    second = await client.post("/staff/inventory/entry/confirm", data=again)
    assert second.status_code == 303
    rows = conn.execute("SELECT batch_no, quantity_on_hand FROM Inventory_Batches "
                        "WHERE batch_no IN ('E-7', 'E-8', 'A-SOON', 'A-SOON-2')").fetchall()
    quantities = {r["batch_no"]: r["quantity_on_hand"] for r in rows}
    assert quantities == {"E-7": 5, "E-8": 2, "A-SOON": 5, "A-SOON-2": 4}  # each once, A-SOON untouched
    _ledger_matches_stock(conn)


async def test_entry_refuses_empty_text_past_expiry_and_nothing_ticked(client, world, conn):
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    empty = await client.post("/staff/inventory/entry", data={"text": "  \n ", "csrf_token": csrf})
    assert empty.status_code == 422 and "no lines to read" in empty.text
    text = "5 x AMOX-1 batch E-9 exp Jan 2021 at 1.00"
    read = await client.post("/staff/inventory/entry", data={"text": text, "csrf_token": csrf})
    form = _confirm_form(read.text)
    before = _counts(conn)
    past = await client.post("/staff/inventory/entry/confirm", data=form)
    assert past.status_code == 422 and "would arrive expired" in past.text
    form.pop("l1-receive")
    nothing = await client.post("/staff/inventory/entry/confirm", data=form)
    assert nothing.status_code == 422 and "Tick at least one line to receive" in nothing.text
    edit = await client.post("/staff/inventory/entry", data={"text": text, "edit": "1", "csrf_token": csrf})
    assert edit.status_code == 200 and f">{text}</textarea>" in edit.text
    assert _counts(conn) == before


# ---------------------------------------------------------------- reports

async def test_reports_show_each_report_with_a_csv_link(client, world, conn):
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    first = await client.get("/staff/reports", headers=HTML)  # low stock: PARA-3 holds 4, its level is 10
    assert first.status_code == 200 and 'aria-current="page">Low stock</a>' in first.text
    assert ">PARA-3</a>" in first.text and "Total shortfall: 6" in _text(first.text)
    await _loss_making_order(client, conn, csrf)
    big = await client.post("/api/orders", json={"sku_id": 2, "quantity": 25},  # 5 left: 6 days of cover
                            headers=await bearer(client, "cust_2") | {"Idempotency-Key": uuid.uuid4().hex})
    assert big.status_code == 201, big.text
    expected = {"expiring": ">A-SOON</a>", "expired": ">A-EXPIRED</a>",
                "reorder-suggestions": ">AMOX-2</a>", "stock-valuation": ">PARA-4</a>",
                "loss-making-sales": ">DEAR-1</a>"}
    for name, needle in expected.items():
        response = await client.get(f"/staff/reports/{name}", headers=HTML)
        assert response.status_code == 200 and needle in response.text, name
        link = re.search(r'<a class="button" href="([^"]+)" download>Download CSV', response.text).group(1)
        assert link.startswith(f"/api/admin/reports/{name}?") and "format=csv" in link
        csv = await client.get(link.replace("&amp;", "&"))
        assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv"), name
        assert re.sub(r"<[^>]+>|>", "", needle) in csv.text, name
    loss = _text((await client.get("/staff/reports/loss-making-sales", headers=HTML)).text)
    assert "Total loss: 5.00" in loss and "First Pharmacy" in loss


async def test_report_parameters_and_empty_states(client, world):
    await sign_in_by_form(client, "staffer", PASSWORD)
    narrow = await client.get("/staff/reports/expiring?days=5", headers=HTML)
    assert "No sellable stock expires within this window." in narrow.text
    assert 'href="/api/admin/reports/expiring?days=5&amp;format=csv"' in narrow.text
    wide = await client.get("/staff/reports/expiring?days=40", headers=HTML)
    assert ">A-SOON</a>" in wide.text and ">C-1</a>" in wide.text and ">A-LATER</a>" not in wide.text
    for bad in ("abc", "0", "366"):
        response = await client.get(f"/staff/reports/expiring?days={bad}", headers=HTML)
        assert response.status_code == 422 and "Days must be a whole number from 1 to 365" in response.text
    wrong_way = await client.get("/staff/reports/loss-making-sales?from=2030-02-01&to=2030-01-01", headers=HTML)
    assert wrong_way.status_code == 422 and "from must not be after to" in wrong_way.text
    bad_day = await client.get("/staff/reports/loss-making-sales?from=yesterday", headers=HTML)
    assert bad_day.status_code == 422 and "From must be a date" in bad_day.text
    none = await client.get("/staff/reports/loss-making-sales", headers=HTML)
    assert "No item was sold below its cost in this period." in none.text
    assert (await client.get("/staff/reports/nothing-here", headers=HTML)).status_code == 404


# ---------------------------------------------------------------- in a browser

def test_staff_stock_pages_in_a_browser(world, conn, live_url, page):
    with httpx.Client(base_url=live_url) as api:  # a sale today, so the dashboard has bars to draw
        token = api.post("/api/login", json={"username": "cust_2", "password": PASSWORD}).json()["access_token"]
        sale = api.post("/api/orders", json={"sku_id": 2, "quantity": 3},
                        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex})
        assert sale.status_code == 201, sale.text
    sign_in(page, live_url, "staffer", PASSWORD)
    assert page.url.endswith("/staff")
    page.get_by_role("link", name="Inventory").click()
    page.get_by_role("link", name="Receive stock").click()
    sku = page.get_by_label("SKU code")
    sku.fill("amox")  # the SKU field suggests codes from the API as one types
    page.wait_for_function("() => document.querySelectorAll('#sku-options option').length === 2")
    sku.fill("AMOX-2")
    page.get_by_label("Batch number").fill("WEB-77")
    page.get_by_label("Expiry date").fill(FUTURE)
    page.get_by_label("Quantity (units)").fill("40")
    page.get_by_label("Cost price per unit").fill("18.25")
    page.get_by_role("button", name="Receive stock").click()
    assert "Received into a new batch WEB-77" in page.get_by_role("status").inner_text()
    screenshot(page, "staff-receive")

    page.get_by_role("link", name="← Inventory").click()
    page.get_by_label("Search").fill("WEB-77")  # results swap in as one types
    page.wait_for_function("() => document.querySelectorAll('#inventory-results tbody tr').length === 1")
    assert "search=WEB-77" in page.url
    row = page.locator("#inventory-results tbody tr")
    assert "AMOX-2" in row.inner_text() and "18.25" in row.inner_text()
    screenshot(page, "staff-inventory")
    row.get_by_role("link", name="WEB-77").click()
    page.get_by_label("Change by").fill("-2")
    page.get_by_label("Reason").select_option("damaged")
    page.get_by_role("button", name="Adjust stock").click()
    assert "adjusted by -2" in page.get_by_role("status").inner_text()
    assert "38 units" in page.locator("dl.facts").inner_text()
    page.get_by_label("Cost price per unit").fill("18.90")
    page.get_by_label("Why (optional)").fill("supplier credit note")
    page.get_by_role("button", name="Save the correction").click()
    assert "cost price is now 18.90" in page.get_by_role("status").inner_text()
    history = page.get_by_role("table").first
    assert "18.25" in history.inner_text() and "18.90" in history.inner_text()
    assert "18.90 per unit" in page.locator("dl.facts").inner_text()
    edits = conn.execute("SELECT e.field, e.old_value, e.new_value, e.note FROM Batch_Edits AS e "
                         "JOIN Inventory_Batches AS b USING (batch_id) WHERE b.batch_no = 'WEB-77'").fetchall()
    assert [tuple(e.values()) for e in edits] == [("cost_price", "18.25", "18.90", "supplier credit note")]
    screenshot(page, "staff-batch")

    page.get_by_role("link", name="Dashboard").click()
    for chart, periods in (("chart-daily", 14), ("chart-weekly", 8)):
        svg = page.locator(f"svg#{chart}")
        assert svg.get_attribute("role") == "img"
        assert svg.locator("rect.bar-revenue").count() == periods
        today = svg.locator("rect.bar-revenue").last
        assert today.bounding_box()["height"] > 50  # the one sale (90.00) is the tallest bar
        assert today.locator("title").text_content().endswith("revenue 90.00")
    assert page.locator(".figure .value").first.text_content() == "90.00"
    page.get_by_text("Figures as a table").first.click()
    assert page.get_by_role("table").first.is_visible()
    screenshot(page, "staff-dashboard")

    page.goto(f"{live_url}/staff/inventory/entry")
    page.get_by_label("Stock received, one batch per line").fill(ENTRY)
    page.get_by_role("button", name="Read the lines").click()
    assert page.get_by_role("heading", name="Check what was read").is_visible()
    page.locator("#l2-cost_price").fill("0.95")
    page.get_by_label("SKU").nth(2).select_option("2")  # line 3's SKU: choosing it ticks the line
    assert page.get_by_label("Receive line 3").is_checked()
    screenshot(page, "staff-entry-confirm")
    page.get_by_role("button", name="Receive the ticked lines").click()
    assert "Received 3 lines" in page.get_by_role("status").inner_text()

    page.get_by_role("link", name="Reports").click()
    page.get_by_role("link", name="Expiring").click()
    page.get_by_label("Expiring within (days)").fill("60")
    page.get_by_role("button", name="Show").click()
    assert page.get_by_role("link", name="A-SOON").is_visible()
    screenshot(page, "staff-reports")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV (every row)").click()
    saved = download.value
    assert saved.suggested_filename.startswith("expiring-60d-")
    content = Path(saved.path()).read_text(encoding="utf-8")
    assert content.startswith("sku_id,sku_code") and "A-SOON" in content
