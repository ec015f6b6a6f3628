"""The tax pages over HTTP: who may open and post what (staff look, admins change, as in
/api/admin/tax-classes), what each page shows, what each form writes and what it refuses
(shown on the page, the input kept, nothing written); the SKU form's tax class and the
product page's; their cost in queries; then an admin's flow in a real browser."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta
from decimal import Decimal

import pytest

from tests.conftest import serve
from tests.ordering_world import PASSWORD, TODAY
from tests.test_web_quality import _check_pages
from tests.web_support import HTML, screenshot, sign_in, sign_in_by_form

TOMORROW = TODAY + timedelta(days=1)


def _tax(conn) -> tuple[list[dict], list[dict]]:
    return (conn.execute("SELECT tax_class, name FROM Tax_Classes ORDER BY tax_class").fetchall(),
            conn.execute("SELECT tax_class, valid_from::text, rate FROM Tax_Rates ORDER BY 1, 2").fetchall())


def _snapshot(conn) -> tuple:
    return _tax(conn), conn.execute("SELECT sku_id, tax_class FROM Product_SKUs ORDER BY sku_id").fetchall()


def _standard(conn, rate: str = "20.00", *, scheduled: str | None = None) -> None:
    """A 'standard' class at `rate` since always, with a rate from tomorrow when `scheduled`."""
    conn.execute("INSERT INTO Tax_Classes (tax_class, name) VALUES ('standard', 'Standard rate')")
    conn.execute("INSERT INTO Tax_Rates (tax_class, valid_from, rate) VALUES ('standard', '-infinity', %s)", (rate,))
    if scheduled:
        conn.execute("INSERT INTO Tax_Rates (tax_class, valid_from, rate) VALUES ('standard', %s, %s)",
                     (TOMORROW, scheduled))


def _marked(html: str, field: str) -> bool:
    """The field carries aria-invalid and its own message."""
    return bool(re.search(f'id="{field}"[^>]*aria-invalid="true"', html, re.S)) and f'id="{field}-problem"' in html


def _text(html: str) -> str:
    return html.replace("&#39;", "'").replace("&#34;", '"')


FORMS = {
    "/staff/tax": {"tax_class": "sneaky", "name": "Sneaky", "rate": "1"},
    "/staff/tax/standard/rename": {"name": "Renamed"},
    "/staff/tax/standard/rates": {"rate": "30", "valid_from": str(TOMORROW + timedelta(days=5))},
    f"/staff/tax/standard/rates/{TOMORROW}/cancel": {},
    "/staff/tax/standard/delete": {},
}
PAGES = [("/staff/tax", "/api/admin/tax-classes"), ("/staff/tax/standard", "/api/admin/tax-classes/standard")]


# --- who may open and post what -----------------------------------------------------------

async def test_a_customer_gets_403_on_every_page_and_form(client, world, conn):
    _standard(conn, scheduled="21.00")
    csrf = await sign_in_by_form(client, "cust_1", PASSWORD)
    for page, api in PAGES:
        assert (await client.get(page, headers=HTML)).status_code == 403, page
        assert (await client.get(api)).status_code == 403, api
    before = _snapshot(conn)
    for form, body in FORMS.items():
        assert (await client.post(form, headers=HTML, data={"csrf_token": csrf, **body})).status_code == 403, form
    assert _snapshot(conn) == before


async def test_staff_see_the_pages_without_forms_and_may_not_post(client, world, conn):
    _standard(conn, scheduled="21.00")
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    for page, api in PAGES:
        shown = await client.get(page, headers=HTML)
        assert shown.status_code == (await client.get(api)).status_code == 200, page
        assert shown.text.count("<h1>") == 1
        assert '<form method="post" action="/staff/tax' not in shown.text, page
        assert "/staff/audit?" not in shown.text  # the log is the admins'
    assert 'href="/staff/tax"' not in (await client.get("/staff", headers=HTML)).text  # the link is the admins'
    before = _snapshot(conn)
    for form, body in FORMS.items():
        response = await client.post(form, headers=HTML, data={"csrf_token": csrf, **body})
        assert response.status_code == 403 and "Only admins" in response.text, form
    assert _snapshot(conn) == before


async def test_admins_see_the_link_and_every_form(client, world, conn):
    _standard(conn, scheduled="21.00")
    await sign_in_by_form(client, "boss", PASSWORD)
    listed = await client.get("/staff/tax", headers=HTML)
    assert '<a href="/staff/tax" aria-current="page">Tax</a>' in listed.text
    assert '<form method="post" action="/staff/tax" data-once>' in listed.text
    detail = (await client.get("/staff/tax/standard", headers=HTML)).text
    classes = conn.execute("SELECT tax_class_id FROM Tax_Classes WHERE tax_class = 'standard'").fetchone()
    assert f'href="/staff/audit?entity_type=tax_class&amp;entity_id={classes["tax_class_id"]}"' in detail
    for action in ("/staff/tax/standard/rates", "/staff/tax/standard/rename", "/staff/tax/standard/delete",
                   f"/staff/tax/standard/rates/{TOMORROW}/cancel"):
        assert f'action="{action}"' in detail, action


async def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    response = await client.get("/staff/tax/zero", headers=HTML)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=%2Fstaff%2Ftax%2Fzero"


async def test_every_form_without_the_csrf_token_is_refused_and_writes_nothing(client, world, conn):
    _standard(conn, scheduled="21.00")
    await sign_in_by_form(client, "boss", PASSWORD)
    before = _snapshot(conn)
    for form, body in FORMS.items():
        response = await client.post(form, headers=HTML, data=body)
        assert response.status_code == 403 and "did not come from Stockline" in response.text, form
    assert _snapshot(conn) == before


# --- the list ------------------------------------------------------------------------------

async def test_the_list_shows_each_class_with_its_rate_today_next_change_and_skus(client, world, conn):
    _standard(conn, scheduled="21.50")
    conn.execute("UPDATE Product_SKUs SET tax_class = 'standard' WHERE sku_id IN (1, 2)")
    await sign_in_by_form(client, "staffer", PASSWORD)
    page = (await client.get("/staff/tax", headers=HTML)).text
    rows = re.findall(r'<th scope="row"><a href="/staff/tax/([a-z]+)">([^<]+)</a></th>(.*?)</tr>', page, re.S)
    assert [(code, name) for code, name, _ in rows] == [("standard", "Standard rate"), ("zero", "Zero rate")]
    standard, zero = (re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cells)).strip() for _, _, cells in rows)
    assert standard == f"standard 20.00 % 21.50 % from {TOMORROW:%d %b %Y} 2"
    assert zero == "zero 0.00 % none scheduled 2"


# --- adding a class ------------------------------------------------------------------------

async def test_adding_a_class(client, world, conn):
    csrf = await sign_in_by_form(client, "boss", PASSWORD)
    response = await client.post("/staff/tax", data={"csrf_token": csrf, "tax_class": "reduced",
                                                     "name": " Reduced rate ", "rate": "5"})
    assert response.status_code == 303 and response.headers["location"] == "/staff/tax/reduced"
    assert _tax(conn) == ([{"tax_class": "reduced", "name": "Reduced rate"}, {"tax_class": "zero", "name": "Zero rate"}],
                          [{"tax_class": "reduced", "valid_from": "-infinity", "rate": Decimal("5.00")},
                           {"tax_class": "zero", "valid_from": "-infinity", "rate": Decimal("0.00")}])
    shown = await client.get("/staff/tax/reduced", headers=HTML)
    assert "Tax class Reduced rate (reduced) added at 5.00 %." in shown.text
    entry = conn.execute("SELECT actor_username, action FROM Audit_Log").fetchone()
    assert entry == {"actor_username": "boss", "action": "tax_class.create"}


@pytest.mark.parametrize(("fields", "status", "message", "marked"), [
    ({"tax_class": "Reduced"}, 422,
     "Code must start with a lower-case letter and hold only a-z, 0-9, _ and -", "tax_class"),
    ({"tax_class": ""}, 422, "Code is required", "tax_class"),
    ({"name": ""}, 422, "Name is required", "name"),
    ({"rate": "101"}, 422, "Rate (%) must be at most 100", "rate"),
    ({"rate": "-1"}, 422, "Rate (%) must be at least 0", "rate"),
    ({"rate": "4.125"}, 422, "Rate (%) may have at most 2 decimal places", "rate"),
    ({"rate": "five"}, 422, "Rate (%) must be an amount like 12.50", "rate"),
    ({"tax_class": "zero"}, 409, "There is already a tax class 'zero'; choose another code", "tax_class"),
])
async def test_a_refused_class_shows_why_keeps_the_input_and_writes_nothing(client, world, conn, fields, status,
                                                                           message, marked):
    csrf = await sign_in_by_form(client, "boss", PASSWORD)
    body = {"tax_class": "reduced", "name": "Kept name", "rate": "5"} | fields
    before = _snapshot(conn)
    response = await client.post("/staff/tax", headers=HTML, data={"csrf_token": csrf, **body})
    assert response.status_code == status
    assert message in _text(response.text) and _marked(response.text, marked)
    for value in body.values():
        if value:
            assert f'value="{value}"' in response.text, value
    assert "Zero rate" in response.text  # the list is still there
    assert _snapshot(conn) == before


# --- one class -----------------------------------------------------------------------------

async def test_the_class_page_shows_every_rate_with_its_state(client, world, conn):
    _standard(conn, scheduled="21.00")
    conn.execute("INSERT INTO Tax_Rates (tax_class, valid_from, rate) VALUES ('standard', %s, 19)",
                 (TODAY - timedelta(days=3),))
    conn.execute("UPDATE Product_SKUs SET tax_class = 'standard' WHERE sku_id = 1")
    await sign_in_by_form(client, "boss", PASSWORD)
    page = (await client.get("/staff/tax/standard", headers=HTML)).text
    rows = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
            for row in re.findall(r"<tr(?: class=\"inactive\")?>\s*<td>(.*?)</tr>", page, re.S)]
    assert [row.split(" Cancel")[0] for row in rows] == [
        "always 20.00 % superseded", f"{TODAY - timedelta(days=3):%d %b %Y} 19.00 % in force",
        f"{TOMORROW:%d %b %Y} 21.00 % scheduled"]
    assert page.count('aria-label="Cancel the rate from') == 1  # only the scheduled one
    assert "1 SKU is in it: move them to another class" in page
    assert 'action="/staff/tax/standard/delete"' not in page
    assert f'min="{TOMORROW}"' in page
    missing = await client.get("/staff/tax/missing", headers=HTML)
    assert missing.status_code == 404 and "No tax class 'missing'" in _text(missing.text)
    assert (await client.get("/staff/tax/Bad!", headers=HTML)).status_code == 422


async def test_scheduling_a_rate(client, world, conn):
    _standard(conn)
    csrf = await sign_in_by_form(client, "boss", PASSWORD)
    day = TODAY + timedelta(days=30)
    response = await client.post("/staff/tax/standard/rates", data={"csrf_token": csrf, "rate": "22.5",
                                                                     "valid_from": str(day)})
    assert response.status_code == 303 and response.headers["location"] == "/staff/tax/standard"
    assert _tax(conn)[1][1] == {"tax_class": "standard", "valid_from": str(day), "rate": Decimal("22.50")}
    shown = await client.get("/staff/tax/standard", headers=HTML)
    assert (f"From {day:%d %b %Y}, Standard rate is 22.50 %; orders placed before then keep today&#39;s rate."
            in shown.text)
    listed = await client.get("/staff/tax", headers=HTML)
    assert f"22.50 % from {day:%d %b %Y}" in listed.text


@pytest.mark.parametrize(("fields", "status", "message"), [
    ({"valid_from": str(TODAY)}, 422, f"A new rate must start after today ({TODAY}, UTC)"),
    ({"valid_from": str(TODAY - timedelta(days=9))}, 422, "would change the tax of orders already placed"),
    ({"valid_from": str(TOMORROW)}, 409, f"already has a rate of 21.00 % from {TOMORROW}; cancel it first"),
    ({"valid_from": ""}, 422, "From (day) is required"),
    ({"valid_from": "soon"}, 422, "From (day) must be a date (YYYY-MM-DD)"),
])
async def test_a_refused_rate_shows_why_keeps_the_input_and_writes_nothing(client, world, conn, fields, status,
                                                                          message):
    _standard(conn, scheduled="21.00")
    csrf = await sign_in_by_form(client, "boss", PASSWORD)
    body = {"rate": "23.75"} | fields
    before = _snapshot(conn)
    response = await client.post("/staff/tax/standard/rates", headers=HTML, data={"csrf_token": csrf, **body})
    assert response.status_code == status
    assert message in _text(response.text) and _marked(response.text, "valid_from")
    assert 'value="23.75"' in response.text
    assert 'id="name" name="name" type="text" value="Standard rate"' in response.text  # the rename form as it was
    assert _snapshot(conn) == before


async def test_a_bad_rate_value_is_marked_on_the_rate(client, world, conn):
    _standard(conn)
    csrf = await sign_in_by_form(client, "boss", PASSWORD)
    response = await client.post("/staff/tax/standard/rates", headers=HTML,
                                 data={"csrf_token": csrf, "rate": "100.5", "valid_from": str(TOMORROW)})
    assert response.status_code == 422 and "New rate (%) must be at most 100" in response.text
    assert _marked(response.text, "rate") and f'value="{TOMORROW}"' in response.text
    assert len(_tax(conn)[1]) == 2


async def test_cancelling_a_scheduled_rate_and_not_one_in_force(client, world, conn):
    _standard(conn, scheduled="21.00")
    conn.execute("INSERT INTO Tax_Rates (tax_class, valid_from, rate) VALUES ('standard', %s, 19)", (TODAY,))
    csrf = await sign_in_by_form(client, "boss", PASSWORD)
    refused = await client.post(f"/staff/tax/standard/rates/{TODAY}/cancel", headers=HTML, data={"csrf_token": csrf})
    assert refused.status_code == 409
    assert "is in force already" in refused.text and "schedule a new rate instead" in refused.text
    missing = await client.post(f"/staff/tax/standard/rates/{TOMORROW + timedelta(days=1)}/cancel", headers=HTML,
                                data={"csrf_token": csrf})
    assert missing.status_code == 404
    assert len(_tax(conn)[1]) == 4
    response = await client.post(f"/staff/tax/standard/rates/{TOMORROW}/cancel", data={"csrf_token": csrf})
    assert response.status_code == 303 and response.headers["location"] == "/staff/tax/standard"
    assert [r["valid_from"] for r in _tax(conn)[1] if r["tax_class"] == "standard"] == ["-infinity", str(TODAY)]
    shown = await client.get("/staff/tax/standard", headers=HTML)
    assert f"The rate from {TOMORROW:%d %b %Y} is cancelled." in shown.text


async def test_renaming_a_class(client, world, conn):
    _standard(conn)
    csrf = await sign_in_by_form(client, "boss", PASSWORD)
    blank = await client.post("/staff/tax/standard/rename", headers=HTML, data={"csrf_token": csrf, "name": " "})
    assert blank.status_code == 422 and "Name is required" in blank.text and _marked(blank.text, "name")
    assert _tax(conn)[0][0]["name"] == "Standard rate"
    response = await client.post("/staff/tax/standard/rename", data={"csrf_token": csrf, "name": "Standard VAT"})
    assert response.status_code == 303
    assert _tax(conn)[0][0]["name"] == "Standard VAT"
    shown = await client.get("/staff/tax/standard", headers=HTML)
    assert "Tax class standard is now named Standard VAT." in shown.text


async def test_deleting_a_class_only_when_no_sku_is_in_it_and_never_zero(client, world, conn):
    _standard(conn)
    conn.execute("UPDATE Product_SKUs SET tax_class = 'standard' WHERE sku_id IN (1, 2)")
    csrf = await sign_in_by_form(client, "boss", PASSWORD)
    refused = await client.post("/staff/tax/standard/delete", headers=HTML, data={"csrf_token": csrf})
    assert refused.status_code == 409
    assert "2 SKUs are in tax class 'standard'; move them to another class first" in _text(refused.text)
    zero = await client.post("/staff/tax/zero/delete", headers=HTML, data={"csrf_token": csrf})
    assert zero.status_code == 409 and "every SKU&#39;s default and cannot be deleted" in zero.text
    assert "it cannot be deleted" in (await client.get("/staff/tax/zero", headers=HTML)).text
    conn.execute("UPDATE Product_SKUs SET tax_class = 'zero'")
    assert 'action="/staff/tax/standard/delete"' in (await client.get("/staff/tax/standard", headers=HTML)).text
    response = await client.post("/staff/tax/standard/delete", data={"csrf_token": csrf})
    assert response.status_code == 303 and response.headers["location"] == "/staff/tax"
    assert _tax(conn)[0] == [{"tax_class": "zero", "name": "Zero rate"}]
    assert "Tax class standard deleted." in (await client.get("/staff/tax", headers=HTML)).text
    gone = await client.post("/staff/tax/standard/delete", headers=HTML, data={"csrf_token": csrf})
    assert gone.status_code == 404


# --- SKUs: the form's tax class and the product page --------------------------------------

SKU_BODY = {"sku_code": "CET-10", "package_size": "30", "unit_type": "tablet", "base_price": "4.50",
            "reorder_level": "12"}


async def test_the_sku_form_puts_a_sku_in_a_class(client, world, conn):
    _standard(conn)
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    form = (await client.get("/staff/products/2/skus/new", headers=HTML)).text
    options = re.findall(r'<option value="([a-z]+)"( selected)?>([^<]+)</option>', form)
    assert options == [("standard", "", "Standard rate (20.00 % today)"), ("zero", " selected", "Zero rate (0.00 % today)")]
    added = await client.post("/staff/products/2/skus", data={"csrf_token": csrf, **SKU_BODY, "tax_class": "standard"})
    assert added.status_code == 303
    assert conn.execute("SELECT tax_class FROM Product_SKUs WHERE sku_code = 'CET-10'").fetchone() == {
        "tax_class": "standard"}
    plain = await client.post("/staff/products/2/skus", data={"csrf_token": csrf, **SKU_BODY, "sku_code": "CET-20"})
    assert plain.status_code == 303  # no class sent: the default
    assert conn.execute("SELECT tax_class FROM Product_SKUs WHERE sku_code = 'CET-20'").fetchone() == {
        "tax_class": "zero"}
    edit = (await client.get("/staff/skus/3/edit", headers=HTML)).text
    assert '<option value="zero" selected>' in edit
    moved = await client.post("/staff/skus/3", data={"csrf_token": csrf, "sku_code": "PARA-3", "package_size": "10",
                                                     "unit_type": "tablet", "base_price": "2.50",
                                                     "reorder_level": "10", "is_active": "yes",
                                                     "tax_class": "standard"})
    assert moved.status_code == 303
    assert conn.execute("SELECT tax_class FROM Product_SKUs WHERE sku_id = 3").fetchone() == {"tax_class": "standard"}
    product = (await client.get("/staff/products/2", headers=HTML)).text
    row_3 = re.search(r"PARA-3 <span.*?</tr>", product, re.S).group(0)
    assert '<a href="/staff/tax/standard">Standard rate</a> <span class="muted small">20.00 %</span>' in row_3
    row_4 = re.search(r"PARA-4 <span.*?</tr>", product, re.S).group(0)
    assert '<a href="/staff/tax/zero">Zero rate</a> <span class="muted small">0.00 %</span>' in row_4


@pytest.mark.parametrize(("tax_class", "message"), [
    ("missing", "There is no tax class 'missing'"), ("Standard", "Tax class must be one of the choices offered"),
])
async def test_a_sku_in_an_unknown_class_is_refused_on_the_field(client, world, conn, tax_class, message):
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    before = _snapshot(conn)
    added = await client.post("/staff/products/2/skus", headers=HTML,
                              data={"csrf_token": csrf, **SKU_BODY, "tax_class": tax_class})
    edited = await client.post("/staff/skus/3", headers=HTML,
                               data={"csrf_token": csrf, **SKU_BODY, "is_active": "yes", "tax_class": tax_class})
    for response in (added, edited):
        assert response.status_code == 422
        assert message in _text(response.text) and _marked(response.text, "tax_class")
    assert _snapshot(conn) == before


# --- cost: the number of queries of a page does not grow with its rows ----------------------

def _queries(response) -> int:
    assert response.status_code == 200, response.text
    return int(re.search(r'desc="(\d+) queries"', response.headers["server-timing"]).group(1))


async def test_the_pages_run_a_fixed_number_of_queries(world, settings, conn):
    _standard(conn, scheduled="21.00")
    pages = ["/staff/tax", "/staff/tax/standard"]
    async with serve(dataclasses.replace(settings, log_timing=True)) as client:
        await sign_in_by_form(client, "boss", PASSWORD)
        few = {page: _queries(await client.get(page, headers=HTML)) for page in pages}
        conn.execute("INSERT INTO Tax_Classes (tax_class, name) SELECT 'c' || n, 'Class ' || n "
                     "FROM generate_series(1, 20) n")
        conn.execute("INSERT INTO Tax_Rates (tax_class, valid_from, rate) SELECT 'c' || n, '-infinity', n "
                     "FROM generate_series(1, 20) n")
        conn.execute("INSERT INTO Tax_Rates (tax_class, valid_from, rate) SELECT 'standard', %s::date + n, n "
                     "FROM generate_series(2, 30) n", (TODAY,))
        conn.execute("UPDATE Product_SKUs SET tax_class = 'standard'")
        many = {page: _queries(await client.get(page, headers=HTML)) for page in pages}
        assert (await client.get("/staff/tax", headers=HTML)).text.count('<th scope="row"><a href="/staff/tax/') == 22
    assert many == few
    assert max(few.values()) <= 2


# --- in a real browser ----------------------------------------------------------------------

def test_an_admin_adds_a_class_schedules_a_rate_and_puts_a_sku_in_it(world, conn, live_url, page):
    sign_in(page, live_url, "boss", PASSWORD)
    page.get_by_role("link", name="Tax", exact=True).click()
    page.get_by_label("Code").fill("standard")
    page.get_by_label("Name").fill("Standard rate")
    page.get_by_label("Rate (%)").fill("20")
    page.get_by_role("button", name="Add tax class").click()
    page.get_by_text("Tax class Standard rate (standard) added at 20.00 %.").wait_for()
    page.get_by_label("New rate (%)").fill("21.5")
    page.get_by_label("From (day)").fill(str(TODAY))  # today: refused, the rate already applies
    page.get_by_label("From (day)").evaluate("input => input.removeAttribute('min')")  # past the browser's check
    page.get_by_role("button", name="Schedule rate").click()
    page.get_by_text(f"A new rate must start after today ({TODAY}, UTC)").first.wait_for()
    assert page.get_by_label("New rate (%)").input_value() == "21.5"
    page.get_by_label("From (day)").fill(str(TOMORROW + timedelta(days=9)))
    page.get_by_role("button", name="Schedule rate").click()
    page.get_by_text(f"From {TOMORROW + timedelta(days=9):%d %b %Y}, Standard rate is 21.50 %").wait_for()
    assert conn.execute("SELECT rate FROM Tax_Rates WHERE tax_class = 'standard' ORDER BY valid_from DESC LIMIT 1"
                        ).fetchone() == {"rate": Decimal("21.50")}
    screenshot(page, "staff_tax_class")

    page.goto(f"{live_url}/staff/skus/2/edit")
    page.get_by_label("Tax class").select_option("standard")
    page.get_by_role("button", name="Save SKU").click()
    page.get_by_text("SKU AMOX-2 saved.").wait_for()
    assert page.get_by_role("row").filter(has_text="AMOX-2").get_by_role("link", name="Standard rate").is_visible()
    assert conn.execute("SELECT tax_class FROM Product_SKUs WHERE sku_id = 2").fetchone() == {"tax_class": "standard"}
    page.goto(f"{live_url}/staff/tax")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="Standard rate"))
    assert row.get_by_role("cell", name="1", exact=True).is_visible()  # one SKU
    screenshot(page, "staff_tax")
    page.set_viewport_size({"width": 800, "height": 900})  # a tablet: no sideways scrolling
    for path in ("/staff/tax", "/staff/tax/standard"):
        page.goto(f"{live_url}{path}")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path


def test_the_tax_pages_are_accessible_and_fit(world, conn, live_url, page):
    """The checks of tests/test_web_quality.py: one h1, every control labelled, AA contrast, no
    sideways scrolling at laptop and tablet widths, no console error."""
    _standard(conn, scheduled="21.00")
    sign_in(page, live_url, "boss", PASSWORD)
    assert _check_pages(page, live_url, ["/staff/tax", "/staff/tax/standard", "/staff/tax/zero",
                                         "/staff/skus/1/edit"], {}) == []
