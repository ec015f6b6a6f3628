"""The scale-data generator: the seed procedure's commands word for word, top-up and
append, reproducibility, the batch mix, the ledger, and order history."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from decimal import Decimal

import pytest

from stockline import db
from stockline.config import SeedSettings
from stockline.invariants import check_invariants
from stockline.kernel.expiry import business_day
from stockline.pricing.rules import PricingRule, price_line
from stockline.seeding import demo
from stockline.seeding.service import run_seed
from stockline.tax.rules import line_tax
from tests.conftest import REPO, create_database, drop_database

SMALL = SeedSettings(customers=50, products=20, skus=120, batches=900, chunk_size=250, seed=11)
PROCEDURE_ENV = {"SCALE_CUSTOMERS": "50", "SCALE_PRODUCTS": "20", "SCALE_SKUS": "120",
                 "SCALE_BATCHES": "900"}
COUNT_QUERIES = [  # step 4, verbatim
    ("customers", 'SELECT COUNT(*) AS customers FROM Customers;', 50),
    ("customer_users", "SELECT COUNT(*) AS customer_users FROM Users WHERE role='customer';", None),
    ("products", 'SELECT COUNT(*) AS products FROM Products;', 20),
    ("skus", 'SELECT COUNT(*) AS skus FROM Product_SKUs;', 120),
    ("batches", 'SELECT COUNT(*) AS batches FROM Inventory_Batches;', 900),
]
TRUNCATE = ("TRUNCATE Order_Items, Orders, Cart_Items, Carts, Inventory_Batches, Product_SKUs, Products, "
            "Users, Customers RESTART IDENTITY CASCADE;")


def seed(url: str, plan: SeedSettings = SMALL):
    with db.connect(url) as conn:
        return run_seed(conn, plan, out=io.StringIO())


def counts(url: str) -> dict[str, int]:
    with db.connect(url) as conn:
        return db.seed_counts(conn)


def psql(url: str, *args: str) -> str:
    done = subprocess.run([str(db.psql_executable()), url, "-v", "ON_ERROR_STOP=1", "-tA", *args],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def run_script(url: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environment = {"PATH": os.environ.get("PATH", ""), "DATABASE_URL": url, **(env or {})}
    done = subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True,
                          timeout=300, env=environment)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    return done


def test_the_procedure_word_for_word(clean_db):
    psql(clean_db, "-q", "-f", str(REPO / "db" / "schema.sql"))  # step 1 on an existing schema
    run_script(clean_db, "db/generate_scale_data.py", env=PROCEDURE_ENV)
    for _name, query, expected in COUNT_QUERIES:
        value = int(psql(clean_db, "-c", query))
        if expected is not None:
            assert value == expected, query
    psql(clean_db, "-c", "INSERT INTO Pricing_Rules(sku_id, customer_id, min_quantity, discount_percentage) "
                         "VALUES (NULL, NULL, 10, 3.5);")
    assert psql(clean_db, "-c", "SELECT min_quantity, discount_percentage FROM Pricing_Rules") == "10|3.50"
    # cleanup / reset, then steps 2-4 again give the same counts
    psql(clean_db, "-c", TRUNCATE)
    assert set(counts(clean_db).values()) == {0}
    assert psql(clean_db, "-c", "SELECT count(*) FROM Stock_Movements") == "0"
    run_script(clean_db, "db/generate_scale_data.py", env=PROCEDURE_ENV)
    assert counts(clean_db) == {"customers": 50, "customer_users": 0, "products": 20, "skus": 120,
                                "batches": 900}
    assert psql(clean_db, "-c", "SELECT min(customer_id) FROM Customers") == "1"  # identity restarted


def test_a_second_run_tops_up_nothing(clean_db):
    first = seed(clean_db)
    assert [t.rows for t in first.tables] == [50, 20, 120, 900]
    again = seed(clean_db, SeedSettings(customers=50, products=20, skus=120, batches=900))
    assert again.tables == []
    assert counts(clean_db)["batches"] == 900


def test_top_up_adds_only_the_difference(clean_db):
    seed(clean_db)
    report = seed(clean_db, SeedSettings(customers=60, products=20, skus=150, batches=1000, seed=3))
    assert {t.table: t.rows for t in report.tables} == {"customers": 10, "product_skus": 30,
                                                        "inventory_batches": 100}
    assert counts(clean_db) == {"customers": 60, "customer_users": 0, "products": 20, "skus": 150,
                                "batches": 1000}


def test_append_mode_adds_the_full_amounts(clean_db):
    seed(clean_db)
    seed(clean_db, SeedSettings(customers=50, products=20, skus=120, batches=900, append=True, seed=12))
    assert counts(clean_db) == {"customers": 100, "customer_users": 0, "products": 40, "skus": 240,
                                "batches": 1800}


def _fingerprint(url: str) -> dict[str, str]:
    tables = {
        "customers": "SELECT * FROM Customers ORDER BY customer_id",
        "products": "SELECT * FROM Products ORDER BY product_id",
        "skus": "SELECT * FROM Product_SKUs ORDER BY sku_id",
        "batches": "SELECT * FROM Inventory_Batches ORDER BY batch_id",
        "ledger": "SELECT batch_id, quantity_delta, reason, note, order_id FROM Stock_Movements "
                  "ORDER BY movement_id",
        "orders": "SELECT order_id, customer_id, order_date, status, total_amount FROM Orders ORDER BY 1",
        "rules": "SELECT sku_id, customer_id, min_quantity, discount_percentage FROM Pricing_Rules "
                 "ORDER BY rule_id",
    }
    with db.connect(url) as conn:
        return {name: conn.execute(  # created_at columns default to now(); leave them out
            f"SELECT md5(string_agg((to_jsonb(t) - 'created_at')::text, '|')) FROM ({query}) t"  # noqa: S608
        ).fetchone()[0] for name, query in tables.items()}


def test_the_same_seed_gives_the_same_data(server_url, clean_db):
    plan = SeedSettings(customers=30, products=10, skus=50, batches=300, pricing_rules=20, orders=40,
                        chunk_size=70, seed=2024)
    other = create_database(server_url, "stockline_seedcheck")
    try:
        with db.connect(other) as conn:
            db.apply_schema(conn)
        seed(clean_db, plan)
        seed(other, plan)
        first, second = _fingerprint(clean_db), _fingerprint(other)
        assert first == second
        seed_other = SeedSettings(**{**plan.__dict__, "seed": 2025, "append": True})
        seed(other, seed_other)
        assert _fingerprint(other)["batches"] != first["batches"]
    finally:
        drop_database(other)


def test_batch_mix_has_zero_stock_expired_and_expiring_rows(clean_db):
    seed(clean_db, SeedSettings(customers=5, products=40, skus=300, batches=4000, seed=5))
    with db.connect(clean_db) as conn:
        zero, expired, soon, above_base, total = conn.execute("""
            SELECT count(*) FILTER (WHERE quantity_on_hand = 0),
                   count(*) FILTER (WHERE expiry_date <= %(today)s),
                   count(*) FILTER (WHERE expiry_date > %(today)s AND expiry_date <= %(today)s::date + 30),
                   count(*) FILTER (WHERE cost_price > s.base_price),
                   count(*)
            FROM Inventory_Batches JOIN Product_SKUs AS s USING (sku_id)""", {"today": business_day()}).fetchone()
    assert total == 4000
    assert 0.07 < zero / total < 0.13
    assert 0.015 < expired / total < 0.045
    assert 0.05 < soon / total < 0.095
    assert 0.01 < above_base / total < 0.08


def test_rows_look_like_a_pharmaceutical_catalog(clean_db):
    seed(clean_db, SeedSettings(customers=20, products=30, skus=90, batches=200, seed=9))
    with db.connect(clean_db) as conn:
        products = conn.execute("SELECT name, manufacturer, category FROM Products").fetchall()
        skus = conn.execute("SELECT sku_code, package_size, unit_type, base_price FROM Product_SKUs"
                            ).fetchall()
        batch_nos = [r[0] for r in conn.execute("SELECT batch_no FROM Inventory_Batches")]
        types = {r[0] for r in conn.execute("SELECT DISTINCT customer_type FROM Customers")}
    assert all(any(ch.isdigit() for ch in name) for name, _, _ in products)  # strengths
    assert all(manufacturer and category for _, manufacturer, category in products)
    assert all(price >= Decimal("0.50") and code and unit for code, _, unit, price in skus)
    assert {"tablet", "capsule"} & {unit for _, _, unit, _ in skus}
    assert all(len(b) == 9 and b[0].isalpha() and b[1:3].isdigit() for b in batch_nos)
    assert "pharmacy" in types


def test_the_ledger_holds_after_seeding_with_history(clean_db):
    seed(clean_db, SeedSettings(customers=40, products=15, skus=80, batches=600, pricing_rules=30,
                                orders=150, seed=21))
    with db.connect(clean_db) as conn:
        assert all(result.holds for result in check_invariants(conn))
        receipts = conn.execute("SELECT count(*) FROM Stock_Movements WHERE reason = 'receipt'").fetchone()[0]
        batches_ever_stocked = conn.execute(
            "SELECT count(DISTINCT batch_id) FROM Stock_Movements WHERE reason = 'receipt'").fetchone()[0]
        assert receipts == batches_ever_stocked > 0
        assert conn.execute("SELECT count(*) FROM Orders").fetchone()[0] == 150
        assert conn.execute("SELECT count(*) FROM Pricing_Rules").fetchone()[0] == 30


def test_the_procedure_leaves_every_sku_zero_rated_and_its_orders_untaxed(clean_db):
    seed(clean_db, SeedSettings(customers=20, products=10, skus=30, batches=200, orders=60, seed=5))
    with db.connect(clean_db) as conn:
        assert conn.execute("SELECT array_agg(DISTINCT tax_class) FROM Product_SKUs").fetchone()[0] == ["zero"]
        assert conn.execute("SELECT array_agg(tax_class) FROM Tax_Classes").fetchone()[0] == ["zero"]
        taxed = conn.execute("SELECT count(*) FROM Order_Items WHERE tax_rate <> 0 OR tax_amount <> 0").fetchone()[0]
        assert taxed == 0 and conn.execute("SELECT sum(tax_amount) FROM Orders").fetchone()[0] == 0


def test_the_demo_taxes_medicines_reduced_other_goods_standard_and_its_orders_as_sold(clean_db, tmp_path,
                                                                                     monkeypatch):
    monkeypatch.setattr(demo, "DEMO_PLAN", SeedSettings(customers=10, products=60, skus=150, batches=900,
                                                        pricing_rules=10, orders=300, seed=3))
    with db.connect(clean_db) as conn:
        assert demo.seed_demo(conn, tmp_path, io.StringIO()) is not None
        rates = conn.execute("SELECT tax_class, stockline_tax_rate(tax_class, %s) FROM Tax_Classes ORDER BY 1",
                             (business_day(),)).fetchall()
        assert rates == [("reduced", Decimal("5.00")), ("standard", Decimal("20.00")), ("zero", Decimal("0.00"))]
        classes = conn.execute(
            "SELECT p.category = ANY(%s), array_agg(DISTINCT s.tax_class ORDER BY s.tax_class) "
            "FROM Product_SKUs AS s JOIN Products AS p USING (product_id) GROUP BY 1 ORDER BY 1",
            (list(demo.STANDARD_RATED_CATEGORIES),)).fetchall()
        assert classes == [(False, ["reduced"]), (True, ["standard"])]
        # every line at its SKU's rate of the order's day, as stockline_place_order() taxes a sale
        lines = conn.execute("""
            SELECT i.tax_rate, i.tax_amount, i.sale_price * i.quantity_ordered AS net,
                   stockline_tax_rate(s.tax_class, (o.order_date AT TIME ZONE 'UTC')::date) AS rate_then
            FROM Order_Items AS i JOIN Orders AS o USING (order_id) JOIN Product_SKUs AS s USING (sku_id)""").fetchall()
        assert all(rate == rate_then and tax == line_tax(net, rate) for rate, tax, net, rate_then in lines)
        assert {rate for rate, *_ in lines} == {Decimal("5.00"), Decimal("20.00")}
        assert all(result.holds for result in check_invariants(conn))  # orders' tax = the sum of their lines'


def test_the_demos_shipped_orders_are_invoiced_in_order_and_mostly_paid(clean_db, tmp_path, monkeypatch):
    monkeypatch.setattr(demo, "DEMO_PLAN", SeedSettings(customers=10, products=60, skus=150, batches=900,
                                                        pricing_rules=10, orders=300, seed=3))
    seller = {"name": "Demo Wholesale", "address": None, "tax_id": "GB1"}
    with db.connect(clean_db) as conn:
        assert demo.seed_demo(conn, tmp_path, io.StringIO(), seller=seller) is not None
        shipped, invoiced = conn.execute(
            "SELECT count(*) FILTER (WHERE status = 'shipped'), "
            "count(*) FILTER (WHERE EXISTS (SELECT 1 FROM Invoices AS i WHERE i.order_id = o.order_id)) "
            "FROM Orders AS o").fetchone()
        assert shipped > 50 and invoiced == shipped
        # numbered as they shipped: by issue day, each year's numbers from 1 without a gap
        rows = conn.execute("SELECT series_year, series_number, issued_on, seller FROM Invoices "
                            "ORDER BY series_year, series_number").fetchall()
        assert [row[2] for row in rows] == sorted(row[2] for row in rows)
        for year in {row[0] for row in rows}:
            assert [row[1] for row in rows if row[0] == year] == list(range(1, 1 + sum(r[0] == year for r in rows)))
        assert {row[3]["name"] for row in rows} == {"Demo Wholesale"}
        statuses = dict(conn.execute(
            "SELECT stockline_invoice_status(gross_amount, amount_paid, amount_credited, due_on, %s), count(*) "
            "FROM Invoices GROUP BY 1", (business_day(),)).fetchall())
        assert statuses["paid"] > statuses.get("overdue", 0) > 0 and statuses.get("open", 0) > 0
        assert all(result.holds for result in check_invariants(conn)), [
            r.name for r in check_invariants(conn) if not r.holds]


def test_order_history_is_fefo_priced_and_never_from_expired_stock(clean_db):
    seed(clean_db, SeedSettings(customers=30, products=10, skus=40, batches=400, pricing_rules=40,
                                orders=200, seed=8))
    with db.connect(clean_db) as conn:
        bad_batches = conn.execute("""
            SELECT count(*) FROM Order_Items i JOIN Orders o USING (order_id)
            JOIN Inventory_Batches b USING (batch_id)
            WHERE b.expiry_date <= o.order_date::date OR b.received_at > o.order_date
               OR b.sku_id <> i.sku_id""").fetchone()[0]
        assert bad_batches == 0
        wrong_totals = conn.execute("""
            SELECT count(*) FROM Orders o
            WHERE o.total_amount <> (SELECT sum(quantity_ordered * sale_price) FROM Order_Items
                                     WHERE order_id = o.order_id)""").fetchone()[0]
        assert wrong_totals == 0
        statuses = {r[0] for r in conn.execute("SELECT DISTINCT status FROM Orders")}
        assert {"shipped", "pending"} <= statuses
        rules = [PricingRule(*r) for r in conn.execute(
            "SELECT rule_id, sku_id, customer_id, min_quantity, discount_percentage, valid_from, valid_to "
            "FROM Pricing_Rules")]
        lines = conn.execute("""
            SELECT o.customer_id, i.sku_id, i.base_price, sum(i.quantity_ordered)::int, o.order_date::date,
                   min(i.sale_price), min(i.discount_percentage), min(i.pricing_rule_id)
            FROM Order_Items i JOIN Orders o USING (order_id)
            GROUP BY o.order_id, o.customer_id, i.sku_id, i.base_price, o.order_date""").fetchall()
        for customer_id, sku_id, base, quantity, on, sale_price, discount, rule_id in lines:
            price = price_line(customer_id=customer_id, sku_id=sku_id, base_price=base, quantity=quantity,
                               on=on, rules=rules)
            charged = (sale_price, discount, rule_id)
            assert (price.unit_price, price.discount_percentage, price.rule_id) == charged
        assert any(rule_id is not None for *_, rule_id in lines)
        cancelled_net = conn.execute("""
            SELECT coalesce(sum(m.quantity_delta), 0) FROM Stock_Movements m JOIN Orders o USING (order_id)
            WHERE o.status = 'cancelled'""").fetchone()[0]
        assert cancelled_net == 0  # every cancelled unit went back


def test_duplicate_batch_numbers_are_skipped_not_fatal(clean_db):
    seed(clean_db, SeedSettings(customers=1, products=2, skus=3, batches=10, seed=4))
    with db.connect(clean_db) as conn:
        from stockline.seeding.service import Q, write_batches

        existing = conn.execute(
            "SELECT sku_id, batch_no, expiry_date, quantity_on_hand, cost_price, received_at "
            "FROM Inventory_Batches ORDER BY batch_id LIMIT 1").fetchone()
        fresh = (existing[0], "ZZ99X00001", *existing[2:])
        conn.execute(Q["create_batch_stage"].sql)
        ids = conn.execute(Q["reserve_batch_and_movement_ids"].sql, {"batches": 2, "receipts": 2}).fetchone()
        assert write_batches(conn, [tuple(existing), fresh], *ids) == 1
        assert all(result.holds for result in check_invariants(conn))
    assert counts(clean_db)["batches"] == 11


def test_skus_without_products_is_a_clear_error(clean_db, monkeypatch, capsys):
    from stockline.cli import main

    monkeypatch.setenv("DATABASE_URL", clean_db)
    assert main(["seed", "--customers", "0", "--products", "0", "--skus", "5", "--batches", "0"]) == 1
    assert "SKUs need products" in capsys.readouterr().err


def test_cli_flags_override_the_environment(clean_db, monkeypatch, capsys):
    from stockline.cli import main

    monkeypatch.setenv("DATABASE_URL", clean_db)
    monkeypatch.setenv("SCALE_CUSTOMERS", "500")
    assert main(["seed", "--customers", "7", "--products", "3", "--skus", "6", "--batches", "12",
                 "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "customers 7" in out and "batches 12" in out and "seed 1 " in out
    assert counts(clean_db)["customers"] == 7


def test_chunk_size_comes_from_chunk_size_or_scale_chunk_size():
    assert SeedSettings.from_env({"CHUNK_SIZE": "500"}).chunk_size == 500
    assert SeedSettings.from_env({"CHUNK_SIZE": "500", "SCALE_CHUNK_SIZE": "250"}).chunk_size == 250
    assert SeedSettings.from_env({}).chunk_size == 1000
    plan = SeedSettings.from_env({"SCALE_APPEND": "1", "SCALE_SEED": "42", "SCALE_ORDERS": "9"})
    assert (plan.append, plan.seed, plan.orders, plan.customers, plan.batches) == (True, 42, 9, 500, 8000)


def test_progress_is_plain_lines_off_a_terminal(clean_db):
    out = io.StringIO()
    with db.connect(clean_db) as conn:
        run_seed(conn, SeedSettings(customers=400, products=2, skus=2, batches=0, chunk_size=100, seed=1),
                 out=out)
    lines = out.getvalue().splitlines()
    assert "customers: 100/400" in lines and "customers: 300/400" in lines
    assert any(line.startswith("customers: 400 rows in") for line in lines)
    assert "\r" not in out.getvalue()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_a_bar_on_a_terminal():
    from stockline.progress import Progress

    screen = _Terminal()
    progress = Progress("inventory_batches", 100, screen)
    progress.advance(40)
    progress.advance(60)
    progress.finish()
    drawn = screen.getvalue()
    assert drawn.startswith("\r  inventory_batches")
    assert "[" + "#" * 28 + "]" in drawn and "100/100" in drawn and drawn.endswith("\n")


def test_a_zero_chunk_size_is_refused(capsys):
    from stockline.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["seed", "--chunk-size", "0"])
    assert exited.value.code == 2
    assert "must be at least 1" in capsys.readouterr().err


def test_the_demo_has_suppliers_for_every_sku_and_a_sent_purchase_order_on_the_way(clean_db, tmp_path,
                                                                                  monkeypatch):
    monkeypatch.setattr(demo, "DEMO_PLAN", SeedSettings(customers=5, products=20, skus=40, batches=200,
                                                        pricing_rules=5, orders=50, seed=5))
    with db.connect(clean_db) as conn:
        assert demo.seed_demo(conn, tmp_path, io.StringIO()) is not None
        per_sku = conn.execute("SELECT count(*), count(*) FILTER (WHERE is_preferred) FROM Supplier_SKUs "
                               "GROUP BY sku_id").fetchall()
        assert len(per_sku) == 40 and set(per_sku) == {(2, 1)}
        orders = conn.execute(
            "SELECT o.status, o.expected_on - (o.sent_at AT TIME ZONE 'UTC')::date = s.lead_time_days, count(l.*) "
            "FROM Purchase_Orders AS o JOIN Suppliers AS s USING (supplier_id) "
            "JOIN Purchase_Order_Lines AS l USING (po_id) GROUP BY o.po_id, s.lead_time_days ORDER BY 1").fetchall()
        assert [(status, lines > 0) for status, _, lines in orders] == [("draft", True), ("sent", True)]
        assert orders[1][1] is True  # due the supplier's lead time after it was sent
        incoming = conn.execute("SELECT sum(incoming) FROM Incoming_Stock").fetchone()[0]
        lines = conn.execute("SELECT sum(quantity_ordered) FROM Purchase_Order_Lines").fetchone()[0]
        assert incoming == lines  # drafts and sent orders alike are on their way
        assert all(result.holds for result in check_invariants(conn))
