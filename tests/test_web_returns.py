"""The return and credit-note pages over HTTP: the customer's "Return items" form and their
returns and credit notes, the staff's returns with the approve and reject forms and their
credit notes; who may open each, what each shows, what each form writes and what it refuses.
Then the whole story in a real browser. The world and its figures: tests/returns_world.py."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.ordering_world import PASSWORD, TODAY, bearer, ledger_rows, stock
from tests.returns_world import approve, broken, requested, shipped_order, taxed
from tests.test_web_quality import _check_pages
from tests.web_support import HTML, screenshot, sign_in, sign_in_by_form


@pytest.fixture
async def shipped(client, world, conn) -> dict:
    """Customer 1's order (A-SOON 5, A-LATER 2, C-1 3), shipped and invoiced."""
    taxed(conn)
    return await shipped_order(client, conn)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'").replace("&amp;", "&")


async def _follow(client, response):
    assert response.status_code == 303, response.text
    return await client.get(response.headers["location"], headers=HTML)


def _returns(conn) -> list[dict]:
    return conn.execute("SELECT r.return_id, r.status, r.request_note, rl.order_item_id, rl.quantity, rl.reason, "
                        "rl.disposition FROM Returns r JOIN Return_Lines rl USING (return_id) "
                        "ORDER BY r.return_id, rl.order_item_id").fetchall()


# --- the customer's form ---------------------------------------------------------------------

async def test_a_shipped_order_offers_the_return_form_with_what_may_still_be_returned(client, conn, shipped):
    items = shipped["by_batch"]
    await requested(client, await bearer(client, "cust_1"), shipped["order_id"], [(items["A-SOON"], 2)])
    await sign_in_by_form(client, "cust_1", PASSWORD)
    order_page = await client.get(f"/orders/{shipped['order_id']}", headers=HTML)
    assert f'href="/orders/{shipped["order_id"]}/return">Return items' in order_page.text
    form = await client.get(f"/orders/{shipped['order_id']}/return", headers=HTML)
    assert form.status_code == 200
    assert f'name="quantity-{items["A-SOON"]}" type="number" min="0" max="3"' in form.text  # 5 delivered, 2 asked
    assert 'max="2"' in form.text and f'name="reason-{items["C-1"]}"' in form.text
    assert "Damaged in transit" in form.text and "up to 3" in _text(form.text)


async def test_the_customer_requests_a_return_through_the_form(client, conn, shipped):
    items = shipped["by_batch"]
    csrf = await sign_in_by_form(client, "cust_1", PASSWORD)
    answer = await client.post(f"/orders/{shipped['order_id']}/return", data={
        "csrf_token": csrf, f"quantity-{items['A-SOON']}": "2", f"reason-{items['A-SOON']}": "Damaged in transit",
        f"quantity-{items['A-LATER']}": "", f"quantity-{items['C-1']}": "0", "note": "Box crushed"})
    page = await _follow(client, answer)
    rows = _returns(conn)
    assert [(r["order_item_id"], r["quantity"], r["reason"], r["request_note"]) for r in rows] == \
        [(items["A-SOON"], 2, "Damaged in transit", "Box crushed")]
    assert answer.headers["location"] == f"/returns/{rows[0]['return_id']}"
    text = _text(page.text)
    assert f"Return #{rows[0]['return_id']} of 2 units is requested" in text
    assert "A-SOON" in text and "Damaged in transit" in text and "Box crushed" in text and "Requested" in text
    listing = _text((await client.get("/returns", headers=HTML)).text)
    assert f"Return #{rows[0]['return_id']}" in listing and "No credit note yet" in listing


@pytest.mark.parametrize(("fields", "message"), [
    ({}, "Enter how many units you are returning on at least one line"),
    ({"quantity-A-SOON": "6", "reason-A-SOON": "Damaged in transit"}, "at most 5 can still be returned"),
    ({"quantity-A-SOON": "2"}, "choose why you are returning it"),
    ({"quantity-A-SOON": "two", "reason-A-SOON": "Damaged in transit"}, "Enter the quantity as a whole number"),
    ({"quantity-A-SOON": "1", "reason-A-SOON": "Because"}, "choose why you are returning it"),
    ({"quantity-A-SOON": "1", "reason-A-SOON": "Damaged in transit", "note": "n" * 2001}, "The note is too long"),
])
async def test_a_refused_return_form_says_why_keeps_the_input_and_writes_nothing(client, conn, shipped, fields,
                                                                                 message):
    items = shipped["by_batch"]
    csrf = await sign_in_by_form(client, "cust_1", PASSWORD)
    data = {"csrf_token": csrf} | {re.sub(r"A-SOON$", str(items["A-SOON"]), key): value
                                   for key, value in fields.items()}
    answer = await client.post(f"/orders/{shipped['order_id']}/return", data=data, headers=HTML)
    assert answer.status_code == 422
    assert message in _text(answer.text)
    if "quantity-A-SOON" in fields:
        assert f'value="{fields["quantity-A-SOON"]}"' in answer.text  # what was typed stays
    assert _returns(conn) == []


async def test_the_form_counts_what_someone_else_asked_for_since_it_was_shown(client, conn, shipped):
    items = shipped["by_batch"]
    csrf = await sign_in_by_form(client, "cust_1", PASSWORD)
    await client.get(f"/orders/{shipped['order_id']}/return", headers=HTML)  # the form, showing 5 to return
    await requested(client, await bearer(client, "cust_1b"), shipped["order_id"], [(items["A-SOON"], 4)])
    answer = await client.post(f"/orders/{shipped['order_id']}/return", headers=HTML, data={
        "csrf_token": csrf, f"quantity-{items['A-SOON']}": "3", f"reason-{items['A-SOON']}": "Wrong item delivered"})
    assert answer.status_code == 422 and "at most 1 can still be returned" in _text(answer.text)
    assert len(_returns(conn)) == 1


async def test_orders_that_cannot_be_returned_say_why(client, conn, shipped):
    pending = (await client.post("/api/orders", json={"sku_id": 2, "quantity": 1},
                                 headers=await bearer(client, "cust_1"))).json()["order_id"]
    await sign_in_by_form(client, "cust_1", PASSWORD)
    order_page = await client.get(f"/orders/{pending}", headers=HTML)
    assert "Return items" not in order_page.text
    page = await _follow(client, await client.get(f"/orders/{pending}/return", headers=HTML))
    assert "only delivered (shipped) orders can be returned" in _text(page.text)
    for path in ("/orders/999/return", "/orders/abc/return", "/returns/999", "/credit-notes/999",
                 "/credit-notes/999/print"):
        assert (await client.get(path, headers=HTML)).status_code == 404, path


async def test_customers_never_see_another_customers_order_return_or_credit_note(client, conn, shipped):
    item = shipped["by_batch"]["A-SOON"]
    ret = await requested(client, await bearer(client, "cust_1"), shipped["order_id"], [(item, 1)])
    note = (await approve(client, await bearer(client, "staffer"), ret["return_id"], {item: "restock"})).json()
    note_id = note["credit_note"]["credit_note_id"]
    csrf = await sign_in_by_form(client, "cust_2", PASSWORD)
    for path in (f"/orders/{shipped['order_id']}/return", f"/returns/{ret['return_id']}",
                 f"/credit-notes/{note_id}", f"/credit-notes/{note_id}/print"):
        page = await client.get(path, headers=HTML)
        assert page.status_code == 404 and "Page not found" in page.text, path
    posted = await client.post(f"/orders/{shipped['order_id']}/return", headers=HTML, data={
        "csrf_token": csrf, f"quantity-{item}": "1", f"reason-{item}": "Wrong item delivered"})
    assert posted.status_code == 404
    assert "No credit note yet" in (await client.get("/returns", headers=HTML)).text


# --- the customer's returns and credit notes -------------------------------------------------

async def test_returns_and_credit_note_pages_after_approval(client, conn, shipped):
    items = shipped["by_batch"]
    ret = await requested(client, await bearer(client, "cust_1"), shipped["order_id"],
                          [(items["A-SOON"], 2), (items["C-1"], 1)])
    approved = (await approve(client, await bearer(client, "staffer"), ret["return_id"],
                              {items["A-SOON"]: "restock", items["C-1"]: "write_off"})).json()
    note_id, number = approved["credit_note"]["credit_note_id"], approved["credit_note"]["credit_note_no"]
    await sign_in_by_form(client, "cust_1", PASSWORD)
    listing = _text((await client.get("/returns", headers=HTML)).text)
    assert number in listing and "Approved" in listing and "21.83" in listing  # 16.00 + 3.20 + 2.50 + 0.13
    detail = _text((await client.get(f"/returns/{ret['return_id']}", headers=HTML)).text)
    assert f"21.83 is credited to invoice {approved['invoice_no']} by credit note {number}" in detail
    assert "Back in stock" in detail and "Written off" in detail
    page = await client.get(f"/credit-notes/{note_id}", headers=HTML)
    text = _text(page.text)
    assert f"Credit note {number}" in text and approved["invoice_no"] in text and "21.83" in text
    assert f'href="/api/my-credit-notes/{note_id}/pdf"' in page.text and f'href="/credit-notes/{note_id}/print"' in page.text
    printed = await client.get(f"/credit-notes/{note_id}/print", headers=HTML)
    assert printed.status_code == 200
    printed_text = _text(printed.text)
    assert "Credited to" in printed_text and "Total credited" in printed_text and "First Pharmacy" in printed_text
    assert f"Credits invoice {approved['invoice_no']}" in printed_text
    assert number in _text((await client.get("/credit-notes", headers=HTML)).text)
    pdf = await client.get(f"/api/my-credit-notes/{note_id}/pdf")  # the session cookie opens the API's PDF
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


# --- staff -------------------------------------------------------------------------------------

async def test_staff_list_puts_requested_returns_first_and_filters(client, conn, shipped):
    items = shipped["by_batch"]
    cust1, staff = await bearer(client, "cust_1"), await bearer(client, "staffer")
    first = await requested(client, cust1, shipped["order_id"], [(items["A-SOON"], 1)])
    second = await requested(client, cust1, shipped["order_id"], [(items["C-1"], 1)])
    await approve(client, staff, second["return_id"], {items["C-1"]: "restock"})
    await sign_in_by_form(client, "staffer", PASSWORD)
    page = await client.get("/staff/returns", headers=HTML)
    assert page.status_code == 200
    assert page.text.index(f'/staff/returns/{first["return_id"]}"') < page.text.index(
        f'/staff/returns/{second["return_id"]}"')  # requested first, though older
    approved_only = await client.get("/staff/returns?status=approved", headers=HTML)
    assert f'/staff/returns/{first["return_id"]}"' not in approved_only.text
    for query, message in (("customer_id=abc", "Customer number must be a whole number"),
                           ("status=lost", "Status must be one of"), ("order_id=-1", "Order number")):
        bad = await client.get(f"/staff/returns?{query}", headers=HTML)
        assert bad.status_code == 422 and message in bad.text, query
    empty = await client.get("/staff/returns?customer_id=2", headers=HTML)
    assert "No returns match these filters" in empty.text
    order_page = await client.get(f"/staff/orders/{shipped['order_id']}", headers=HTML)
    assert f'href="/staff/returns?order_id={shipped["order_id"]}"' in order_page.text


async def test_staff_approve_a_return_through_the_form(client, conn, world, shipped):
    items = shipped["by_batch"]
    ret = await requested(client, await bearer(client, "cust_1"), shipped["order_id"],
                          [(items["A-SOON"], 2), (items["A-LATER"], 1)])
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    page = await client.get(f"/staff/returns/{ret['return_id']}", headers=HTML)
    assert f'name="disposition-{items["A-SOON"]}"' in page.text and "Approve and issue the credit note" in page.text
    half = await client.post(f"/staff/returns/{ret['return_id']}/approve", headers=HTML, data={
        "csrf_token": csrf, f"disposition-{items['A-SOON']}": "restock", "note": "Checked"})
    assert half.status_code == 422
    assert "Choose restock or write off for every line: Amoxicillin 500 mg capsules (batch A-LATER)" in _text(half.text)
    assert 'value="restock" selected' in half.text and "Checked" in half.text  # the choices stay
    assert conn.execute("SELECT count(*) AS n FROM Credit_Notes").fetchone()["n"] == 0

    done = await client.post(f"/staff/returns/{ret['return_id']}/approve", data={
        "csrf_token": csrf, f"disposition-{items['A-SOON']}": "restock",
        f"disposition-{items['A-LATER']}": "write_off", "note": "Checked"})
    page = await _follow(client, done)
    assert f"credit note CN-{TODAY.year}-000001 credits 28.80 to invoice" in _text(page.text)  # 24.00 + 4.80
    assert [r["disposition"] for r in _returns(conn)] == ["restock", "write_off"]
    assert (stock(conn, world["a_soon"]), stock(conn, world["a_later"])) == (2, 18)
    assert [row[2] for row in ledger_rows(conn, shipped["order_id"])[3:]] == ["return", "return", "write_off"]
    assert "Approve and issue" not in page.text and "Back in stock" in page.text
    again = await client.post(f"/staff/returns/{ret['return_id']}/approve", headers=HTML, data={
        "csrf_token": csrf, f"disposition-{items['A-SOON']}": "restock", f"disposition-{items['A-LATER']}": "restock"})
    assert again.status_code == 409 and "is already approved" in again.text
    assert broken(conn) == {}


async def test_staff_reject_a_return_through_the_form(client, conn, shipped):
    item = shipped["by_batch"]["C-1"]
    ret = await requested(client, await bearer(client, "cust_1"), shipped["order_id"], [(item, 3)])
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    blank = await client.post(f"/staff/returns/{ret['return_id']}/reject", headers=HTML,
                              data={"csrf_token": csrf, "reason": "  "})
    assert blank.status_code == 422 and "The reason for the customer is required" in _text(blank.text)
    done = await client.post(f"/staff/returns/{ret['return_id']}/reject",
                             data={"csrf_token": csrf, "reason": "Opened packs are not taken back"})
    page = await _follow(client, done)
    assert "is rejected; its units may be asked for again" in _text(page.text)
    assert [r["status"] for r in _returns(conn)] == ["rejected"]
    assert "Opened packs are not taken back" in page.text


async def test_staff_credit_note_pages(client, conn, shipped):
    item = shipped["by_batch"]["A-SOON"]
    ret = await requested(client, await bearer(client, "cust_1"), shipped["order_id"], [(item, 1)])
    note = (await approve(client, await bearer(client, "staffer"), ret["return_id"], {item: "restock"})).json()
    note_id = note["credit_note"]["credit_note_id"]
    await sign_in_by_form(client, "staffer", PASSWORD)
    listing = await client.get("/staff/credit-notes?customer_id=1", headers=HTML)
    assert note["credit_note"]["credit_note_no"] in listing.text and "First Pharmacy" in listing.text
    assert 'href="/api/admin/credit-notes?customer_id=1&amp;format=csv"' in listing.text
    backwards = await client.get("/staff/credit-notes?date_from=2026-03-02&date_to=2026-03-01", headers=HTML)
    assert backwards.status_code == 422 and "date_from must not be after date_to" in backwards.text
    detail = await client.get(f"/staff/credit-notes/{note_id}", headers=HTML)
    assert detail.status_code == 200 and f'href="/api/admin/credit-notes/{note_id}/pdf"' in detail.text
    assert f'href="/staff/returns/{ret["return_id"]}"' in detail.text
    printed = await client.get(f"/staff/credit-notes/{note_id}/print", headers=HTML)
    assert printed.status_code == 200 and "Total credited" in printed.text
    csv_answer = await client.get("/api/admin/credit-notes?customer_id=1&format=csv")
    assert csv_answer.status_code == 200 and note["credit_note"]["credit_note_no"] in csv_answer.text
    assert (await client.get("/staff/credit-notes/999", headers=HTML)).status_code == 404


# --- who may open what -----------------------------------------------------------------------

CUSTOMER_PAGES = ["/returns", "/returns/{r}", "/credit-notes", "/credit-notes/{n}", "/credit-notes/{n}/print",
                  "/orders/{o}/return"]
STAFF_PAGES = ["/staff/returns", "/staff/returns/{r}", "/staff/credit-notes", "/staff/credit-notes/{n}",
               "/staff/credit-notes/{n}/print"]
STAFF_FORMS = {"/staff/returns/{r}/approve": {}, "/staff/returns/{r}/reject": {"reason": "no"}}


async def _decided(client, shipped) -> dict[str, int]:
    item = shipped["by_batch"]["A-SOON"]
    ret = await requested(client, await bearer(client, "cust_1"), shipped["order_id"], [(item, 1)])
    note = (await approve(client, await bearer(client, "staffer"), ret["return_id"], {item: "restock"})).json()
    open_ret = await requested(client, await bearer(client, "cust_1"), shipped["order_id"], [(item, 1)])
    return {"o": shipped["order_id"], "r": ret["return_id"], "n": note["credit_note"]["credit_note_id"],
            "open": open_ret["return_id"]}


async def test_each_audience_opens_only_its_own_pages(client, conn, shipped):
    ids = await _decided(client, shipped)
    response = await client.get("/returns", headers=HTML)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=%2Freturns"
    csrf = await sign_in_by_form(client, "cust_1", PASSWORD)
    for page in CUSTOMER_PAGES:
        assert (await client.get(page.format(**ids), headers=HTML)).status_code == 200, page
    for page in STAFF_PAGES:
        answer = await client.get(page.format(**ids), headers=HTML)
        assert answer.status_code == 403 and "Not allowed" in answer.text, page
    for form, body in STAFF_FORMS.items():
        answer = await client.post(form.format(r=ids["open"]), headers=HTML, data={"csrf_token": csrf, **body})
        assert answer.status_code == 403, form
    assert conn.execute("SELECT status FROM Returns WHERE return_id = %s", (ids["open"],)).fetchone()["status"] == \
        "requested"

    client.cookies.clear()
    await sign_in_by_form(client, "staffer", PASSWORD)
    for page in STAFF_PAGES:
        assert (await client.get(page.format(**ids), headers=HTML)).status_code == 200, page
    for page in CUSTOMER_PAGES:
        answer = await client.get(page.format(**ids), headers=HTML)
        assert answer.status_code == 403 and "for customers" in answer.text, page
    for form, body in STAFF_FORMS.items():  # without the CSRF token: refused, nothing written
        answer = await client.post(form.format(r=ids["open"]), headers=HTML, data=body)
        assert answer.status_code == 403, form
    assert conn.execute("SELECT status FROM Returns WHERE return_id = %s", (ids["open"],)).fetchone()["status"] == \
        "requested"


# --- in a real browser ---------------------------------------------------------------------------

def test_a_return_from_request_to_credit_note_in_a_browser(world, conn, live_url, page):
    taxed(conn)
    token = httpx.post(f"{live_url}/api/login", json={"username": "cust_1", "password": PASSWORD}).json()["access_token"]
    staff = httpx.post(f"{live_url}/api/login", json={"username": "staffer", "password": PASSWORD}).json()["access_token"]
    order_id = httpx.post(f"{live_url}/api/orders", json={"sku_id": 1, "quantity": 7},
                          headers={"Authorization": f"Bearer {token}"}).json()["order_id"]
    for status in ("processed", "shipped"):
        moved = httpx.post(f"{live_url}/api/admin/orders/{order_id}/status", json={"status": status},
                           headers={"Authorization": f"Bearer {staff}"})
        assert moved.status_code == 200, moved.text

    sign_in(page, live_url, "cust_1", PASSWORD)
    page.goto(f"{live_url}/orders/{order_id}")
    page.get_by_role("link", name="Return items").click()
    page.get_by_role("heading", name=f"Return items of order #{order_id}").wait_for()
    page.get_by_label("Units of Amoxicillin 500 mg capsules, batch A-SOON, to return (at most 5)").fill("2")
    page.get_by_label("Why you are returning Amoxicillin 500 mg capsules, batch A-SOON").select_option(
        "Damaged in transit")
    page.get_by_label("Anything we should know").fill("Two boxes were wet")
    screenshot(page, "customer_return_form")
    page.get_by_role("button", name="Request the return").click()
    page.get_by_text("of 2 units is requested").wait_for()
    return_id = conn.execute("SELECT return_id FROM Returns").fetchone()["return_id"]
    screenshot(page, "customer_return")

    page.context.clear_cookies()
    sign_in(page, live_url, "staffer", PASSWORD)
    page.get_by_role("link", name="Returns", exact=True).click()
    page.get_by_role("link", name=f"Return #{return_id}", exact=True).click()
    page.get_by_label("What to do with 2 units of AMOX-1, batch A-SOON").select_option("write_off")
    screenshot(page, "staff_return_detail")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Approve and issue the credit note").click()
    page.get_by_text(f"credit note CN-{TODAY.year}-000001 credits 19.20").wait_for()  # 16.00 + 20 % tax
    assert stock(conn, world["a_soon"]) == 0  # written off: came back and left again
    page.get_by_role("link", name=f"Credit note CN-{TODAY.year}-000001").click()
    page.get_by_role("heading", name=f"Credit note CN-{TODAY.year}-000001").wait_for()
    screenshot(page, "staff_credit_note")
    ids = {"o": order_id, "r": return_id, "n": 1}
    staff_pages = [path.format(**ids) for path in STAFF_PAGES if "print" not in path]
    assert _check_pages(page, live_url, staff_pages, {}) == []

    page.context.clear_cookies()
    sign_in(page, live_url, "cust_1", PASSWORD)
    customer_pages = [path.format(**ids) for path in CUSTOMER_PAGES if "print" not in path]
    assert _check_pages(page, live_url, customer_pages, {}) == []
