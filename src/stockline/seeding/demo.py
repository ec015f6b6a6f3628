"""Demo data for a new user: `make run` on an empty database (dev mode) gets the seed
procedure's default sizes, some pricing rules, 90 days of orders, a login for every
customer and one admin, and is told how to sign in. A database with anything in it is
never touched.

The demo also has tax: a 'reduced' class for medicines and a 'standard' one for other goods
(vitamins and supplements, skin care), with every SKU in one of them, and its simulated
orders taxed as `stockline_place_order()` taxes a sale (each line at its SKU's class's rate of
the order's day, half-up to the cent). Its shipped orders are invoiced and mostly paid, so
the invoices, balances and aged receivables have something to show. The seed procedure
itself (`stockline seed`, the scale data) leaves every SKU in the 'zero' class and invoices
nothing.

It has suppliers too, two for every SKU (one preferred), and two purchase orders for the
SKUs lowest on stock, one sent and one draft."""

from __future__ import annotations

import dataclasses
import json
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
from stockline.billing.invoices import Q as INVOICE_Q
from stockline.config import SeedSettings, Settings
from stockline.kernel.expiry import business_day
from stockline.seeding.service import Q, format_summary, run_seed

DEMO_PLAN = SeedSettings(pricing_rules=60, orders=1500)
DEMO_ADMIN = "admin"
# (code, name, rate since always)
DEMO_TAX_CLASSES = (("reduced", "Reduced rate (medicines)", Decimal("5.00")),
                    ("standard", "Standard rate", Decimal("20.00")))
STANDARD_RATED_CATEGORIES = ("Nutrition & blood", "Dermatology")  # not medicines: other goods

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
            conn.execute(Q["demo_tax_class"].sql, {"tax_class": code, "name": name, "rate": rate})
        conn.execute(Q["demo_assign_tax_classes"].sql,
                     {"standard_categories": list(STANDARD_RATED_CATEGORIES)})


def tax_simulated_orders(conn: psycopg.Connection) -> None:
    """The seed's simulated orders are written untaxed (the procedure's SKUs are all zero
    rated); the demo's are taxed as if sold with its classes, before anything is invoiced."""
    with conn.transaction():
        conn.execute(Q["demo_tax_order_items"].sql)
        conn.execute(Q["demo_tax_orders"].sql)


def invoice_shipped_history(conn: psycopg.Connection, seller: dict[str, str | None]) -> int:
    """The history's shipped orders invoiced as shipping them would have (billing's own
    issuing query, numbered in the order they shipped), and paid as customers pay: most on
    time, some in part, some not yet, so the demo has balances, overdue invoices and aged
    receivables to show. Returns the number of invoices."""
    today = business_day()
    with conn.transaction():
        shipped = conn.execute(Q["demo_shipped_orders"].sql, {"today": today}).fetchall()
        for order_id, shipped_on in shipped:
            conn.execute(INVOICE_Q["issue_invoice"].sql, {
                "order_id": order_id, "issued_on": shipped_on, "seller": json.dumps(seller)})
        conn.execute(Q["demo_payments"].sql, {"today": today})
    return len(shipped)


def stock_suppliers(conn: psycopg.Connection, admin_user_id: int) -> None:
    """The demo's suppliers, two per SKU (one preferred), and two purchase orders for the
    SKUs lowest on stock: one sent (so the stock views show incoming units), one draft."""
    with conn.transaction():
        conn.execute(Q["demo_suppliers"].sql)
        conn.execute(Q["demo_supplier_skus"].sql)
        conn.execute(Q["demo_purchase_orders"].sql, {"today": business_day(), "user_id": admin_user_id})


def seed_demo(conn: psycopg.Connection, data_dir: Path, out: TextIO,
              seller: dict[str, str | None] | None = None) -> DemoLogins | None:
    """Fill an empty database with demo data; None (and nothing written) if not empty. The
    demo's invoices name `seller` (default: the default SELLER_NAME)."""
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
    invoices = invoice_shipped_history(conn, seller or Settings().seller)
    out.write(format_summary(report, db.seed_counts(conn)) + f"\ninvoices for shipped orders: {invoices:,}\n")
    admin_password = secrets.token_urlsafe(15)
    admin = create_staff_user(conn, DEMO_ADMIN, admin_password, role="admin")
    stock_suppliers(conn, admin)
    credentials = data_dir / "demo_admin_credentials.txt"
    _write_private(credentials, f"username: {DEMO_ADMIN}\npassword: {admin_password}\n")
    return DemoLogins(DEMO_ADMIN, credentials, logins.csv_path, logins.usernames[0])


def sign_in_help(logins: DemoLogins, base_url: str) -> str:
    return (f"\nDemo data is ready. Sign in at {base_url}\n"
            f"  admin:     {logins.admin_username} (password in {logins.credentials_file})\n"
            f"  customers: {logins.sample_customer} … (username,password pairs in "
            f"{logins.customer_passwords_csv})\n")
