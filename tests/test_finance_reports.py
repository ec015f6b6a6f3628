"""The money reports (aged receivables, revenue net of credit notes, tax per rate) and the
dashboard's money figures, through the real ASGI app, on hand-made books (tests/money_books.py:
orders, invoices, payments, returns and credit notes written with SQL, so these tests depend
on nothing but the schema). Every expected figure is worked out by hand in the test that
asserts it."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest

from stockline.cache import TtlCache
from stockline.invariants import check_invariants
from stockline.reporting import export
from tests.conftest import serve
from tests.money_books import MONTH_FROM, Books, T, aging_books, days, month_books, sales_books
from tests.ordering_world import bearer


@pytest.fixture
def aging(conn, world):
    return aging_books(conn, world)


@pytest.fixture
def sales(conn, world):
    return sales_books(conn, world)


@pytest.fixture
def month(conn, world):
    return month_books(conn, world)


@pytest.fixture
async def staff(client, world):
    return await bearer(client, "staffer")


async def get_json(client, headers, path: str, **params) -> dict:
    response = await client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def get_csv(client, headers, path: str, **params) -> tuple[list[dict[str, str]], str]:
    response = await client.get(path, params={"format": "csv", **params}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = response.headers["content-disposition"]
    assert re.fullmatch(r'attachment; filename="[a-z0-9-]+\.csv"', disposition), disposition
    assert "\r\n" in response.text  # RFC 4180 line ends
    return list(csv.DictReader(io.StringIO(response.text, newline=""))), disposition


def pick(items: list[dict], *keys: str) -> list[tuple]:
    return [tuple(item[key] for key in keys) for item in items]


RECEIVABLES = "/api/admin/reports/receivables"
REVENUE = "/api/admin/reports/revenue-net"
TAX = "/api/admin/reports/tax"
BUCKET_KEYS = ("current", "days_1_30", "days_31_60", "days_61_90", "days_over_90", "outstanding",
               "unallocated_credit", "open_invoices")
TOTAL_KEYS = tuple("total_" + key for key in BUCKET_KEYS)


def test_the_hand_made_books_are_coherent(aging, sales, conn):
    """What the builders write passes every data invariant `stockline check` verifies (the
    ledger, order totals and tax, invoices against lines and orders, payments, numbering)."""
    broken = {result.name: result.offenders for result in check_invariants(conn) if not result.holds}
    assert broken == {}


# --- aged receivables ----------------------------------------------------------------------

async def test_receivables_age_each_balance_by_days_past_due_with_boundaries(client, staff, aging):
    page = await get_json(client, staff, RECEIVABLES)
    assert (page["as_of"], page["level"]) == (T.isoformat(), "customers")
    # customer 1: current A 120.00 + I 200.00; 1-30 B 50.00 + C 12.00; 31-60 D 7.00 + E 6.00;
    # 61-90 F 5.00 + G 4.00; over 90 H 3.00. Customer 2: J 300.00 (40 days), L over-paid by
    # 15.00; K and N settled. Customer 3: only M over-paid by 8.00. Largest outstanding first.
    assert pick(page["items"], "customer_id", *BUCKET_KEYS) == [
        (1, "320.00", "62.00", "13.00", "9.00", "3.00", "407.00", "0.00", 9),
        (2, "0.00", "0.00", "300.00", "0.00", "0.00", "300.00", "15.00", 1),
        (3, "0.00", "0.00", "0.00", "0.00", "0.00", "0.00", "8.00", 0)]
    assert pick(page["items"], "customer_name", "credit_limit", "payment_terms_days") == [
        ("First Pharmacy", "5000.00", 30), ("Second Pharmacy", None, 60), ("=Third Clinic", "1000.00", 30)]
    assert pick([page], *TOTAL_KEYS) == [("320.00", "62.00", "313.00", "9.00", "3.00", "707.00", "23.00", 10)]
    assert (page["total_items"], page["total_pages"], page["current_page"]) == (3, 1, 1)


async def test_receivables_as_of_a_past_day_leave_out_what_came_after_it(client, staff, aging):
    page = await get_json(client, staff, RECEIVABLES, as_of=days(-15).isoformat())
    # as of T-15: I's payment (T-5), K's (T-12), L's (T-3) and N's credit note (T-5) had not
    # happened, M (issued T-10) did not exist; J's credit note (T-35) and payment (T-20) had.
    # Customer 1, days past due counted from T-15: A -15 and B -14 current (120.00 + 50.00),
    # I -25 current and unpaid (240.00); C 15, D 16: 1-30 (12.00 + 7.00); E 45, F 46: 31-60
    # (6.00 + 5.00); G 75, H 76: 61-90 (4.00 + 3.00). Customer 2: J 25 days: 1-30 (300.00);
    # K -5, L -25, N -35 current (80.00 + 30.00 + 24.00).
    assert pick(page["items"], "customer_id", *BUCKET_KEYS) == [
        (1, "410.00", "19.00", "11.00", "7.00", "0.00", "447.00", "0.00", 9),
        (2, "134.00", "300.00", "0.00", "0.00", "0.00", "434.00", "0.00", 4)]
    assert pick([page], *TOTAL_KEYS) == [("544.00", "319.00", "11.00", "7.00", "0.00", "881.00", "0.00", 13)]
    assert page["as_of"] == days(-15).isoformat()


async def test_a_past_report_reads_the_same_after_later_payments_and_credit_notes(client, staff, aging, conn):
    before = await get_json(client, staff, RECEIVABLES, as_of=days(-1).isoformat())
    books = Books(conn, "FIN-2")
    books.pay(aging["A"], "120.00", T)  # A settled today
    books.credit(aging["J"], T, 1, 1)  # another unit of J returned today
    books.invoice(1, T, days(30), ("999.00", 1, "0"))  # and a new invoice today
    assert await get_json(client, staff, RECEIVABLES, as_of=days(-1).isoformat()) == before
    today = await get_json(client, staff, RECEIVABLES)
    first = today["items"][0]
    # customer 1 today: A gone from current (120.00), the new invoice added (999.00)
    assert (first["customer_id"], first["current"], first["outstanding"]) == (1, "1199.00", "1286.00")
    # customer 2: J less one more credited unit (120.00): 180.00
    assert pick(today["items"][1:2], "customer_id", "days_31_60") == [(2, "180.00")]


async def test_one_customers_invoices_with_their_ages(client, staff, aging):
    detail = await get_json(client, staff, RECEIVABLES, customer_id=2)
    assert (detail["level"], detail["customer_id"], detail["customer_name"], detail["credit_limit"],
            detail["payment_terms_days"]) == ("invoices", 2, "Second Pharmacy", None, 60)
    assert pick(detail["items"], "invoice_id", "due_on", "gross_amount", "amount_paid", "amount_credited", "balance",
                "days_past_due", "bucket") == [
        (aging["J"], days(-40).isoformat(), "600.00", "180.00", "120.00", "300.00", 40, "days_31_60"),
        (aging["L"], days(10).isoformat(), "30.00", "45.00", "0.00", "-15.00", None, "credit")]
    assert detail["items"][0]["invoice_no"].startswith("INV-") and detail["items"][0]["issued_on"] == \
        days(-100).isoformat()
    assert pick([detail], "total_days_31_60", "total_outstanding", "total_unallocated_credit",
                "total_open_invoices") == [("300.00", "300.00", "15.00", 1)]
    assert pick([detail], "total_gross_amount", "total_amount_paid", "total_amount_credited", "total_balance") == \
        [("630.00", "225.00", "120.00", "285.00")]

    past = await get_json(client, staff, RECEIVABLES, customer_id=2, as_of=days(-15).isoformat())
    # as of T-15 K was unpaid and N not yet credited; L's payment had not come
    assert pick(past["items"], "invoice_id", "amount_paid", "amount_credited", "balance", "days_past_due",
                "bucket") == [
        (aging["J"], "180.00", "120.00", "300.00", 25, "days_1_30"),
        (aging["K"], "0.00", "0.00", "80.00", -5, "current"),
        (aging["L"], "0.00", "0.00", "30.00", -25, "current"),
        (aging["N"], "0.00", "0.00", "24.00", -35, "current")]
    nothing = await get_json(client, staff, RECEIVABLES, customer_id=3, as_of=days(-15).isoformat())
    assert (nothing["items"], nothing["total_outstanding"], nothing["customer_name"]) == ([], "0.00", "=Third Clinic")


@pytest.mark.parametrize("as_of", [0, -1, -15, -36, -200])
async def test_each_customers_invoices_add_up_to_their_row(client, staff, aging, as_of):
    """`receivables` and `receivable_invoices` write the balance and bucket rules each; they
    must agree, customer by customer, on any day."""
    day = days(as_of).isoformat()
    summary = await get_json(client, staff, RECEIVABLES, as_of=day)
    for row in summary["items"]:
        detail = await get_json(client, staff, RECEIVABLES, as_of=day, customer_id=row["customer_id"], limit=200)
        assert pick([detail], *TOTAL_KEYS) == [tuple(row[key] for key in BUCKET_KEYS)], row["customer_id"]
        owed = [Decimal(i["balance"]) for i in detail["items"] if i["bucket"] != "credit"]
        assert sum(owed, Decimal("0.00")) == Decimal(row["outstanding"])
    customers_listed = {row["customer_id"] for row in summary["items"]}
    for customer_id in {1, 2, 3} - customers_listed:
        detail = await get_json(client, staff, RECEIVABLES, as_of=day, customer_id=customer_id)
        assert detail["items"] == []


async def test_receivables_page_through_customers_with_totals_over_all(client, staff, aging):
    second = await get_json(client, staff, RECEIVABLES, limit=1, page=2)
    past = await get_json(client, staff, RECEIVABLES, limit=1, page=5)
    assert pick(second["items"], "customer_id") == [(2,)] and past["items"] == []
    assert (second["total_items"], second["total_pages"], past["total_outstanding"]) == (3, 3, "707.00")
    detail = await get_json(client, staff, RECEIVABLES, customer_id=1, limit=4, page=3)
    # customer 1's nine invoices, earliest due first: H G F E | D C B A | I
    assert pick(detail["items"], "invoice_id") == [(aging["I"],)]
    assert (detail["total_items"], detail["total_outstanding"]) == (9, "407.00")


async def test_receivables_csv_is_every_row_then_the_totals(client, staff, aging):
    rows, disposition = await get_csv(client, staff, RECEIVABLES, limit=1)
    assert f"receivables-{T}" in disposition
    assert list(rows[0]) == ["customer_id", "customer_name", "credit_limit", "payment_terms_days", *BUCKET_KEYS]
    assert [(r["customer_id"], r["customer_name"], r["credit_limit"], r["outstanding"], r["unallocated_credit"])
            for r in rows] == [("1", "First Pharmacy", "5000.00", "407.00", "0.00"),
                               ("2", "Second Pharmacy", "", "300.00", "15.00"),
                               ("3", "'=Third Clinic", "1000.00", "0.00", "8.00"),  # not a formula
                               ("", "Total", "", "707.00", "23.00")]
    assert [rows[-1][key] for key in BUCKET_KEYS] == ["320.00", "62.00", "313.00", "9.00", "3.00", "707.00",
                                                       "23.00", "10"]
    detail, disposition = await get_csv(client, staff, RECEIVABLES, customer_id=2, as_of=days(-15).isoformat())
    assert f"receivables-customer-2-{days(-15)}" in disposition
    assert [(r["invoice_id"], r["gross_amount"], r["amount_paid"], r["balance"], r["days_past_due"], r["bucket"])
            for r in detail] == [
        (str(aging["J"]), "600.00", "180.00", "300.00", "25", "days_1_30"),
        (str(aging["K"]), "80.00", "0.00", "80.00", "-5", "current"),
        (str(aging["L"]), "30.00", "0.00", "30.00", "-25", "current"),
        (str(aging["N"]), "24.00", "0.00", "24.00", "-35", "current"),
        ("", "734.00", "180.00", "434.00", "", "")]
    assert (detail[-1]["invoice_no"], detail[-1]["amount_credited"], detail[-1]["due_on"]) == ("Total", "120.00", "")


async def test_no_receivables_is_an_empty_report_with_zero_totals(client, world, staff):
    page = await get_json(client, staff, RECEIVABLES)
    assert (page["items"], page["total_items"], page["total_outstanding"], page["total_open_invoices"]) == \
        ([], 0, "0.00", 0)
    rows, _ = await get_csv(client, staff, RECEIVABLES)
    assert [(r["customer_name"], r["outstanding"]) for r in rows] == [("Total", "0.00")]


# --- revenue net of credit notes -----------------------------------------------------------

REVENUE_KEYS = ("period", "first_day", "last_day", "invoices", "invoiced_net", "credit_notes", "credited_net",
                "net_revenue", "tax", "gross")


async def test_revenue_by_month_counts_credit_notes_in_their_own_month(client, staff, sales):
    page = await get_json(client, staff, REVENUE, date_from="2025-01-01", date_to="2025-04-30", period="month")
    # January: R1 140.00 + R2 33.33, tax 22.00 + 6.67. February: R3 10.05 (tax 0.01) less C1
    # 40.00 (tax 2.00), R1's credit note, a month after R1. March: R4. April: C2 only.
    assert pick(page["items"], *REVENUE_KEYS) == [
        ("2025-01", "2025-01-01", "2025-01-31", 2, "173.33", 0, "0.00", "173.33", "28.67", "202.00"),
        ("2025-02", "2025-02-01", "2025-02-28", 1, "10.05", 1, "40.00", "-29.95", "-1.99", "-31.94"),
        ("2025-03", "2025-03-01", "2025-03-31", 1, "200.00", 0, "0.00", "200.00", "40.00", "240.00"),
        ("2025-04", "2025-04-01", "2025-04-30", 0, "0.00", 1, "50.00", "-50.00", "-10.00", "-60.00")]
    assert pick([page], "total_invoices", "total_invoiced_net", "total_credit_notes", "total_credited_net",
                "total_net_revenue", "total_tax", "total_gross") == \
        [(4, "383.38", 2, "90.00", "293.38", "56.68", "350.06")]
    assert (page["period"], page["date_from"], page["date_to"], page["as_of"]) == \
        ("month", "2025-01-01", "2025-04-30", T.isoformat())


async def test_revenue_by_quarter_and_by_day_with_empty_periods_zero(client, staff, sales):
    quarters = await get_json(client, staff, REVENUE, date_from="2025-01-01", date_to="2025-09-30",
                              period="quarter")
    # Q1: every invoice (383.38, tax 68.68) less C1 (40.00, tax 2.00); Q2: C2; Q3: nothing
    assert pick(quarters["items"], *REVENUE_KEYS) == [
        ("2025-Q1", "2025-01-01", "2025-03-31", 4, "383.38", 1, "40.00", "343.38", "66.68", "410.06"),
        ("2025-Q2", "2025-04-01", "2025-06-30", 0, "0.00", 1, "50.00", "-50.00", "-10.00", "-60.00"),
        ("2025-Q3", "2025-07-01", "2025-09-30", 0, "0.00", 0, "0.00", "0.00", "0.00", "0.00")]
    assert quarters["total_net_revenue"] == "293.38" and quarters["total_gross"] == "350.06"
    by_day = await get_json(client, staff, REVENUE, date_from="2025-01-30", date_to="2025-02-01", period="day")
    assert pick(by_day["items"], "period", "first_day", "invoiced_net", "tax", "gross") == [
        ("2025-01-30", "2025-01-30", "0.00", "0.00", "0.00"), ("2025-01-31", "2025-01-31", "33.33", "6.67", "40.00"),
        ("2025-02-01", "2025-02-01", "10.05", "0.01", "10.06")]


async def test_revenue_periods_cut_at_the_ends_of_the_range(client, staff, sales):
    page = await get_json(client, staff, REVENUE, date_from="2025-01-20", date_to="2025-02-05", period="month")
    # R1 (01-15) and C1 (02-10) are outside the range
    assert pick(page["items"], "period", "first_day", "last_day", "invoiced_net", "credited_net") == [
        ("2025-01", "2025-01-20", "2025-01-31", "33.33", "0.00"), ("2025-02", "2025-02-01", "2025-02-05", "10.05", "0.00")]
    assert page["total_net_revenue"] == "43.38"


async def test_revenue_defaults_to_this_year_by_month(client, staff, sales):
    page = await get_json(client, staff, REVENUE)
    assert (page["period"], page["date_from"], page["date_to"]) == ("month", f"{T.year}-01-01", T.isoformat())
    assert page["total_items"] == T.month and page["total_net_revenue"] == "0.00"  # 2025's sales are last year's
    by_day = await get_json(client, staff, REVENUE, period="day")
    assert (by_day["date_from"], by_day["total_items"]) == (MONTH_FROM.isoformat(), T.day)


async def test_revenue_csv_ends_with_the_totals(client, staff, sales):
    rows, disposition = await get_csv(client, staff, REVENUE, date_from="2025-01-01", date_to="2025-04-30")
    assert "revenue-net-by-month-2025-01-01-to-2025-04-30" in disposition
    assert list(rows[0]) == list(REVENUE_KEYS)
    assert [(r["period"], r["net_revenue"], r["gross"]) for r in rows] == [
        ("2025-01", "173.33", "202.00"), ("2025-02", "-29.95", "-31.94"), ("2025-03", "200.00", "240.00"),
        ("2025-04", "-50.00", "-60.00"), ("Total", "293.38", "350.06")]
    assert (rows[-1]["first_day"], rows[-1]["invoices"], rows[-1]["tax"]) == ("", "4", "56.68")


# --- tax collected -------------------------------------------------------------------------

TAX_KEYS = ("period", "tax_rate", "invoiced_net", "invoiced_tax", "credited_net", "credited_tax", "taxable_net",
            "tax")


async def test_tax_per_month_and_rate_less_credit_notes(client, staff, sales):
    page = await get_json(client, staff, TAX, date_from="2025-01-01", date_to="2025-04-30", period="month")
    # February's 5 % has only C1 (R1's 5 % line, returned): it shows, negative
    assert pick(page["items"], *TAX_KEYS) == [
        ("2025-01", "5.00", "40.00", "2.00", "0.00", "0.00", "40.00", "2.00"),
        ("2025-01", "20.00", "133.33", "26.67", "0.00", "0.00", "133.33", "26.67"),
        ("2025-02", "0.00", "10.00", "0.00", "0.00", "0.00", "10.00", "0.00"),
        ("2025-02", "5.00", "0.00", "0.00", "40.00", "2.00", "-40.00", "-2.00"),
        ("2025-02", "20.00", "0.05", "0.01", "0.00", "0.00", "0.05", "0.01"),
        ("2025-03", "20.00", "200.00", "40.00", "0.00", "0.00", "200.00", "40.00"),
        ("2025-04", "20.00", "0.00", "0.00", "50.00", "10.00", "-50.00", "-10.00")]
    assert pick(page["rate_totals"], *TAX_KEYS[1:]) == [
        ("0.00", "10.00", "0.00", "0.00", "0.00", "10.00", "0.00"),
        ("5.00", "40.00", "2.00", "40.00", "2.00", "0.00", "0.00"),
        ("20.00", "333.38", "66.68", "50.00", "10.00", "283.38", "56.68")]
    assert pick([page], "total_invoiced_net", "total_invoiced_tax", "total_credited_net", "total_credited_tax",
                "total_taxable_net", "total_tax") == [("383.38", "68.68", "90.00", "12.00", "293.38", "56.68")]
    assert pick(page["items"][:1], "first_day", "last_day") == [("2025-01-01", "2025-01-31")]
    # the tax report and the revenue report agree on the tax of the range
    revenue = await get_json(client, staff, REVENUE, date_from="2025-01-01", date_to="2025-04-30")
    assert revenue["total_tax"] == page["total_tax"]


async def test_tax_per_quarter(client, staff, sales):
    page = await get_json(client, staff, TAX, date_from="2025-01-01", date_to="2025-06-30", period="quarter")
    assert pick(page["items"], "period", "tax_rate", "taxable_net", "tax") == [
        ("2025-Q1", "0.00", "10.00", "0.00"), ("2025-Q1", "5.00", "0.00", "0.00"),
        ("2025-Q1", "20.00", "333.38", "66.68"), ("2025-Q2", "20.00", "-50.00", "-10.00")]
    second = await get_json(client, staff, TAX, date_from="2025-01-01", date_to="2025-06-30", period="quarter",
                            limit=3, page=2)
    assert pick(second["items"], "period", "tax_rate") == [("2025-Q2", "20.00")]
    assert (second["total_items"], second["total_tax"], len(second["rate_totals"])) == (4, "56.68", 3)


async def test_tax_sums_are_exact_over_many_lines(client, staff, world, conn):
    """A hundred and one lines of 0.10 at 10 % (tax 0.01 each) and one of 0.20: binary floating
    point would not give 10.30 and 1.03."""
    books = Books(conn)
    books.invoice(1, date(2025, 5, 5), date(2025, 6, 4), *([("0.10", 1, "10")] * 101), ("0.20", 1, "10"))
    page = await get_json(client, staff, TAX, date_from="2025-05-01", date_to="2025-05-31")
    assert pick(page["items"], "tax_rate", "taxable_net", "tax") == [("10.00", "10.30", "1.03")]


async def test_tax_csv_ends_with_a_total_per_rate_and_one_over_all(client, staff, sales):
    rows, disposition = await get_csv(client, staff, TAX, date_from="2025-01-01", date_to="2025-04-30")
    assert "tax-by-month-2025-01-01-to-2025-04-30" in disposition
    assert list(rows[0]) == ["period", "first_day", "last_day", "tax_rate", "invoiced_net", "invoiced_tax",
                             "credited_net", "credited_tax", "taxable_net", "tax"]
    assert len(rows) == 7 + 3 + 1
    assert [(r["period"], r["tax_rate"], r["taxable_net"], r["tax"]) for r in rows[7:]] == [
        ("Total", "0.00", "10.00", "0.00"), ("Total", "5.00", "0.00", "0.00"), ("Total", "20.00", "283.38", "56.68"),
        ("Total", "", "293.38", "56.68")]
    assert rows[3]["taxable_net"] == "-40.00"  # a negative figure stays a number, not a guarded text


# --- validation and access -----------------------------------------------------------------

@pytest.mark.parametrize(("path", "params"), [
    (RECEIVABLES, {"as_of": (T + timedelta(days=1)).isoformat()}), (RECEIVABLES, {"as_of": "2026-13-01"}),
    (RECEIVABLES, {"as_of": "last month"}), (RECEIVABLES, {"customer_id": 0}), (RECEIVABLES, {"customer_id": "one"}),
    (RECEIVABLES, {"customer_id": 2_147_483_648}), (RECEIVABLES, {"format": "xlsx"}), (RECEIVABLES, {"page": 0}),
    (REVENUE, {"date_from": "2025-05-02", "date_to": "2025-05-01"}), (REVENUE, {"period": "week"}),
    (REVENUE, {"period": "day", "date_from": "2024-01-01", "date_to": "2025-01-01"}),  # 367 days
    (REVENUE, {"period": "month", "date_from": "2015-01-01", "date_to": "2025-01-31"}),  # 121 months
    (REVENUE, {"period": "quarter", "date_from": "0001-01-01", "date_to": "9999-12-31"}),
    (REVENUE, {"date_to": "2025-02-30"}), (REVENUE, {"limit": 201}),
    (TAX, {"period": "day"}), (TAX, {"date_from": "2025-06-01", "date_to": "2025-05-31"}),
    (TAX, {"period": "quarter", "date_from": "2015-01-01", "date_to": "2025-01-01"}),  # 41 quarters
    (TAX, {"date_from": "yesterday"}),
])
async def test_bad_parameters_are_422_in_the_one_error_shape(client, staff, world, path, params):
    response = await client.get(path, params=params, headers=staff)
    assert response.status_code == 422, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == "validation_error" and body["error"]["message"]


async def test_validation_messages_say_what_to_change(client, staff, world):
    wrong_way = (await client.get(REVENUE, params={"date_from": "2025-05-02", "date_to": "2025-05-01"},
                                  headers=staff)).json()["error"]
    assert wrong_way["message"] == "date_from must not be after date_to"
    too_long = (await client.get(REVENUE, params={"period": "day", "date_from": "2024-01-01",
                                                  "date_to": "2025-01-01"}, headers=staff)).json()["error"]
    assert "at most 366 days" in too_long["message"] and too_long["details"]["periods"] == 367
    future = (await client.get(RECEIVABLES, params={"as_of": (T + timedelta(days=1)).isoformat()},
                               headers=staff)).json()["error"]
    assert future["message"] == f"as_of must be today ({T}) or earlier"


@pytest.mark.parametrize(("path", "params"), [
    (REVENUE, {"period": "day", "date_from": "2024-01-01", "date_to": "2024-12-31"}),  # 366 days, a leap year
    (REVENUE, {"period": "month", "date_from": "2015-01-31", "date_to": "2024-12-01"}),  # 120 months
    (TAX, {"period": "quarter", "date_from": "2015-03-31", "date_to": "2024-10-01"}),  # 40 quarters
    (REVENUE, {"period": "day", "date_from": "9999-12-31", "date_to": "9999-12-31"}),  # the last day there is
    (TAX, {"period": "quarter", "date_from": "0001-01-01", "date_to": "0001-01-01"}),  # and the first
])
async def test_the_longest_ranges_allowed_are_answered(client, staff, world, path, params):
    page = await get_json(client, staff, path, **params)
    assert page["date_from"] == params["date_from"] and page["date_to"] == params["date_to"]


async def test_an_unknown_customer_is_404(client, staff, world):
    response = await client.get(RECEIVABLES, params={"customer_id": 99}, headers=staff)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("path", [RECEIVABLES, f"{RECEIVABLES}?customer_id=1", REVENUE, TAX,
                                  f"{TAX}?format=csv"])
async def test_money_reports_are_for_staff_and_admins_only(client, aging, path):
    assert (await client.get(path)).status_code == 401
    for username in ("cust_1", "cust_2"):
        refused = await client.get(path, headers=await bearer(client, username))
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    for username in ("staffer", "boss"):
        assert (await client.get(path, headers=await bearer(client, username))).status_code == 200


# --- the dashboard's money figures ---------------------------------------------------------

async def test_dashboard_money_figures(client, staff, month):
    stats = await get_json(client, staff, "/api/admin/dashboard-stats")
    # outstanding: X 120.00 - 12.00 credited + Y 50.00 - 2.00 - 5.00; overdue: Y only.
    # This month: invoiced X 100.00 + Z 10.00; credited X's 10.00 and Y's 5.00 (Y's 2.00 was
    # last month); tax X 20.00 + Z 2.00 - X's credited 2.00.
    assert pick([stats], "receivables_outstanding", "receivables_overdue", "month_from", "invoiced_net_this_month",
                "credited_net_this_month", "tax_this_month") == \
        [("151.00", "43.00", MONTH_FROM.isoformat(), "110.00", "15.00", "20.00")]
    # the same figures as the reports give
    aging = await get_json(client, staff, RECEIVABLES)
    assert aging["total_outstanding"] == "151.00"
    overdue = sum(Decimal(aging[key]) for key in TOTAL_KEYS[1:5])
    assert f"{overdue:.2f}" == "43.00"
    revenue = await get_json(client, staff, REVENUE, date_from=MONTH_FROM.isoformat(), period="month")
    tax = await get_json(client, staff, TAX, date_from=MONTH_FROM.isoformat())
    assert (revenue["total_invoiced_net"], revenue["total_credited_net"], tax["total_tax"]) == \
        ("110.00", "15.00", "20.00")


async def test_dashboard_money_figures_leave_over_payments_out_of_receivables(client, staff, aging):
    stats = await get_json(client, staff, "/api/admin/dashboard-stats")
    # the aging books: 707.00 owed (L's and M's over-payments not netted), of which current 320.00
    assert (stats["receivables_outstanding"], stats["receivables_overdue"]) == ("707.00", "387.00")


async def test_dashboard_money_figures_of_an_empty_shop_are_zero(client, staff, world):
    stats = await get_json(client, staff, "/api/admin/dashboard-stats")
    assert pick([stats], "receivables_outstanding", "receivables_overdue", "invoiced_net_this_month",
                "credited_net_this_month", "tax_this_month") == [("0.00",) * 5]


async def test_dashboard_still_reads_its_figures_in_one_query(settings, month):
    async with serve(settings.with_overrides(log_timing=True)) as http:
        state = http._transport.app.state
        state.context = dataclasses.replace(state.context, dashboard_cache=TtlCache(0.0))
        headers = await bearer(http, "staffer")
        await get_json(http, headers, "/api/admin/dashboard-stats")  # the user's state is cached from here on
        response = await http.get("/api/admin/dashboard-stats", headers=headers)
    assert re.search(r'desc="(\d+) queries"', response.headers["server-timing"])[1] == "1"
    assert response.json()["receivables_outstanding"] == "151.00"


def test_csv_cells_of_the_money_reports_use_the_shared_guard():
    """Names are text cells (guarded); money, even negative, is money (left alone)."""
    assert export.csv_cell("=Third Clinic", "text") == "'=Third Clinic"
    assert export.csv_cell(Decimal("-40"), "money") == "-40.00"
