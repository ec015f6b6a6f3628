"""A small world for ordering tests: two customers (customer 1 has two users), a staff user,
SKUs with batches laid out to exercise FEFO, and helpers to read stock and the ledger."""

from __future__ import annotations

from datetime import timedelta

from stockline.auth import passwords
from stockline.kernel.catalog_version import Q as CATALOG_Q
from stockline.kernel.expiry import business_day

TODAY = business_day()  # the app's day (UTC), not the machine's
PASSWORD = "Customer@123"
_HASH = None


def password_hash() -> str:
    global _HASH
    if _HASH is None:
        _HASH = passwords.hash_password(PASSWORD)
    return _HASH


def receive(conn, sku_id: int, batch_no: str, days_to_expiry: int, quantity: int, cost: str = "1.00") -> int:
    """A batch with its opening receipt in the ledger (what receiving stock does)."""
    batch_id = conn.execute(
        "INSERT INTO Inventory_Batches (sku_id, batch_no, expiry_date, quantity_on_hand, cost_price) "
        "VALUES (%s, %s, %s, %s, %s) RETURNING batch_id",
        (sku_id, batch_no, TODAY + timedelta(days=days_to_expiry), quantity, cost)).fetchone()["batch_id"]
    if quantity:
        conn.execute("INSERT INTO Stock_Movements (batch_id, quantity_delta, reason) VALUES (%s, %s, 'receipt')",
                     (batch_id, quantity))
    return batch_id


def build_world(conn) -> dict[str, int]:
    """SKU 1 (10.00): batches expiring in 10 (5 units), 100 (20), already expired (50), empty,
    and today (7, not sellable). SKU 2 (30.00): 30 units. SKU 3 (2.50): 4 units, low.
    SKU 4: not on sale. Rules: global 5 % from 10 units; customer 1 gets 20 % on SKU 1."""
    conn.execute("INSERT INTO Customers (customer_id, name) VALUES (1, 'First Pharmacy'), (2, 'Second Pharmacy')")
    conn.execute("INSERT INTO Users (user_id, customer_id, username, password_hash, role) VALUES "
                 "(1, 1, 'cust_1', %(h)s, 'customer'), (2, 1, 'cust_1b', %(h)s, 'customer'), "
                 "(3, 2, 'cust_2', %(h)s, 'customer'), (4, NULL, 'staffer', %(h)s, 'staff'), "
                 "(5, NULL, 'boss', %(h)s, 'admin')", {"h": password_hash()})
    conn.execute("INSERT INTO Products (product_id, name, manufacturer) VALUES "
                 "(1, 'Amoxicillin 500 mg capsules', 'Sandoz'), (2, 'Paracetamol 500 mg tablets', 'Teva')")
    conn.execute("INSERT INTO Product_SKUs (sku_id, product_id, sku_code, package_size, unit_type, base_price, "
                 "reorder_level, is_active) VALUES "
                 "(1, 1, 'AMOX-1', '3x10', 'capsule', 10.00, 10, true), "
                 "(2, 1, 'AMOX-2', '100', 'capsule', 30.00, 5, true), "
                 "(3, 2, 'PARA-3', '10', 'tablet', 2.50, 10, true), "
                 "(4, 2, 'PARA-4', '20', 'tablet', 4.00, 10, false)")
    ids = {
        "a_soon": receive(conn, 1, "A-SOON", 10, 5, "6.00"),
        "a_later": receive(conn, 1, "A-LATER", 100, 20, "7.00"),
        "a_expired": receive(conn, 1, "A-EXPIRED", -1, 50),
        "a_empty": receive(conn, 1, "A-EMPTY", 5, 0),
        "a_today": receive(conn, 1, "A-TODAY", 0, 7),
        "b": receive(conn, 2, "B-1", 200, 30, "20.00"),
        "c": receive(conn, 3, "C-1", 30, 4, "1.00"),
        "d": receive(conn, 4, "D-1", 50, 9),
    }
    conn.execute("INSERT INTO Pricing_Rules (rule_id, sku_id, customer_id, min_quantity, discount_percentage) "
                 "VALUES (1, NULL, NULL, 10, 5), (2, 1, 1, 1, 20)")
    for table, column in (("users", "user_id"), ("customers", "customer_id"), ("products", "product_id"),
                          ("product_skus", "sku_id"), ("pricing_rules", "rule_id")):  # rows above took explicit ids
        conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "  # noqa: S608
                     f"(SELECT max({column}) FROM {table}))")
    conn.execute(CATALOG_Q["bump_catalog_version"].sql)
    return ids


async def bearer(client, username: str) -> dict[str, str]:
    response = await client.post("/api/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def stock(conn, batch_id: int) -> int:
    return conn.execute("SELECT quantity_on_hand FROM Inventory_Batches WHERE batch_id = %s",
                        (batch_id,)).fetchone()["quantity_on_hand"]


def ledger_rows(conn, order_id: int) -> list[tuple]:
    rows = conn.execute("SELECT batch_id, quantity_delta, reason FROM Stock_Movements WHERE order_id = %s "
                        "ORDER BY movement_id", (order_id,)).fetchall()
    return [(r["batch_id"], r["quantity_delta"], r["reason"]) for r in rows]
