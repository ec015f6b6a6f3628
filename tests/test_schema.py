"""db/schema.sql: idempotent, complete, and every constraint of the data model bites."""

from __future__ import annotations

import subprocess

import psycopg
import pytest

from stockline import db
from tests.conftest import REPO

SNAPSHOT_SQL = """
SELECT 'column' AS kind, table_name || '.' || column_name AS name,
       data_type || coalesce(column_default, '') || is_nullable AS definition
FROM information_schema.columns WHERE table_schema = 'public'
UNION ALL
SELECT 'constraint', conrelid::regclass::text || '.' || conname, pg_get_constraintdef(oid)
FROM pg_constraint WHERE connamespace = 'public'::regnamespace
UNION ALL
SELECT 'index', indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'
UNION ALL
SELECT 'trigger', tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal
ORDER BY 1, 2
"""


def snapshot(conn: psycopg.Connection) -> list[tuple]:
    return [tuple(row.values()) for row in conn.execute(SNAPSHOT_SQL).fetchall()]


def test_schema_applies_twice_and_changes_nothing_the_second_time(empty_database):
    with db.connect(empty_database, row_factory=psycopg.rows.dict_row) as conn:
        db.apply_schema(conn)
        first = snapshot(conn)
        db.apply_schema(conn)
        assert snapshot(conn) == first
        assert db.missing_tables(conn) == []


RULE_FUNCTIONS = {"stockline_sellable", "stockline_expired", "stockline_low_stock", "stockline_catalog_item_head",
                  "stockline_catalog_item_stock", "stockline_catalog_item_tail"}
OBJECTS_SQL = """
SELECT 'function ' || p.oid::regprocedure::text AS name FROM pg_proc AS p
WHERE p.pronamespace = 'public'::regnamespace
UNION ALL
SELECT 'sequence ' || c.relname FROM pg_class AS c
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'S'
"""


def objects(conn: psycopg.Connection) -> set[str]:
    return {row["name"] for row in conn.execute(OBJECTS_SQL).fetchall()}


def test_drop_schema_drops_every_function_and_sequence_the_schema_creates(empty_database):
    with db.connect(empty_database, row_factory=psycopg.rows.dict_row) as conn:
        db.apply_schema(conn)
        created = objects(conn)
        assert {name.split("(")[0].removeprefix("function ") for name in created} >= RULE_FUNCTIONS
        db.drop_schema(conn)
        assert objects(conn) == set()
        db.apply_schema(conn)
        assert objects(conn) == created


def test_a_database_from_before_the_rule_functions_gains_them_when_the_schema_is_applied(empty_database):
    with db.connect(empty_database, row_factory=psycopg.rows.dict_row) as conn:
        db.apply_schema(conn)
        ids = seed_minimal(conn)
        for name in RULE_FUNCTIONS:  # as an older database has it
            conn.execute(f"DROP FUNCTION {name}")
        db.apply_schema(conn)
        assert {row["proname"] for row in conn.execute("SELECT proname FROM pg_proc")} >= RULE_FUNCTIONS
        placed = conn.execute("SELECT stockline_place_order(%s, %s, ARRAY[%s], ARRAY[2], NULL, current_date, "
                              "current_date)::json ->> 'outcome' AS outcome",
                              (ids["user_id"], ids["customer_id"], ids["sku_id"])).fetchone()
        assert placed["outcome"] == "placed"


def test_a_database_from_before_the_stock_side_catches_up_and_keeps_its_stock(empty_database):
    with db.connect(empty_database, row_factory=psycopg.rows.dict_row) as conn:
        db.apply_schema(conn)
        ids = seed_minimal(conn)
        stock = conn.execute("SELECT quantity_on_hand FROM Inventory_Batches").fetchone()["quantity_on_hand"]
        # the database as issue 17 left it: no suppliers, purchase orders, recalls or quarantine
        for table in ("batch_status_changes", "recall_batches", "purchase_order_lines", "purchase_orders",
                      "supplier_skus", "suppliers"):
            conn.execute(f"DROP TABLE {table} CASCADE")
        conn.execute("ALTER TABLE Returns DROP COLUMN recall_id")
        conn.execute("ALTER TABLE Stock_Movements DROP COLUMN po_line_id, DROP COLUMN recall_id")
        conn.execute("DROP TABLE recalls CASCADE")
        conn.execute("DROP INDEX inventory_batches_fefo_idx")
        conn.execute("ALTER TABLE Inventory_Batches DROP COLUMN quarantined")
        conn.execute("CREATE INDEX inventory_batches_fefo_idx ON Inventory_Batches (sku_id, expiry_date, batch_id) "
                     "INCLUDE (quantity_on_hand) WHERE quantity_on_hand > 0")
        conn.execute("DROP FUNCTION stockline_sellable(integer, date, date, boolean)")
        conn.execute("CREATE FUNCTION stockline_sellable(integer, date, date) RETURNS boolean LANGUAGE sql "
                     "AS 'SELECT $1 > 0 AND $2 > $3'")
        conn.execute("ALTER TABLE Stock_Movements DROP CONSTRAINT stock_movements_reason_valid, "
                     "ADD CONSTRAINT stock_movements_reason_valid CHECK (reason IN "
                     "('receipt', 'sale', 'cancel', 'adjustment', 'write_off', 'return'))")
        db.apply_schema(conn)
        assert db.missing_tables(conn) == []
        definition = conn.execute("SELECT indexdef FROM pg_indexes "
                                  "WHERE indexname = 'inventory_batches_fefo_idx'").fetchone()["indexdef"]
        assert "NOT quarantined" in definition
        functions = {row["f"] for row in conn.execute(
            "SELECT oid::regprocedure::text AS f FROM pg_proc WHERE proname = 'stockline_sellable'")}
        assert functions == {"stockline_sellable(integer,date,date,boolean)"}
        placed = conn.execute("SELECT stockline_place_order(%s, %s, ARRAY[%s], ARRAY[2], NULL, current_date, "
                              "current_date)::json ->> 'outcome' AS outcome",
                              (ids["user_id"], ids["customer_id"], ids["sku_id"])).fetchone()
        assert placed["outcome"] == "placed"
        assert conn.execute("SELECT quantity_on_hand FROM Inventory_Batches").fetchone()["quantity_on_hand"] == stock - 2


@pytest.mark.parametrize("psql", ["embedded", "system"])
def test_psql_runs_the_schema_file_twice(empty_database, psql):
    executable = str(db.psql_executable()) if psql == "embedded" else "psql"
    for _ in range(2):
        try:
            done = subprocess.run(
                [executable, empty_database, "-q", "-v", "ON_ERROR_STOP=1",
                 "-f", str(REPO / "db" / "schema.sql")],
                capture_output=True, text=True, timeout=60)
        except FileNotFoundError:
            pytest.skip("no system psql on this machine")
        assert done.returncode == 0, done.stderr
        assert "ERROR" not in done.stderr


def test_table_list_matches_the_schema(conn):
    tables = {row["tablename"] for row in conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert tables == set(db.TABLES)


def test_fefo_index_covers_batches_with_stock(conn):
    definition = conn.execute(
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'inventory_batches_fefo_idx'"
    ).fetchone()["indexdef"]
    assert "(sku_id, expiry_date, batch_id)" in definition
    assert "WHERE ((quantity_on_hand > 0) AND (NOT quarantined))" in definition


def test_seed_truncate_statement_cascades_to_the_ledger_and_rules(conn):
    ids = seed_minimal(conn)
    conn.execute("INSERT INTO Stock_Movements (batch_id, quantity_delta, reason) "
                 "VALUES (%s, 5, 'receipt')", (ids["batch_id"],))
    conn.execute("INSERT INTO Pricing_Rules(sku_id, customer_id, min_quantity, discount_percentage) "
                 "VALUES (NULL, NULL, 10, 3.5)")
    conn.execute("TRUNCATE Order_Items, Orders, Cart_Items, Carts, Inventory_Batches, Product_SKUs, "
                 "Products, Users, Customers RESTART IDENTITY CASCADE")
    # tax classes and their rates are configuration, not seeded data: they survive it
    for table in set(db.TABLES) - {"tax_classes", "tax_rates"}:
        assert conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"] == 0  # noqa: S608
    assert conn.execute("SELECT tax_class FROM Tax_Classes").fetchall() == [{"tax_class": "zero"}]


def seed_minimal(conn: psycopg.Connection) -> dict[str, int]:
    """One customer with a user, one product with one SKU and one batch."""
    customer_id = conn.execute(
        "INSERT INTO Customers (name) VALUES ('Central Pharmacy') RETURNING customer_id"
    ).fetchone()["customer_id"]
    user_id = conn.execute(
        "INSERT INTO Users (customer_id, username, password_hash, role) "
        "VALUES (%s, 'cust_1', 'x', 'customer') RETURNING user_id", (customer_id,)
    ).fetchone()["user_id"]
    product_id = conn.execute(
        "INSERT INTO Products (name, manufacturer) VALUES ('Amoxicillin 500 mg capsules', 'Sandoz') "
        "RETURNING product_id").fetchone()["product_id"]
    sku_id = conn.execute(
        "INSERT INTO Product_SKUs (product_id, package_size, unit_type, base_price) "
        "VALUES (%s, '3x10', 'capsule', 12.50) RETURNING sku_id", (product_id,)
    ).fetchone()["sku_id"]
    batch_id = conn.execute(
        "INSERT INTO Inventory_Batches (sku_id, batch_no, expiry_date, quantity_on_hand, cost_price) "
        "VALUES (%s, 'AMX-2401', current_date + 365, 5, 8.00) RETURNING batch_id", (sku_id,)
    ).fetchone()["batch_id"]
    order_id = conn.execute(
        "INSERT INTO Orders (customer_id, user_id) VALUES (%s, %s) RETURNING order_id",
        (customer_id, user_id)).fetchone()["order_id"]
    return {"customer_id": customer_id, "user_id": user_id, "product_id": product_id,
            "sku_id": sku_id, "batch_id": batch_id, "order_id": order_id}


def test_sku_code_is_generated_when_not_given(conn):
    ids = seed_minimal(conn)
    code = conn.execute("SELECT sku_code FROM Product_SKUs WHERE sku_id = %s",
                        (ids["sku_id"],)).fetchone()["sku_code"]
    assert code == f"SKU-{ids['sku_id']:06d}"


# (statement, the constraint that must reject it); {placeholders} come from seed_minimal
REJECTED = [
    ("UPDATE Inventory_Batches SET quantity_on_hand = -1 WHERE batch_id = {batch_id}",
     "inventory_batches_qty_nonneg"),
    ("UPDATE Inventory_Batches SET cost_price = -0.01 WHERE batch_id = {batch_id}",
     "inventory_batches_cost_nonneg"),
    ("INSERT INTO Inventory_Batches (sku_id, batch_no, expiry_date) "
     "VALUES ({sku_id}, 'AMX-2401', current_date)", "inventory_batches_sku_batch_no_key"),
    ("INSERT INTO Inventory_Batches (sku_id, batch_no, expiry_date) VALUES ({sku_id}, '  ', current_date)",
     "inventory_batches_batch_no_not_blank"),
    ("INSERT INTO Inventory_Batches (sku_id, batch_no, expiry_date) VALUES (999999, 'X1', current_date)",
     "inventory_batches_sku_fk"),
    ("UPDATE Product_SKUs SET base_price = -1 WHERE sku_id = {sku_id}", "product_skus_base_price_nonneg"),
    ("UPDATE Product_SKUs SET reorder_level = -1 WHERE sku_id = {sku_id}",
     "product_skus_reorder_level_nonneg"),
    ("INSERT INTO Product_SKUs (product_id, sku_code, base_price) "
     "SELECT product_id, sku_code, 1 FROM Product_SKUs WHERE sku_id = {sku_id}",
     "product_skus_sku_code_key"),
    ("INSERT INTO Pricing_Rules (discount_percentage) VALUES (100.01)", "pricing_rules_discount_range"),
    ("INSERT INTO Pricing_Rules (discount_percentage) VALUES (-1)", "pricing_rules_discount_range"),
    ("INSERT INTO Pricing_Rules (min_quantity, discount_percentage) VALUES (0, 5)",
     "pricing_rules_min_quantity_positive"),
    ("INSERT INTO Pricing_Rules (discount_percentage, valid_from, valid_to) "
     "VALUES (5, '2026-02-01', '2026-01-01')", "pricing_rules_validity_ordered"),
    ("INSERT INTO Users (username, password_hash, role) VALUES ('CUST_1', 'x', 'staff')",
     "users_username_lower_key"),
    ("INSERT INTO Users (username, password_hash, role) VALUES ('nobody', 'x', 'customer')",
     "users_customer_matches_role"),
    ("INSERT INTO Users (customer_id, username, password_hash, role) "
     "VALUES ({customer_id}, 'staffer', 'x', 'staff')", "users_customer_matches_role"),
    ("INSERT INTO Users (username, password_hash, role) VALUES ('root2', 'x', 'superuser')",
     "users_role_valid"),
    ("INSERT INTO Customers (name, customer_type) VALUES ('X', 'spaceship')", "customers_type_valid"),
    ("INSERT INTO Customers (name) VALUES ('')", "customers_name_not_blank"),
    ("UPDATE Orders SET status = 'lost' WHERE order_id = {order_id}", "orders_status_valid"),
    ("UPDATE Orders SET total_amount = -5 WHERE order_id = {order_id}", "orders_total_nonneg"),
    ("INSERT INTO Orders (customer_id, idempotency_key) VALUES ({customer_id}, 'k1'), "
     "({customer_id}, 'k1')", "orders_customer_idempotency_key"),
    ("INSERT INTO Order_Items (order_id, sku_id, batch_id, quantity_ordered, base_price, sale_price, "
     "discount_percentage) VALUES ({order_id}, {sku_id}, {batch_id}, 1, 10, 10, 150)",
     "order_items_discount_range"),
    ("INSERT INTO Order_Items (order_id, sku_id, batch_id, quantity_ordered, base_price, sale_price) "
     "VALUES ({order_id}, {sku_id}, {batch_id}, 0, 10, 10)", "order_items_quantity_positive"),
    ("INSERT INTO Order_Items (order_id, sku_id, batch_id, quantity_ordered, base_price, sale_price) "
     "VALUES ({order_id}, {sku_id}, {batch_id}, 1, 10, -1)", "order_items_sale_price_nonneg"),
    ("INSERT INTO Stock_Movements (batch_id, quantity_delta, reason) VALUES ({batch_id}, 0, 'adjustment')",
     "stock_movements_delta_nonzero"),
    ("INSERT INTO Stock_Movements (batch_id, quantity_delta, reason) VALUES ({batch_id}, 1, 'gift')",
     "stock_movements_reason_valid"),
    ("INSERT INTO Stock_Movements (batch_id, quantity_delta, reason) VALUES ({batch_id}, -1, 'sale')",
     "stock_movements_sign_matches_reason"),
    ("INSERT INTO Stock_Movements (batch_id, quantity_delta, reason) VALUES ({batch_id}, -1, 'receipt')",
     "stock_movements_sign_matches_reason"),
    ("INSERT INTO Stock_Movements (batch_id, quantity_delta, reason) VALUES ({batch_id}, 3, 'write_off')",
     "stock_movements_sign_matches_reason"),
    ("INSERT INTO Carts (user_id) VALUES ({user_id}), ({user_id})", "carts_user_key"),
    ("WITH c AS (INSERT INTO Carts (user_id) VALUES ({user_id}) RETURNING cart_id) "
     "INSERT INTO Cart_Items (cart_id, sku_id, quantity) SELECT cart_id, {sku_id}, 0 FROM c",
     "cart_items_quantity_positive"),
    ("DELETE FROM Product_SKUs WHERE sku_id = {sku_id}", "inventory_batches_sku_fk"),
]


@pytest.mark.parametrize(("statement", "constraint"), REJECTED,
                         ids=[f"{c}-{i}" for i, (_, c) in enumerate(REJECTED)])
def test_constraint_rejects_bad_rows(conn, statement, constraint):
    ids = seed_minimal(conn)
    with pytest.raises(psycopg.errors.IntegrityError) as caught:
        conn.execute(statement.format(**ids))
    assert caught.value.diag.constraint_name == constraint


def test_valid_rows_are_accepted(conn):
    """The rejections above are not the schema refusing everything."""
    ids = seed_minimal(conn)
    conn.execute("INSERT INTO Pricing_Rules (sku_id, customer_id, min_quantity, discount_percentage, "
                 "valid_from, valid_to) VALUES (%s, %s, 10, 100, '2026-01-01', '2026-01-01')",
                 (ids["sku_id"], ids["customer_id"]))
    conn.execute("INSERT INTO Stock_Movements (batch_id, quantity_delta, reason, order_id) "
                 "VALUES (%s, -1, 'sale', %s)", (ids["batch_id"], ids["order_id"]))
    conn.execute("INSERT INTO Stock_Movements (batch_id, quantity_delta, reason, note) "
                 "VALUES (%s, -2, 'adjustment', 'damaged')", (ids["batch_id"],))
    conn.execute("UPDATE Inventory_Batches SET quantity_on_hand = 0 WHERE batch_id = %s",
                 (ids["batch_id"],))
    conn.execute("INSERT INTO Users (username, password_hash, role) VALUES ('admin', 'x', 'admin')")
