"""The hot queries keep their plans with the stock rules written once as SQL functions
(db/schema.sql): the planner inlines stockline_sellable / stockline_expired /
stockline_low_stock and the catalog item's parts (EXPLAIN VERBOSE names none of them, and
shows the expanded expressions), plans each query exactly as with the rule written out (same
plan, same cost), and per-SKU stock lookups read the FEFO index, never scan Inventory_Batches.
On a seeded, analysed database; generic plans (what prepared statements settle on, and
what stockline_place_order's statements use) on PostgreSQL 16+."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from stockline import db
from stockline.catalog import service as catalog
from stockline.catalog.admin import service as catalog_admin
from stockline.config import SeedSettings
from stockline.inventory import ledger
from stockline.inventory.batches import service as batches
from stockline.inventory.stock import service as stock
from stockline.kernel.expiry import business_day
from stockline.ordering import cart
from stockline.seeding.service import run_seed
from tests.conftest import create_database, drop_database

RULES = ("stockline_sellable", "stockline_expired", "stockline_low_stock", "stockline_catalog_item")
FEFO = "inventory_batches_fefo_idx"
_ARG = r"((?:%\(\w+\)s|[^,()])+)"  # a rule's argument: a column or a %(name)s parameter
_WRITTEN_OUT = (  # each rule as its function body says, for queries passing plain arguments
    (re.compile(rf"stockline_sellable\({_ARG}, {_ARG}, {_ARG}\)"), r"(\1 > 0 AND \2 > \3)"),
    (re.compile(rf"stockline_expired\({_ARG}, {_ARG}\)"), r"(\1 <= \2)"),
)


@pytest.fixture(scope="module")
def planned(server_url: str) -> Iterator[psycopg.Connection]:
    """A database with the seed's default shape at a smaller scale, a cart, and fresh
    statistics (as autovacuum leaves a live one)."""
    url = create_database(server_url, prefix="stockline_plans")
    try:
        with db.connect(url) as conn:
            db.apply_schema(conn)
            run_seed(conn, SeedSettings(customers=20, products=100, skus=600, batches=6000, pricing_rules=20,
                                        seed=3), out=io.StringIO())
            conn.execute("INSERT INTO Users (customer_id, username, password_hash) VALUES (1, 'plans', 'x')")
            conn.execute("INSERT INTO Carts (user_id) SELECT user_id FROM Users WHERE username = 'plans'")
            conn.execute("INSERT INTO Cart_Items (cart_id, sku_id, quantity) "
                         "SELECT c.cart_id, s, 2 FROM Carts AS c, generate_series(1, 40, 3) AS s")
            conn.execute("VACUUM ANALYZE")
        with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
            yield conn
    finally:
        drop_database(url)


def _params(conn: psycopg.Connection) -> dict[str, Any]:
    today = business_day()
    skus = [row["sku_id"] for row in conn.execute(
        "SELECT sku_id FROM Product_SKUs WHERE is_active ORDER BY sku_id LIMIT 50")]
    user = conn.execute("SELECT user_id, customer_id FROM Users WHERE username = 'plans'").fetchone()
    return {"today": today, "sellable_after": today, "expiring_by": today + timedelta(days=30),
            "customer_id": user["customer_id"], "user_id": user["user_id"], "cart_id": 1, "quantity": 1,
            "manufacturer": None, "patterns": [], "in_stock": None, "low_stock": None, "sort": "product",
            "limit": 50, "offset": 0, "sku_ids": skus, "reorder_levels": [10] * len(skus), "sku_id": skus[7],
            "codes": ["sku-000001", "sku-000002"], "product_id": None, "active": None, "filter": None}


def _generic(sql: str) -> str:
    """The query with $n placeholders, for EXPLAIN (GENERIC_PLAN)."""
    names: list[str] = []

    def number(match: re.Match) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return re.sub(r"%\((\w+)\)s", number, sql)


def explain(conn: psycopg.Connection, sql: str, params: dict[str, Any], *, generic: bool = False) -> dict:
    """The plan's top node (custom: planned for `params`; generic: for any parameters)."""
    if generic:
        if conn.info.server_version < 160000:
            pytest.skip("EXPLAIN (GENERIC_PLAN) needs PostgreSQL 16")
        row = conn.execute("EXPLAIN (GENERIC_PLAN, VERBOSE, FORMAT JSON) " + _generic(sql)).fetchone()
    else:
        row = conn.execute("EXPLAIN (VERBOSE, FORMAT JSON) " + sql, params).fetchone()
    return row["QUERY PLAN"][0]["Plan"]


def nodes(plan: dict) -> Iterator[dict]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def batch_scans(plan: dict) -> list[dict]:
    """The plan's nodes that read Inventory_Batches (its heap or one of its indexes)."""
    return [node for node in nodes(plan)
            if node.get("Relation Name") == "inventory_batches"
            or (node.get("Index Name") or "").startswith("inventory_batches")]


def shape(plan: dict) -> list[tuple]:
    return [(node["Node Type"], node.get("Index Name") or node.get("Relation Name"), node["Total Cost"],
             node["Plan Rows"]) for node in nodes(plan)]


def assert_inlined(plan: dict) -> None:
    text = json.dumps(plan)
    assert not [rule for rule in RULES if rule in text], text


# (query file's module, query, parameters over the defaults): a SKU's stock, from the FEFO index
PER_SKU = [
    (catalog, "page_stock", {}),
    (catalog, "sku_detail", {}),
    (catalog, "sellable_batches", {}),
    (cart, "cart_lines", {}),
    (cart, "cart_additions", {}),
    (cart, "skus_by_code", {}),
    (ledger, "available_stock", {}),
    (catalog_admin, "skus_page", {}),
    (catalog_admin, "sku", {}),
]
# every query the rules or the item's parts appear in that a page or an order runs
HOT = [*PER_SKU,
       (catalog, "page_by_product", {}), (catalog, "page_by_product", {"sort": "name"}),
       (catalog, "page_by_stock_or_price", {"sort": "price"}),
       (catalog, "page_by_stock_or_price", {"low_stock": True}),
       (stock, "inventory_page", {}), (stock, "inventory_page", {"sku_id": None, "filter": "low_stock"}),
       (stock, "inventory_page", {"sku_id": None, "filter": "expiring"}),
       (stock, "inventory_page", {"sku_id": None, "filter": "expired"}),
       (batches, "expired_with_stock", {}), (batches, "expired_stock_summary", {})]


def _id(case: tuple) -> str:
    module, name, extra = case
    return f"{module.__name__.removeprefix('stockline.')}:{name}" + "".join(f",{k}={v}" for k, v in extra.items())


@pytest.mark.parametrize("generic", [False, True], ids=["custom", "generic"])
@pytest.mark.parametrize("case", HOT, ids=_id)
def test_the_rules_are_inlined_and_plan_as_written_out(planned, case, generic):
    module, name, extra = case
    sql = module.Q[name].sql
    params = _params(planned) | extra
    plan = explain(planned, sql, params, generic=generic)
    assert_inlined(plan)
    written_out = sql
    for call, body in _WRITTEN_OUT:
        written_out = call.sub(body, written_out)
    if written_out != sql:
        assert shape(explain(planned, written_out, params, generic=generic)) == shape(plan)


@pytest.mark.parametrize("generic", [False, True], ids=["custom", "generic"])
@pytest.mark.parametrize("case", PER_SKU, ids=_id)
def test_a_skus_stock_is_read_from_the_fefo_index(planned, case, generic):
    module, name, extra = case
    plan = explain(planned, module.Q[name].sql, _params(planned) | extra, generic=generic)
    scans = batch_scans(plan)
    assert scans, "the query reads no batch"
    assert all(node["Node Type"] != "Seq Scan" for node in scans), scans
    index_conditions = [node["Index Cond"] for node in scans if node.get("Index Name") == FEFO]
    assert index_conditions and all("expiry_date >" in cond for cond in index_conditions), scans


def test_placing_an_order_allocates_from_the_fefo_index(planned):
    """stockline_place_order's FEFO statement, as its plpgsql runs it: a generic plan."""
    source = planned.execute("SELECT prosrc FROM pg_proc WHERE proname = 'stockline_place_order' "  # the plpgsql form
                             "AND prolang = (SELECT oid FROM pg_language WHERE lanname = 'plpgsql')").fetchone()
    statement = re.search(r"FOR v_batch IN\s+(SELECT .*?)\s+LOOP", source["prosrc"], re.DOTALL).group(1)
    assert "stockline_sellable(" in statement
    params = _params(planned)
    plans = []
    for text in (statement, _WRITTEN_OUT[0][0].sub(_WRITTEN_OUT[0][1], statement)):
        sql = text.replace("v_line.sku_id", "$1").replace("p_sellable_after", "$2").replace("p_batch_id", "$3")
        planned.execute("DEALLOCATE ALL")
        planned.execute(f"PREPARE fefo (integer, date, integer) AS {sql}")
        planned.execute("SET plan_cache_mode = force_generic_plan")
        try:
            row = psycopg.ClientCursor(planned).execute(
                "EXPLAIN (VERBOSE, FORMAT JSON) EXECUTE fefo(%s, %s, NULL)",
                (params["sku_id"], params["sellable_after"])).fetchone()
        finally:
            planned.execute("RESET plan_cache_mode")
            planned.execute("DEALLOCATE fefo")
        plans.append(row["QUERY PLAN"][0]["Plan"])
    plan, written_out = plans
    assert_inlined(plan)
    assert shape(plan) == shape(written_out)
    scans = batch_scans(plan)
    assert [node["Index Name"] for node in scans if "Index Name" in node] == [FEFO], scans
    assert all(node["Node Type"] != "Seq Scan" for node in scans)


def test_the_common_listing_reads_the_page_in_index_order(planned):
    plan = explain(planned, catalog.Q["page_by_product"].sql, _params(planned))
    assert "product_skus_product_idx" in {node.get("Index Name") for node in nodes(plan)}


@pytest.mark.parametrize("name", ["expired_with_stock", "expired_stock_summary"])
def test_expired_stock_is_found_by_the_expiry_index(planned, name):
    plan = explain(planned, batches.Q[name].sql, _params(planned))
    assert {node.get("Index Name") for node in batch_scans(plan)} >= {"inventory_batches_expiry_idx"}
    assert any("expiry_date <=" in node.get("Index Cond", "") for node in batch_scans(plan))


def test_the_inventory_page_of_one_sku_reads_its_batches_by_index(planned):
    plan = explain(planned, stock.Q["inventory_page"].sql, _params(planned))
    scans = batch_scans(plan)
    assert scans and all(node["Node Type"] != "Seq Scan" for node in scans), scans
