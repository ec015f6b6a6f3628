"""Demo data for a new user: `make run` on an empty database (dev mode) gets the seed
procedure's default sizes, some pricing rules, 90 days of orders, a login for every
customer and one admin, and is told how to sign in. A database with anything in it is
never touched."""

from __future__ import annotations

import dataclasses
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import psycopg

from stockline import db
from stockline.accounts.service import create_customer_logins, create_staff_user
from stockline.config import SeedSettings
from stockline.seeding.service import format_summary, run_seed

DEMO_PLAN = SeedSettings(pricing_rules=60, orders=1500)
DEMO_ADMIN = "admin"


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


def seed_demo(conn: psycopg.Connection, data_dir: Path, out: TextIO) -> DemoLogins | None:
    """Fill an empty database with demo data; None (and nothing written) if not empty."""
    if not database_is_empty(conn):
        return None
    out.write("empty database: loading demo data (first run only)\n")
    run_seed(conn, dataclasses.replace(DEMO_PLAN, orders=0), out)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    logins = create_customer_logins(conn, password=None,
                                    csv_path=data_dir / f"customer_passwords_{stamp}.csv")
    report = run_seed(conn, DEMO_PLAN, out)  # orders last, so they name the customers' users
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
