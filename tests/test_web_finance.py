"""The finance pages (aged receivables with the drill-down to a customer's invoices, revenue
net of credit notes, tax collected) and the dashboard's money figures, over HTTP on the real
app and database, then in a real browser (screenshots, accessibility, the CSV download). The
books are tests/money_books.py's, whose figures tests/test_finance_reports.py works out; the
pages must show the same ones."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from tests.money_books import MONTH_FROM, T, aging_books, days, month_books, sales_books
from tests.ordering_world import PASSWORD
from tests.test_web_quality import _check_pages
from tests.web_support import HTML, screenshot, sign_in, sign_in_by_form

PAGES = ["/staff/finance", "/staff/finance/receivables", "/staff/finance/receivables?customer_id=2",
         "/staff/finance/revenue-net", "/staff/finance/tax"]


def _text(html: str) -> str:
    """The page's visible text, roughly (tags out, entities of quotes back)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'").replace("&#34;", '"')


async def _page(client, path: str, status: int = 200) -> str:
    response = await client.get(path, headers=HTML)
    assert response.status_code == status, (path, response.status_code, response.text[:300])
    return response.text


def _csv_link(html: str) -> str:
    return re.search(r'<a class="button" href="([^"]+)" download>Download CSV', html).group(1).replace("&amp;", "&")


@pytest.fixture
def aging(conn, world):
    return aging_books(conn, world)


@pytest.fixture
def sales(conn, world):
    return sales_books(conn, world)


# --- who may open the pages ----------------------------------------------------------------

async def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    for path in PAGES:
        response = await client.get(path, headers=HTML)
        assert response.status_code == 303 and response.headers["location"].startswith("/login?next="), path


async def test_customers_are_refused(client, aging):
    await sign_in_by_form(client, "cust_2", PASSWORD)
    for path in PAGES:
        response = await client.get(path, headers=HTML)
        assert response.status_code == 403 and "Not allowed" in response.text, path
        assert "Second Pharmacy" not in response.text


@pytest.mark.parametrize("username", ["staffer", "boss"])
async def test_staff_and_admins_may_open_every_finance_page(client, aging, username):
    await sign_in_by_form(client, username, PASSWORD)
    for path in PAGES:
        assert "<h1>Finance</h1>" in await _page(client, path)
    assert "Second Pharmacy" in await _page(client, "/staff/finance")


# --- aged receivables ----------------------------------------------------------------------

async def test_aged_receivables_show_each_customer_with_the_totals_row(client, aging):
    await sign_in_by_form(client, "staffer", PASSWORD)
    html = await _page(client, "/staff/finance")
    text = _text(html)
    assert 'aria-current="page">Aged receivables</a>' in html and 'aria-current="page">Finance</a>' in html
    assert "Outstanding: 707.00" in text and "Of which overdue: 387.00" in text
    assert "Unallocated credit: 23.00" in text and "Open invoices: 10" in text
    rows = re.findall(r"<tr>\s*<td class=\"wrap\">.*?</tr>", html, re.S)
    assert [re.search(r'customer_id=(\d+)">([^<]+)</a>', row).groups() for row in rows] == [
        ("1", "First Pharmacy"), ("2", "Second Pharmacy"), ("3", "=Third Clinic")]
    assert "First Pharmacy #1 · 30 days · limit 5,000.00 320.00 62.00 13.00 9.00 3.00 407.00 0.00 9 open" \
        in _text(rows[0])
    assert "Second Pharmacy #2 · 60 days · no limit 0.00 0.00 300.00 0.00 0.00 300.00 15.00 1 open" in _text(rows[1])
    assert "8.00 none open" in _text(rows[2])
    assert 'class="num overdue">300.00</td>' in rows[1]  # owed past its due date stands out
    footer = _text(re.search(r"<tfoot>.*?</tfoot>", html, re.S).group(0))
    assert footer.strip() == "Total, every customer 320.00 62.00 313.00 9.00 3.00 707.00 23.00 10 open"
    assert '<a href="/staff/invoices?customer_id=2">1 open</a>' in html
    csv = await client.get(_csv_link(html))
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[-1].startswith(",Total,,,320.00,62.00,313.00,9.00,3.00,707.00,23.00,10")


async def test_a_customers_row_drills_down_to_their_invoices(client, aging):
    await sign_in_by_form(client, "staffer", PASSWORD)
    summary = await _page(client, "/staff/finance/receivables")
    link = re.search(r'href="(/staff/finance/receivables\?customer_id=2)">Second Pharmacy</a>', summary).group(1)
    html = await _page(client, link)
    text = _text(html)
    assert "Aged receivables: Second Pharmacy" in text and "Payment terms 60 days" in text
    assert "Credit limit none" in text
    assert f'href="/staff/invoices/{aging["J"]}"' in html and f'href="/staff/invoices/{aging["L"]}"' in html
    assert f'href="/staff/invoices/{aging["K"]}"' not in html  # paid: nothing left on it
    assert "40 days overdue 31–60 days" in text and "— over-paid" in text
    assert '<a href="/staff/invoices?customer_id=2">Every invoice of Second Pharmacy</a>' in html
    assert '<a href="/staff/finance/receivables">← Every customer</a>' in html
    footer = _text(re.search(r"<tfoot>.*?</tfoot>", html, re.S).group(0))
    assert footer.strip() == "Total, every invoice listed 630.00 225.00 120.00 285.00"
    assert _csv_link(html) == "/api/admin/reports/receivables?customer_id=2&format=csv"


async def test_receivables_as_of_a_past_day_carry_the_day_through_links(client, aging):
    await sign_in_by_form(client, "staffer", PASSWORD)
    day = days(-15).isoformat()
    html = await _page(client, f"/staff/finance/receivables?as_of={day}")
    assert "Outstanding: 881.00" in _text(html) and f'value="{day}"' in html
    assert f'href="/staff/finance/receivables?customer_id=2&amp;as_of={day}">Second Pharmacy</a>' in html
    assert _csv_link(html) == f"/api/admin/reports/receivables?as_of={day}&format=csv"
    detail = await _page(client, f"/staff/finance/receivables?customer_id=2&as_of={day}")
    assert "due in 5 days current" in _text(detail)  # K, unpaid on that day
    assert f'<a href="/staff/finance/receivables?as_of={day}">← Every customer</a>' in detail
    empty = await _page(client, f"/staff/finance/receivables?as_of={days(-200).isoformat()}")
    assert f"Nothing was owed on {days(-200):%d %b %Y}" in empty


@pytest.mark.parametrize(("query", "status", "message"), [
    ("as_of=yesterday", 422, "As of must be a date"),
    (f"as_of={(T + timedelta(days=1)).isoformat()}", 422, f"as_of must be today ({T}) or earlier"),
    ("customer_id=abc", 422, "Customer must be a customer number"),
    ("customer_id=99", 404, "No customer 99"),
])
async def test_receivables_explain_bad_parameters(client, world, query, status, message):
    await sign_in_by_form(client, "staffer", PASSWORD)
    html = await _page(client, f"/staff/finance/receivables?{query}", status)
    assert message in html and 'role="alert"' in html and "Download CSV" not in html


# --- revenue and tax -----------------------------------------------------------------------

async def test_revenue_net_of_credit_notes_per_month_and_quarter(client, sales):
    await sign_in_by_form(client, "staffer", PASSWORD)
    html = await _page(client, "/staff/finance/revenue-net?date_from=2025-01-01&date_to=2025-04-30")
    text = _text(html)
    assert "Net revenue: 293.38" in text and "Gross: 350.06" in text
    assert "2025-02 01 Feb 2025 – 28 Feb 2025 1 10.05 1 40.00 -29.95 -1.99 -31.94" in text
    assert '<td class="num loss">-29.95</td>' in html  # a month the credit notes outweigh
    footer = _text(re.search(r"<tfoot>.*?</tfoot>", html, re.S).group(0))
    assert footer.strip() == "Total, 01 Jan 2025 – 30 Apr 2025 4 383.38 2 90.00 293.38 56.68 350.06"
    assert '<option value="month" selected>' in html
    assert _csv_link(html) == "/api/admin/reports/revenue-net?date_from=2025-01-01&date_to=2025-04-30&format=csv"
    quarters = _text(await _page(client, "/staff/finance/revenue-net?date_from=2025-01-01&date_to=2025-06-30"
                                         "&period=quarter"))
    assert "2025-Q1 01 Jan 2025 – 31 Mar 2025 4 383.38 1 40.00 343.38 66.68 410.06" in quarters
    by_day = _text(await _page(client, "/staff/finance/revenue-net?date_from=2025-01-31&date_to=2025-01-31"
                                       "&period=day"))
    assert "2025-01-31 31 Jan 2025 1 33.33 0 0.00 33.33 6.67 40.00" in by_day


async def test_tax_per_rate_with_the_totals_per_rate(client, sales):
    await sign_in_by_form(client, "staffer", PASSWORD)
    html = await _page(client, "/staff/finance/tax?date_from=2025-01-01&date_to=2025-04-30")
    text = _text(html)
    assert "Taxable net: 293.38" in text and "Tax: 56.68" in text
    assert "2025-02 01 Feb 2025 – 28 Feb 2025 5.00 % 0.00 0.00 40.00 2.00 -40.00 -2.00" in text
    per_rate = _text(html[html.index('id="per-rate"'):])
    assert "20.00 % 333.38 66.68 50.00 10.00 283.38 56.68" in per_rate
    assert "Every rate 383.38 68.68 90.00 12.00 293.38 56.68" in per_rate
    assert [option for option in re.findall(r'<option value="(\w+)"', html)] == ["month", "quarter"]
    empty = await _page(client, "/staff/finance/tax?date_from=2024-01-01&date_to=2024-12-31")
    assert "No invoice or credit note was issued in this range" in empty


@pytest.mark.parametrize(("path", "message"), [
    ("/staff/finance/revenue-net?date_from=2025-05-02&date_to=2025-05-01", "date_from must not be after date_to"),
    ("/staff/finance/revenue-net?period=day&date_from=2024-01-01&date_to=2025-01-01", "at most 366 days"),
    ("/staff/finance/revenue-net?period=week", "period must be one of day, month, quarter"),
    ("/staff/finance/tax?period=day", "period must be one of month, quarter"),
    ("/staff/finance/tax?date_from=soon", "From must be a date"),
])
async def test_revenue_and_tax_explain_bad_ranges(client, world, path, message):
    await sign_in_by_form(client, "staffer", PASSWORD)
    html = await _page(client, path, 422)
    assert message in html and 'aria-invalid="true"' in html


async def test_an_unknown_finance_report_is_404(client, world):
    await sign_in_by_form(client, "staffer", PASSWORD)
    assert "No finance report called" in await _page(client, "/staff/finance/profit", 404)


# --- the dashboard's money figures ---------------------------------------------------------

async def test_dashboard_shows_the_money_figures_with_links_to_the_reports(client, conn, world):
    month_books(conn, world)
    await sign_in_by_form(client, "staffer", PASSWORD)
    html = await _page(client, "/staff")
    text = _text(html)
    assert "Receivables outstanding 151.00" in text and "Of which overdue 43.00 past their due date" in text
    assert f"Invoiced this month 110.00 net, from {MONTH_FROM:%d %b %Y}" in text
    assert "Credit notes this month 15.00" in text and "Tax this month 20.00" in text
    assert re.search(r'class="figure figure-link figure-warn" href="/staff/finance/receivables">\s*'
                     r'<div class="label">Of which overdue', html)
    assert 'href="/staff/finance/tax"' in html and 'href="/staff/finance/revenue-net"' in html
    assert "Revenue" in text  # the existing figures are still there


async def test_dashboard_money_figures_of_an_empty_shop(client, world):
    await sign_in_by_form(client, "staffer", PASSWORD)
    html = await _page(client, "/staff")
    assert "Receivables outstanding 0.00" in _text(html)
    assert not re.search(r'figure-warn" href="/staff/finance/receivables"', html)


# --- in a browser --------------------------------------------------------------------------

def test_finance_pages_in_a_browser(aging, conn, world, live_url, page):
    sales_books(conn, world)  # last year's invoices too: customer 1 owes them, long overdue
    sign_in(page, live_url, "staffer", PASSWORD)
    page.get_by_role("link", name="Finance").click()
    assert page.get_by_role("heading", name="Aged receivables").is_visible()
    footer = page.locator("tfoot").inner_text()
    # 2025's four invoices (350.06 left after their credit notes) are over 90 days past due
    assert "353.06" in footer and "1,057.06" in footer
    screenshot(page, "staff-finance-receivables")

    page.get_by_role("link", name="Second Pharmacy").click()
    assert page.get_by_role("heading", name="Aged receivables: Second Pharmacy").is_visible()
    assert page.get_by_role("link", name="Every invoice of Second Pharmacy").get_attribute("href") == \
        "/staff/invoices?customer_id=2"
    screenshot(page, "staff-finance-customer")
    page.get_by_label("As of the end of (UTC day)").fill(days(-15).isoformat())
    page.get_by_role("button", name="Show").click()
    assert f"customer_id=2&as_of={days(-15)}" in page.url
    assert page.locator("tbody tr").count() == 4  # J, K, L and N had balances then

    page.get_by_role("link", name="Revenue net of credit notes").click()
    page.get_by_label("From (UTC day)").fill("2025-01-01")
    page.get_by_label("To (included)").fill("2025-06-30")
    page.get_by_label("Per").select_option("quarter")
    page.get_by_role("button", name="Show").click()
    assert page.locator("tbody tr").count() == 2
    assert "2025-Q2" in page.locator("tbody tr").last.inner_text()
    screenshot(page, "staff-finance-revenue")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV (every row and the totals)").click()
    saved = download.value
    assert saved.suggested_filename == "revenue-net-by-quarter-2025-01-01-to-2025-06-30.csv"
    content = Path(saved.path()).read_text(encoding="utf-8").splitlines()
    assert content[0].startswith("period,first_day,last_day") and content[-1].startswith("Total,,,")

    page.get_by_role("link", name="Tax collected").click()
    page.get_by_label("From (UTC day)").fill("2025-01-01")
    page.get_by_label("To (included)").fill("2025-04-30")
    page.get_by_role("button", name="Show").click()
    assert page.locator("table").first.locator("tbody tr").count() == 7
    screenshot(page, "staff-finance-tax")

    paths = [*PAGES, "/staff/finance/tax?date_from=2025-01-01&date_to=2025-04-30",
             "/staff/finance/revenue-net?date_from=2025-01-01&date_to=2025-01-31&period=day"]
    assert _check_pages(page, live_url, paths, {}) == []
