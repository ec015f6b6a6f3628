"""The stock rules and the catalog item's JSON, each defined once in db/schema.sql: the
Python mirrors (stockline.kernel.expiry) agree with the SQL functions on every boundary, the
item's three parts print what row_to_json printed, and the seed's simulated history sells
by the same rule, minimum shelf life included."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest

from stockline import db
from stockline.config import SeedSettings, Settings
from stockline.kernel.expiry import expired, sellable, sellable_after
from stockline.seeding.service import run_seed

DAY = date(2030, 6, 15)
AROUND = [DAY + timedelta(days=offset) for offset in (-2, -1, 0, 1, 2)]


def test_sellable_is_the_sql_functions_mirror(conn):
    cases = [(quantity, expiry, after, held) for quantity in (-1, 0, 1, 250) for expiry in AROUND
             for after in (DAY - timedelta(days=1), DAY, DAY + timedelta(days=1)) for held in (False, True)]
    rows = conn.execute(
        "SELECT q, e, a, h, stockline_sellable(q, e, a, h) AS answer "
        "FROM unnest(%s::int[], %s::date[], %s::date[], %s::boolean[]) AS t (q, e, a, h)",
        [list(column) for column in zip(*cases, strict=True)]).fetchall()
    assert len(rows) == len(cases)
    assert [(r["q"], r["e"], r["a"], r["h"], sellable(r["q"], r["e"], r["a"], r["h"])) for r in rows] == \
        [(r["q"], r["e"], r["a"], r["h"], r["answer"]) for r in rows]
    assert {r["answer"] for r in rows} == {True, False}


def test_expired_is_the_sql_functions_mirror(conn):
    cases = [(expiry, today) for expiry in AROUND for today in AROUND]
    rows = conn.execute(
        "SELECT e, t, stockline_expired(e, t) AS answer FROM unnest(%s::date[], %s::date[]) AS x (e, t)",
        [list(column) for column in zip(*cases, strict=True)]).fetchall()
    assert [expired(r["e"], r["t"]) for r in rows] == [r["answer"] for r in rows]
    assert conn.execute("SELECT stockline_expired(%s, %s) AS x", (DAY, DAY)).fetchone()["x"]  # from its first day


def test_sellable_after_applies_the_minimum_shelf_life():
    assert sellable_after(Settings(min_shelf_life_days=30), DAY) == DAY + timedelta(days=30)
    assert not sellable(5, DAY + timedelta(days=30), sellable_after(Settings(min_shelf_life_days=30), DAY))
    assert sellable(5, DAY + timedelta(days=31), sellable_after(Settings(min_shelf_life_days=30), DAY))


@pytest.mark.parametrize(("on_sale", "available", "reorder_level", "low"), [
    (True, 9, 10, True), (True, 10, 10, False), (True, 0, 1, True), (True, 0, 0, False),
    (False, 0, 10, False),
])
def test_low_stock_is_below_the_reorder_level_of_a_sku_on_sale(conn, on_sale, available, reorder_level, low):
    answer = conn.execute("SELECT stockline_low_stock(%s, %s, %s) AS low",
                          (on_sale, available, reorder_level)).fetchone()["low"]
    assert answer is low


ITEMS = """
    CREATE TEMP TABLE items AS SELECT * FROM (VALUES
        (1, 'Plain', 'Maker', 'About it', 10, 'SKU-000010', '10', 'tablet', 12.5, 40, DATE '2030-01-31', false,
         11.25, 22.5, 10, 7, 24, 15),
        (2, E'Odd "q" \\\\ \\n\\t é ☃ ''x''', NULL, NULL, 11, NULL, '20 "big"', 'box', 0.01, 0, NULL, true,
         0, 0, 0, NULL, NULL, NULL),
        (3, 'Big', 'M', '', 12, 'X', '1', 'unit', 1234567.89, 5, DATE '2031-12-01', true,
         1234567.89, 2469135.78, 0, NULL, 1, 7.5)
    ) AS v (product_id, product_name, manufacturer, description, sku_id, sku_code, package_size, unit_type,
            base_price, total_on_hand, earliest_expiry, low_stock, unit_price, line_total, discount_percentage,
            rule_id, next_tier_min_quantity, next_tier_discount)
"""


def test_the_catalog_items_parts_print_what_row_to_json_printed(conn):
    """The item as the listing rendered it before the parts were functions (row_to_json of
    the fields, in API order), against head || stock || tail."""
    conn.execute(ITEMS)
    rows = conn.execute("""
        SELECT row_to_json(item)::text AS before,
               stockline_catalog_item_head(v.product_id, v.product_name, v.manufacturer, v.description, v.sku_id,
                                           v.sku_code, v.package_size, v.unit_type, v.base_price)
               || stockline_catalog_item_stock(v.total_on_hand, v.earliest_expiry, v.low_stock)
               || stockline_catalog_item_tail(v.base_price, v.unit_price, v.line_total, v.discount_percentage,
                                              v.rule_id, v.next_tier_min_quantity, v.next_tier_discount) AS now
        FROM items AS v
        CROSS JOIN LATERAL (
            SELECT v.product_id, v.product_name, v.manufacturer, v.description, v.sku_id, v.sku_code,
                   v.package_size, v.unit_type, round(v.base_price, 2)::text AS base_price, v.total_on_hand,
                   v.earliest_expiry, v.low_stock, round(v.unit_price, 2)::text AS effective_price,
                   round(v.line_total, 2)::text AS line_total,
                   round(v.discount_percentage, 2)::text AS discount_percentage, v.rule_id AS applied_rule_id,
                   (SELECT row_to_json(tier) FROM (
                        SELECT v.next_tier_min_quantity AS min_quantity,
                               round(v.next_tier_discount, 2)::text AS discount_percentage,
                               round(v.base_price * (100 - v.next_tier_discount) / 100, 2)::text AS effective_price
                    ) AS tier WHERE v.next_tier_min_quantity IS NOT NULL) AS next_tier
        ) AS item
        ORDER BY v.product_id""").fetchall()
    assert len(rows) == 3
    for row in rows:
        assert row["now"] == row["before"]
    conn.execute("SET DateStyle = 'SQL, DMY'")  # dates stay ISO 8601 whatever the session's style
    again = conn.execute("""
        SELECT stockline_catalog_item_stock(v.total_on_hand, v.earliest_expiry, v.low_stock) AS stock
        FROM items AS v ORDER BY v.product_id""").fetchall()
    assert again[0]["stock"] == '"total_on_hand":40,"earliest_expiry":"2030-01-31","low_stock":false'


def _sold_within(conn, days: int) -> int:
    """Order items drawn from a batch that was not sellable on the order's day with `days`
    of minimum shelf life."""
    return conn.execute("""
        SELECT count(*) FROM Order_Items AS i
        JOIN Orders AS o USING (order_id)
        JOIN Inventory_Batches AS b USING (batch_id)
        WHERE NOT stockline_sellable(i.quantity_ordered, b.expiry_date,
                                     (o.order_date AT TIME ZONE 'UTC')::date + %s, false)""", (days,)).fetchone()[0]


HISTORY = SeedSettings(customers=20, products=15, skus=60, batches=600, pricing_rules=10, orders=300, seed=13)


def test_seeded_history_sells_by_the_minimum_shelf_life(clean_db):
    with db.connect(clean_db) as conn:
        run_seed(conn, HISTORY, out=io.StringIO(), settings=Settings(min_shelf_life_days=30))
        assert conn.execute("SELECT count(*) FROM Orders").fetchone()[0] == HISTORY.orders
        assert _sold_within(conn, 30) == 0


def test_without_a_shelf_life_history_sells_batches_close_to_expiry(clean_db):
    """The same seed without the shelf life does sell such batches: the test above is no
    accident of the data."""
    with db.connect(clean_db) as conn:
        run_seed(conn, HISTORY, out=io.StringIO(), settings=Settings(min_shelf_life_days=0))
        assert _sold_within(conn, 0) == 0
        assert _sold_within(conn, 30) > 0
