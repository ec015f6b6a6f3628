"""Demo data for a new user: `make run` on an empty database (dev mode) gets the seed
procedure's default sizes, some pricing rules, 90 days of orders, a login for every
customer and one admin, and is told how to sign in. A database with anything in it is
never touched.

The demo also has tax: a 'reduced' class for medicines and a 'standard' one for other goods
(vitamins and supplements, skin care), with every SKU in one of them, and its simulated
orders taxed as `stockline_place_order()` taxes a sale (each line at its SKU's class's rate of
the order's day, half-up to the cent). The seed procedure itself (`stockline seed`, the scale
data) leaves every SKU in the 'zero' class."""

from __future__ import annotations

import dataclasses
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TextIO

import psycopg

from stockline import db
from stockline.accounts.service import create_customer_logins, create_staff_user
from stockline.config import SeedSettings
from stockline.seeding.service import format_summary, run_seed

DEMO_PLAN = SeedSettings(pricing_rules=60, orders=1500)
DEMO_ADMIN = "admin"
# (code, name, rate since always)
DEMO_TAX_CLASSES = (("reduced", "Reduced rate (medicines)", Decimal("5.00")),
                    ("standard", "Standard rate", Decimal("20.00")))
STANDARD_RATED_CATEGORIES = ("Nutrition & blood", "Dermatology")  # not medicines: other goods

_INSERT_TAX_CLASS = "INSERT INTO Tax_Classes (tax_class, name) VALUES (%s, %s) ON CONFLICT DO NOTHING"
_INSERT_TAX_RATE = ("INSERT INTO Tax_Rates (tax_class, valid_from, rate) VALUES (%s, '-infinity', %s) "
                    "ON CONFLICT DO NOTHING")
_ASSIGN_TAX_CLASSES = ("UPDATE Product_SKUs AS s "
                       "SET tax_class = CASE WHEN p.category = ANY(%s) THEN 'standard' ELSE 'reduced' END "
                       "FROM Products AS p WHERE p.product_id = s.product_id")
# the simulated orders as stockline_place_order() would have taxed them on their (UTC) day
_TAX_ORDER_ITEMS = ("UPDATE Order_Items AS oi SET tax_rate = day_rate.rate, "
                    "tax_amount = stockline_line_tax(oi.sale_price * oi.quantity_ordered, day_rate.rate) "
                    "FROM Orders AS o, Product_SKUs AS s, "
                    "LATERAL (SELECT stockline_tax_rate(s.tax_class, (o.order_date AT TIME ZONE 'UTC')::date)"
                    " AS rate) AS day_rate "
                    "WHERE o.order_id = oi.order_id AND s.sku_id = oi.sku_id")
_TAX_ORDERS = ("UPDATE Orders AS o SET tax_amount = t.tax "
               "FROM (SELECT order_id, sum(tax_amount) AS tax FROM Order_Items GROUP BY order_id) AS t "
               "WHERE t.order_id = o.order_id")


@dataclass(frozen=True)
class DemoLogins:
    admin_username: str
    credentials_file: Path
    customer_passwords_csv: Path
    sample_customer: str


def database_is_empty(conn: psycopg.Connection) -> bool:
    counts = db.seed_counts(conn)
    users = conn.execute("SELECT EXISTS (SELECT 1 FROM Users)").fetchone()[0]
    return not users and not any(counts.values())


def _write_private(path: Path, text: str) -> None:
    """Create `path` readable by its owner only, from the first byte."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)


def put_skus_in_tax_classes(conn: psycopg.Connection) -> None:
    """The demo's tax classes, and every SKU in one: medicines reduced, other goods standard."""
    with conn.transaction():
        for code, name, rate in DEMO_TAX_CLASSES:
            conn.execute(_INSERT_TAX_CLASS, (code, name))
            conn.execute(_INSERT_TAX_RATE, (code, rate))
        conn.execute(_ASSIGN_TAX_CLASSES, (list(STANDARD_RATED_CATEGORIES),))


def tax_simulated_orders(conn: psycopg.Connection) -> None:
    """The seed's simulated orders are written untaxed (the procedure's SKUs are all zero
    rated); the demo's are taxed as if sold with its classes, before anything is invoiced."""
    with conn.transaction():
        conn.execute(_TAX_ORDER_ITEMS)
        conn.execute(_TAX_ORDERS)


def seed_demo(conn: psycopg.Connection, data_dir: Path, out: TextIO) -> DemoLogins | None:
    """Fill an empty database with demo data; None (and nothing written) if not empty."""
    if not database_is_empty(conn):
        return None
    out.write("empty database: loading demo data (first run only)\n")
    run_seed(conn, dataclasses.replace(DEMO_PLAN, orders=0), out)
    put_skus_in_tax_classes(conn)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    logins = create_customer_logins(conn, password=None,
                                    csv_path=data_dir / f"customer_passwords_{stamp}.csv")
    report = run_seed(conn, DEMO_PLAN, out)  # orders last, so they name the customers' users
    tax_simulated_orders(conn)
    out.write(format_summary(report, db.seed_counts(conn)) + "\n")
    admin_password = secrets.token_urlsafe(15)
    create_staff_user(conn, DEMO_ADMIN, admin_password, role="admin")
    credentials = data_dir / "demo_admin_credentials.txt"
    _write_private(credentials, f"username: {DEMO_ADMIN}\npassword: {admin_password}\n")
    return DemoLogins(DEMO_ADMIN, credentials, logins.csv_path, logins.usernames[0])


def sign_in_help(logins: DemoLogins, base_url: str) -> str:
    return (f"\nDemo data is ready. Sign in at {base_url}\n"
            f"  admin:     {logins.admin_username} (password in {logins.credentials_file})\n"
            f"  customers: {logins.sample_customer} … (username,password pairs in "
            f"{logins.customer_passwords_csv})\n")
