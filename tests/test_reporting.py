"""Reports and the dashboard through the real ASGI app, on a small world whose orders are
placed (and cancelled) through the real API, every figure worked out by hand below; then
the dashboard of a seeded history against figures computed independently in Python."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections import defaultdict
from datetime import UTC, timedelta
from decimal import Decimal

import pytest

from stockline import db
from stockline.auth import passwords
from stockline.cache import TtlCache
from stockline.config import SeedSettings
from stockline.kernel.catalog_version import Q as CATALOG_Q
from stockline.kernel.expiry import business_day
from stockline.reporting import export
from stockline.seeding.service import run_seed
from tests.conftest import serve
from tests.ordering_world import PASSWORD, bearer, build_world, password_hash, receive

REPORTS = ("low-stock", "expiring", "expired", "reorder-suggestions", "stock-valuation", "loss-making-sales")
EVIL_NAME = '=HYPERLINK("http://evil.example","click")'


def report_path(name: str) -> str:
    return f"/api/admin/reports/{name}"


async def place(client, headers, sku_id: int, quantity: int) -> int:
    response = await client.post("/api/orders", json={"sku_id": sku_id, "quantity": quantity}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["order_id"]


async def cancel(client, headers, order_id: int) -> None:
    response = await client.post(f"/api/my-orders/{order_id}/cancel", headers=headers)
    assert response.status_code == 200, response.text


def backdate(conn, order_id: int, days: int) -> None:
    conn.execute("UPDATE Orders SET order_date = now() - make_interval(days => %s) WHERE order_id = %s",
                 (days, order_id))


@pytest.fixture
async def sales(client, conn):
    """The ordering world plus SKU 5 (list 5.00, reorder level 35, one batch of 40 costing
    6.00: every sale of it loses money; its texts would be spreadsheet formulas), then:

    O1 cust_1 SKU 1 x 8 at 8.00 (20 % contract): A-SOON 5 @ 6.00, A-LATER 3 @ 7.00  rev 64.00  profit 13.00
    O2 cust_2 SKU 2 x 20 at 28.50 (5 % tier), B-1 @ 20.00                        rev 570.00 profit 170.00
    O3 cust_2 SKU 5 x 10 at 4.75 (5 % tier), cost 6.00                           rev 47.50  profit -12.50
    O4 cust_1 SKU 2 x 3, cancelled;  O5 cust_1 SKU 5 x 2, cancelled
    O6 cust_2 SKU 1 x 12 at 9.50, A-LATER @ 7.00, 40 days ago                    rev 114.00 profit 30.00
    O7 cust_1 SKU 3 x 3 at 2.50, cost 1.00                                       rev 7.50   profit 4.50
    O8 cust_1 SKU 5 x 1 at 5.00, cost 6.00, 3 days ago                           rev 5.00   profit -1.00
    """
    world = build_world(conn)
    conn.execute("INSERT INTO Products (product_id, name, manufacturer) VALUES (3, %s, '+Evil Labs')",
                 (EVIL_NAME,))
    conn.execute("INSERT INTO Product_SKUs (sku_id, product_id, sku_code, base_price, reorder_level) "
                 "VALUES (5, 3, '-FIVE', 5.00, 35)")
    world["e"] = receive(conn, 5, "@E-1", 60, 40, "6.00")
    conn.execute(CATALOG_Q["bump_catalog_version"].sql)
    cust1, cust2 = await bearer(client, "cust_1"), await bearer(client, "cust_2")
    orders = {"o1": await place(client, cust1, 1, 8), "o2": await place(client, cust2, 2, 20),
              "o3": await place(client, cust2, 5, 10), "o4": await place(client, cust1, 2, 3),
              "o5": await place(client, cust1, 5, 2), "o6": await place(client, cust2, 1, 12),
              "o7": await place(client, cust1, 3, 3), "o8": await place(client, cust1, 5, 1)}
    await cancel(client, cust1, orders["o4"])
    await cancel(client, cust1, orders["o5"])
    backdate(conn, orders["o6"], 40)
    backdate(conn, orders["o8"], 3)
    return world | orders


@pytest.fixture
async def staff(client, sales):
    return await bearer(client, "staffer")


async def get_report(client, headers, name: str, **params) -> dict:
    response = await client.get(report_path(name), params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def get_csv(client, headers, name: str, **params) -> tuple[list[str], list[dict[str, str]], str]:
    response = await client.get(report_path(name), params={"format": "csv", **params}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = response.headers["content-disposition"]
    assert re.fullmatch(r'attachment; filename="[a-z0-9-]+\.csv"', disposition), disposition
    reader = csv.DictReader(io.StringIO(response.text, newline=""))
    rows = list(reader)
    return list(reader.fieldnames or []), rows, disposition


def pick(items: list[dict], *keys: str) -> list[tuple]:
    return [tuple(item[key] for key in keys) for item in items]


def days_ago(days: int) -> str:
    return (business_day() - timedelta(days=days)).isoformat()


# --- the reports ---------------------------------------------------------------------------

async def test_low_stock_lists_active_skus_below_their_reorder_level(client, staff):
    page = await get_report(client, staff, "low-stock")
    # SKU 4 (9 units, level 10) is not on sale; SKU 2 (10 left, level 5) is fine
    assert pick(page["items"], "sku_id", "available", "reorder_level", "shortfall") == \
        [(3, 1, 10, 9), (1, 5, 10, 5), (5, 29, 35, 6)]
    first = page["items"][0]
    assert (first["sku_code"], first["product_name"], first["manufacturer"], first["package_size"]) == \
        ("PARA-3", "Paracetamol 500 mg tablets", "Teva", "10")
    assert (page["total_items"], page["total_shortfall"], page["as_of"]) == (3, 20, business_day().isoformat())


async def test_expiring_lists_sellable_batches_within_the_window_with_their_value(client, staff, sales):
    page = await get_report(client, staff, "expiring")  # EXPIRING_SOON_DAYS: 30
    # A-SOON (10 days) was sold out; C-1 expires in exactly 30 days, 1 unit left
    assert pick(page["items"], "batch_no", "quantity_on_hand", "cost_price", "value_at_cost", "days_left") == \
        [("C-1", 1, "1.00", "1.00", 30)]
    assert (page["days"], page["total_units"], page["total_value"]) == (30, 1, "1.00")
    assert (await get_report(client, staff, "expiring", days=29))["items"] == []
    wider = await get_report(client, staff, "expiring", days=60)
    assert pick(wider["items"], "batch_id", "quantity_on_hand", "value_at_cost", "days_left") == \
        [(sales["c"], 1, "1.00", 30), (sales["d"], 9, "9.00", 50), (sales["e"], 29, "174.00", 60)]
    assert (wider["total_items"], wider["total_units"], wider["total_value"]) == (3, 39, "184.00")
    assert wider["expiring_until"] == (business_day() + timedelta(days=60)).isoformat()


async def test_expiring_window_defaults_to_the_setting(settings, sales):
    async with serve(settings.with_overrides(expiring_soon_days=60)) as http:
        page = await get_report(http, await bearer(http, "boss"), "expiring")
    assert (page["days"], page["total_items"], page["total_value"]) == (60, 3, "184.00")


async def test_expired_lists_stock_to_write_off_with_its_value(client, staff, sales):
    page = await get_report(client, staff, "expired")
    # a batch expires at the start of its expiry date: today's batch is expired too
    assert pick(page["items"], "batch_id", "batch_no", "expiry_date", "days_expired", "quantity_on_hand",
                "value_at_cost") == [(sales["a_expired"], "A-EXPIRED", days_ago(1), 1, 50, "50.00"),
                                     (sales["a_today"], "A-TODAY", days_ago(0), 0, 7, "7.00")]
    assert (page["total_units"], page["total_value"]) == (57, "57.00")


async def test_reorder_suggestions_cover_thirty_days_at_the_last_thirty_days_rate(client, staff):
    page = await get_report(client, staff, "reorder-suggestions")
    # SKU 1 sold 8 in the window (O6's 12 are 40 days old), 5 left: 5 / (8/30) = 18.75 days,
    # 30 days need 8, so 3 more. SKU 2: 20 sold (O4 cancelled), 10 left. SKU 3: 3 sold, 1 left.
    # SKU 5: 11 sold, 29 left: 79 days of cover, nothing to order.
    assert pick(page["items"], "sku_id", "units_sold", "available", "daily_rate", "days_of_cover",
                "suggested_quantity") == [(3, 3, 1, "0.100", "10.0", 2), (2, 20, 10, "0.667", "15.0", 10),
                                          (1, 8, 5, "0.267", "18.8", 3)]
    assert (page["total_suggested"], page["window_days"], page["cover_days"]) == (15, 30, 30)
    assert page["sales_from"] == days_ago(29)


async def test_stock_valuation_values_every_unit_on_hand_at_its_batch_cost(client, staff, conn):
    page = await get_report(client, staff, "stock-valuation")
    assert pick(page["items"], "sku_id", "units_on_hand", "value_at_cost", "sellable_value", "expired_value",
                "is_active") == [(2, 10, "200.00", "200.00", "0.00", True), (5, 29, "174.00", "174.00", "0.00", True),
                                 (1, 62, "92.00", "35.00", "57.00", True), (4, 9, "9.00", "9.00", "0.00", False),
                                 (3, 1, "1.00", "1.00", "0.00", True)]
    sku1 = page["items"][2]
    assert (sku1["batches"], sku1["average_unit_cost"], sku1["sellable_units"], sku1["expired_units"]) == \
        (3, "1.48", 5, 57)
    assert (page["total_units"], page["total_value"], page["total_sellable_value"],
            page["total_expired_value"]) == (111, "476.00", "419.00", "57.00")
    independent = conn.execute("SELECT sum(quantity_on_hand * cost_price) AS v FROM Inventory_Batches").fetchone()
    assert Decimal(page["total_value"]) == independent["v"]


async def test_loss_making_sales_lists_items_sold_below_cost_in_a_date_range(client, staff, sales):
    page = await get_report(client, staff, "loss-making-sales")
    # O5 (SKU 5 at 5.00) was cancelled: not a sale
    assert pick(page["items"], "order_id", "customer_name", "sku_code", "batch_no", "quantity", "sale_price",
                "unit_cost", "loss_per_unit", "loss") == [
        (sales["o3"], "Second Pharmacy", "-FIVE", "@E-1", 10, "4.75", "6.00", "1.25", "12.50"),
        (sales["o8"], "First Pharmacy", "-FIVE", "@E-1", 1, "5.00", "6.00", "1.00", "1.00")]
    assert (page["items"][0]["discount_percentage"], page["items"][0]["pricing_rule_id"]) == ("5.00", 1)
    assert (page["total_units"], page["total_loss"], page["date_from"], page["date_to"]) == (11, "13.50", None, None)
    today = await get_report(client, staff, "loss-making-sales", **{"from": days_ago(0)})
    assert pick(today["items"], "order_id") == [(sales["o3"],)] and today["total_loss"] == "12.50"
    earlier = await get_report(client, staff, "loss-making-sales", **{"from": days_ago(3), "to": days_ago(1)})
    assert pick(earlier["items"], "order_id") == [(sales["o8"],)]
    assert (earlier["date_from"], earlier["date_to"]) == (days_ago(3), days_ago(1))
    none = await get_report(client, staff, "loss-making-sales", **{"to": days_ago(4)})
    assert (none["items"], none["total_items"], none["total_loss"]) == ([], 0, "0.00")


async def test_reports_paginate_with_totals_over_every_row(client, staff):
    first = await get_report(client, staff, "stock-valuation", limit=2)
    third = await get_report(client, staff, "stock-valuation", limit=2, page=3)
    past = await get_report(client, staff, "stock-valuation", limit=2, page=9)
    assert pick(first["items"], "sku_id") == [(2,), (5,)] and pick(third["items"], "sku_id") == [(3,)]
    assert (first["total_items"], first["total_pages"], first["current_page"], first["page_size"]) == (5, 3, 1, 2)
    assert past["items"] == [] and past["total_items"] == 5
    assert first["total_value"] == third["total_value"] == past["total_value"] == "476.00"


# --- CSV -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", REPORTS)
async def test_every_report_exports_every_row_as_csv(client, staff, name):
    page = await get_report(client, staff, name, limit=200, days=60) if name == "expiring" else \
        await get_report(client, staff, name, limit=200)
    params = {"limit": 1, "days": 60} if name == "expiring" else {"limit": 1}
    header, rows, disposition = await get_csv(client, staff, name, **params)
    assert page["items"] and len(rows) == page["total_items"]  # every row, not the page of one
    assert header == list(page["items"][0])
    assert name in disposition
    for item, row in zip(page["items"], rows, strict=True):
        for key, value in item.items():
            if value is None:
                assert row[key] == ""
            elif isinstance(value, bool):
                assert row[key] == str(value).lower()
            elif isinstance(value, str) and value.startswith(export.FORMULA_PREFIXES):
                assert row[key] == "'" + value  # a text cell a spreadsheet would run
            else:
                assert row[key] == str(value)


async def test_csv_money_has_two_places_and_text_cannot_become_a_formula(client, staff):
    _, rows, _ = await get_csv(client, staff, "loss-making-sales")
    assert [(r["sale_price"], r["unit_cost"], r["loss"]) for r in rows] == [("4.75", "6.00", "12.50"),
                                                                            ("5.00", "6.00", "1.00")]
    assert {(r["sku_code"], r["batch_no"]) for r in rows} == {("'-FIVE", "'@E-1")}
    _, rows, _ = await get_csv(client, staff, "low-stock")
    evil = next(r for r in rows if r["sku_id"] == "5")
    assert (evil["product_name"], evil["manufacturer"]) == ("'" + EVIL_NAME, "'+Evil Labs")
    assert rows[0]["manufacturer"] == "Teva"  # ordinary text untouched


def test_csv_guard_leaves_numbers_alone_and_covers_every_formula_start():
    assert export.csv_cell(Decimal("-3.5"), "money") == "-3.50"
    assert export.csv_cell(-2, "int") == "-2"
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert export.csv_cell(text, "text") == "'" + text
    assert export.csv_cell("a=b", "text") == "a=b" and export.csv_cell(None, "text") == ""


async def test_an_empty_report_still_exports_its_header(client, staff):
    header, rows, _ = await get_csv(client, staff, "loss-making-sales", to=days_ago(30))
    assert rows == [] and header[:3] == ["order_item_id", "order_id", "order_date"]


# --- access and validation -----------------------------------------------------------------

ROUTES = [*(report_path(name) for name in REPORTS), "/api/admin/dashboard-stats"]


@pytest.mark.parametrize("path", ROUTES)
async def test_reports_are_for_staff_and_admins_only(client, sales, path):
    assert (await client.get(path)).status_code == 401
    customer = await client.get(path, headers=await bearer(client, "cust_1"))
    assert customer.status_code == 403 and customer.json()["error"]["code"] == "forbidden"
    for username in ("staffer", "boss"):
        assert (await client.get(path, headers=await bearer(client, username))).status_code == 200


@pytest.mark.parametrize(("name", "params"), [
    ("expiring", {"days": 0}), ("expiring", {"days": 366}), ("expiring", {"days": "soon"}),
    ("low-stock", {"format": "xlsx"}), ("expired", {"page": 0}), ("stock-valuation", {"limit": 201}),
    ("reorder-suggestions", {"limit": "all"}), ("loss-making-sales", {"from": "2026-13-01"}),
    ("loss-making-sales", {"to": "yesterday"}), ("loss-making-sales", {"from": "2026-05-02", "to": "2026-05-01"}),
])
async def test_bad_parameters_are_422_with_the_error_shape(client, staff, name, params):
    response = await client.get(report_path(name), params=params, headers=staff)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error" and error["message"]


async def test_a_range_reaching_the_last_representable_day_is_not_an_error(client, staff):
    page = await get_report(client, staff, "loss-making-sales", **{"from": "0001-01-01", "to": "9999-12-31"})
    assert page["total_items"] == 2


# --- dashboard -----------------------------------------------------------------------------

async def dashboard(client, headers) -> dict:
    response = await client.get("/api/admin/dashboard-stats", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_dashboard_totals_count_non_cancelled_orders_only(client, staff, conn):
    stats = await dashboard(client, staff)
    assert (stats["total_revenue"], stats["total_profit"], stats["total_orders"]) == ("808.00", "204.00", 6)
    assert (stats["total_batches"], stats["expiring_soon"], stats["low_stock_count"]) == (9, 1, 3)
    independent = conn.execute("SELECT sum(total_amount) AS revenue FROM Orders WHERE status <> 'cancelled'")
    assert Decimal(stats["total_revenue"]) == independent.fetchone()["revenue"]
    assert stats["low_stock_count"] == (await get_report(client, staff, "low-stock"))["total_items"]
    assert stats["expiring_soon"] == (await get_report(client, staff, "expiring"))["total_items"]


async def test_dashboard_series_are_zero_filled_oldest_first(client, staff):
    stats = await dashboard(client, staff)
    today = business_day()
    assert [d["day"] for d in stats["daily"]] == [(today - timedelta(days=n)).isoformat() for n in range(13, -1, -1)]
    by_day = {d["day"]: (d["revenue"], d["profit"]) for d in stats["daily"]}
    assert by_day.pop(days_ago(0)) == ("689.00", "175.00")
    assert by_day.pop(days_ago(3)) == ("5.00", "-1.00")  # O8: a loss
    assert set(by_day.values()) == {("0.00", "0.00")}

    monday = today - timedelta(days=today.weekday())
    assert [w["week_start"] for w in stats["weekly"]] == \
        [(monday - timedelta(weeks=n)).isoformat() for n in range(7, -1, -1)]
    expected: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for days, revenue, profit in ((0, "689.00", "175.00"), (3, "5.00", "-1.00"), (40, "114.00", "30.00")):
        day = today - timedelta(days=days)
        week = expected[(day - timedelta(days=day.weekday())).isoformat()]
        week[0] += Decimal(revenue)
        week[1] += Decimal(profit)
    weekly = {w["week_start"]: (w["revenue"], w["profit"]) for w in stats["weekly"]}
    for week_start, (revenue, profit) in expected.items():
        assert weekly.pop(week_start) == (f"{revenue:.2f}", f"{profit:.2f}")
    assert set(weekly.values()) == {("0.00", "0.00")}


async def test_dashboard_top_lists_rank_the_last_thirty_days_by_revenue(client, staff):
    stats = await dashboard(client, staff)
    # O6 (SKU 1, 114.00, customer 2) is 40 days old; cancelled O4 and O5 do not count
    assert pick(stats["top_products"], "sku_id", "revenue", "units", "orders") == [
        (2, "570.00", 20, 1), (1, "64.00", 8, 1), (5, "52.50", 11, 2), (3, "7.50", 3, 1)]
    assert stats["top_products"][2]["profit"] == "-13.50" and stats["top_products"][2]["product_name"] == EVIL_NAME
    assert pick(stats["top_customers"], "customer_id", "name", "revenue", "profit", "orders", "units") == [
        (2, "Second Pharmacy", "617.50", "157.50", 2, 30), (1, "First Pharmacy", "76.50", "16.50", 3, 12)]


async def test_dashboard_of_an_empty_shop_is_all_zeros(client, conn):
    conn.execute("INSERT INTO Users (username, password_hash, role) VALUES ('staffer', %s, 'staff')",
                 (password_hash(),))
    stats = await dashboard(client, await bearer(client, "staffer"))
    assert (stats["total_revenue"], stats["total_profit"], stats["total_orders"], stats["total_batches"]) == \
        ("0.00", "0.00", 0, 0)
    assert (len(stats["daily"]), len(stats["weekly"]), stats["top_products"], stats["top_customers"]) == \
        (14, 8, [], [])
    assert {(p["revenue"], p["profit"]) for p in stats["daily"] + stats["weekly"]} == {("0.00", "0.00")}


async def test_dashboard_is_cached_until_a_write_is_announced(client, staff, conn):
    before = await dashboard(client, staff)
    receive(conn, 2, "B-NEW", 300, 5, "20.00")  # straight into the database: nothing announced
    assert (await dashboard(client, staff))["total_batches"] == before["total_batches"]
    await place(client, await bearer(client, "cust_2"), 2, 1)  # checkout announces its change
    after = await dashboard(client, staff)
    assert (after["total_orders"], after["total_batches"]) == (before["total_orders"] + 1,
                                                               before["total_batches"] + 1)
    assert after["total_revenue"] == "838.00"


async def test_dashboard_reads_its_figures_in_one_query(settings, sales):
    async with serve(settings.with_overrides(log_timing=True)) as http:
        state = http._transport.app.state
        state.context = dataclasses.replace(state.context, dashboard_cache=TtlCache(0.0))
        headers = await bearer(http, "staffer")
        await dashboard(http, headers)  # the user's state is cached from here on
        counts = []
        for _ in range(2):
            response = await http.get("/api/admin/dashboard-stats", headers=headers)
            counts.append(int(re.search(r'desc="(\d+) queries"', response.headers["server-timing"])[1]))
    assert counts == [1, 1]


# --- a seeded history ----------------------------------------------------------------------

def _expected_dashboard(conn, today) -> dict:
    """The dashboard worked out in Python from raw order lines."""
    lines = conn.execute("""
        SELECT o.order_id, o.customer_id, c.name, o.order_date, i.sku_id, i.quantity_ordered, i.sale_price,
               i.unit_cost
        FROM Orders o JOIN Order_Items i USING (order_id) JOIN Customers c USING (customer_id)
        WHERE o.status <> 'cancelled'""").fetchall()
    zero = Decimal("0.00")
    daily = {today - timedelta(days=n): [zero, zero] for n in range(14)}
    monday = today - timedelta(days=today.weekday())
    weekly = {monday - timedelta(weeks=n): [zero, zero] for n in range(8)}
    products: dict[int, list] = defaultdict(lambda: [zero, 0, set()])
    customers: dict[int, list] = defaultdict(lambda: [zero, 0, set()])
    revenue = profit = zero
    for order_id, customer_id, _name, order_date, sku_id, quantity, sale_price, unit_cost in lines:
        line_revenue, line_profit = sale_price * quantity, (sale_price - unit_cost) * quantity
        revenue, profit = revenue + line_revenue, profit + line_profit
        day = order_date.astimezone(UTC).date()
        for series, key in ((daily, day), (weekly, day - timedelta(days=day.weekday()))):
            if key in series:
                series[key][0] += line_revenue
                series[key][1] += line_profit
        if day >= today - timedelta(days=29):
            for totals, key in ((products, sku_id), (customers, customer_id)):
                totals[key][0] += line_revenue
                totals[key][1] += quantity
                totals[key][2].add(order_id)

    def top(totals: dict) -> list[tuple]:
        ranked = sorted(totals.items(), key=lambda kv: (-kv[1][0], kv[0]))[:10]
        return [(key, f"{r:.2f}", units, len(orders)) for key, (r, units, orders) in ranked]

    return {"total_revenue": f"{revenue:.2f}", "total_profit": f"{profit:.2f}",
            "daily": [(d.isoformat(), f"{r:.2f}", f"{p:.2f}") for d, (r, p) in sorted(daily.items())],
            "weekly": [(w.isoformat(), f"{r:.2f}", f"{p:.2f}") for w, (r, p) in sorted(weekly.items())],
            "top_products": top(products), "top_customers": top(customers)}


async def test_dashboard_of_a_seeded_history_matches_independent_figures(settings, clean_db):
    with db.connect(clean_db) as conn:
        run_seed(conn, SeedSettings(customers=20, products=10, skus=30, batches=120, pricing_rules=10, orders=200,
                                    seed=3), out=io.StringIO())
        conn.execute("INSERT INTO Users (username, password_hash, role) VALUES ('auditor', %s, 'staff')",
                     (passwords.hash_password(PASSWORD),))
        conn.commit()
        today = business_day()
        expected = _expected_dashboard(conn, today)
        counts = conn.execute("""
            SELECT (SELECT count(*) FROM Orders WHERE status <> 'cancelled'),
                   (SELECT count(*) FROM Orders WHERE status = 'cancelled'),
                   (SELECT count(*) FROM Inventory_Batches)""").fetchone()
    assert counts[1] > 0  # the history has cancellations for the figures to leave out
    async with serve(settings) as http:
        headers = await bearer(http, "auditor")
        stats = await dashboard(http, headers)
        low_stock = await get_report(http, headers, "low-stock")
        expiring = await get_report(http, headers, "expiring")
    assert (stats["total_revenue"], stats["total_profit"]) == (expected["total_revenue"], expected["total_profit"])
    assert (stats["total_orders"], stats["total_batches"]) == (counts[0], counts[2])
    assert pick(stats["daily"], "day", "revenue", "profit") == expected["daily"]
    assert pick(stats["weekly"], "week_start", "revenue", "profit") == expected["weekly"]
    assert pick(stats["top_products"], "sku_id", "revenue", "units", "orders") == expected["top_products"]
    assert pick(stats["top_customers"], "customer_id", "revenue", "units", "orders") == expected["top_customers"]
    assert len(stats["top_products"]) == 10 and any(d["revenue"] != "0.00" for d in stats["daily"])
    assert (stats["low_stock_count"], stats["expiring_soon"]) == (low_stock["total_items"], expiring["total_items"])
    assert stats["expiring_soon"] > 0
