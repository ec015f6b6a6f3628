"""Customer logins in bulk, staff users, the procedure's step 3 and demo data."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys

import pytest
from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError

from stockline import db
from stockline.accounts.service import create_customer_logins, create_staff_user
from stockline.auth import passwords
from stockline.cli import main
from stockline.config import SeedSettings
from stockline.errors import Conflict, ValidationFailed
from stockline.seeding import demo
from tests.conftest import REPO

SHARED = "Customer@123"


@pytest.fixture
def sync_conn(clean_db):
    with db.connect(clean_db) as conn:
        conn.execute("INSERT INTO Customers (name) SELECT 'Pharmacy ' || g FROM generate_series(1, 12) g")
        yield conn


def logins(conn) -> list[tuple]:
    return conn.execute("SELECT customer_id, username, role, password_hash, must_change_password "
                        "FROM Users WHERE role = 'customer' ORDER BY customer_id").fetchall()


def test_every_customer_gets_one_login_with_its_own_salt(sync_conn):
    result = create_customer_logins(sync_conn, password=SHARED)
    assert result.created == 12
    rows = logins(sync_conn)
    assert [(c, u, r) for c, u, r, _, _ in rows] == [(i, f"cust_{i}", "customer") for i in range(1, 13)]
    hashes = [h for *_, h, _ in rows]
    assert len(set(hashes)) == 12  # one salt per user, though the password is shared
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert all(PasswordHasher().verify(h, SHARED) for h in hashes)
    with pytest.raises(VerifyMismatchError):
        PasswordHasher().verify(hashes[0], "wrong-password")


def test_a_second_run_creates_none(sync_conn):
    create_customer_logins(sync_conn, password=SHARED)
    again = create_customer_logins(sync_conn, password=SHARED)
    assert again.created == 0
    assert len(logins(sync_conn)) == 12


def test_customers_with_a_login_or_a_taken_username_are_skipped(sync_conn):
    sync_conn.execute("INSERT INTO Users (customer_id, username, password_hash, role) "
                      "VALUES (3, 'pharmacist3', 'x', 'customer'), (4, 'CUST_5', 'x', 'customer')")
    result = create_customer_logins(sync_conn, password=SHARED)
    assert result.created == 9  # not 3 or 4 (have logins), not 5 (its username is taken)
    assert result.blocked_by_username == 1
    names = {u for _, u, *_ in logins(sync_conn)}
    assert "cust_3" not in names and "cust_4" not in names and "cust_5" not in names


def test_dry_run_writes_nothing(sync_conn):
    result = create_customer_logins(sync_conn, password=SHARED, dry_run=True)
    assert result.usernames[:2] == ["cust_1", "cust_2"] and result.created == 0
    assert logins(sync_conn) == []


def test_must_change_marks_the_accounts(sync_conn):
    create_customer_logins(sync_conn, password=SHARED, must_change=True)
    assert all(flag for *_, flag in logins(sync_conn))


def test_generated_passwords_go_to_a_private_csv(sync_conn, tmp_path):
    path = tmp_path / "out" / "passwords.csv"
    result = create_customer_logins(sync_conn, password=None, csv_path=path)
    assert result.csv_path == path
    assert path.stat().st_mode & 0o777 == 0o600
    with path.open() as handle:
        pairs = list(csv.DictReader(handle))
    assert len(pairs) == 12 and len({p["password"] for p in pairs}) == 12
    stored = {u: h for _, u, _, h, _ in logins(sync_conn)}
    assert all(passwords.verify_password(stored[p["username"]], p["password"]) for p in pairs)
    assert all(len(p["password"]) >= 16 for p in pairs)


@pytest.mark.parametrize("bad", ["", "   ", "short"])
def test_empty_or_weak_password_is_refused_and_nothing_written(sync_conn, bad):
    with pytest.raises(ValidationFailed):
        create_customer_logins(sync_conn, password=bad)
    assert logins(sync_conn) == []


def test_staff_users(sync_conn):
    user_id = create_staff_user(sync_conn, "Alice", "correct horse battery", role="staff")
    assert sync_conn.execute("SELECT role, customer_id FROM Users WHERE user_id = %s",
                             (user_id,)).fetchone() == ("staff", None)
    with pytest.raises(Conflict, match="taken"):
        create_staff_user(sync_conn, "alice", "another good password")
    with pytest.raises(ValidationFailed, match="username"):
        create_staff_user(sync_conn, "a b", "another good password")
    with pytest.raises(ValidationFailed, match="role"):
        create_staff_user(sync_conn, "bob", "another good password", role="customer")


def test_password_verification_helpers():
    stored = passwords.hash_password("s3cret-enough")
    assert passwords.verify_password(stored, "s3cret-enough")
    assert not passwords.verify_password(stored, "nope")
    assert not passwords.verify_password("not-a-hash", "nope")
    assert not passwords.verify_against_dummy("anything")
    assert not passwords.needs_rehash(stored)
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("x" * 10)
    assert passwords.needs_rehash(weak)


def test_step_three_of_the_procedure_verbatim(clean_db, sync_conn):
    env = {"PATH": os.environ.get("PATH", ""), "DATABASE_URL": clean_db}
    for expected in ("created 12 customer login(s)", "nothing created"):
        done = subprocess.run([sys.executable, "scripts/create_customer_users.py", "--password", SHARED],
                              cwd=REPO, capture_output=True, text=True, timeout=120, env=env)
        assert done.returncode == 0, done.stderr
        assert expected in done.stdout
    count = sync_conn.execute("SELECT COUNT(*) AS customer_users FROM Users WHERE role='customer';")
    assert count.fetchone()[0] == 12


def test_cli_refuses_an_empty_password_with_one_line(clean_db, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", clean_db)
    assert main(["users", "create-customer-logins", "--password", ""]) == 1
    assert capsys.readouterr().err.startswith("error: --password must not be empty")


def test_cli_create_admin_without_a_terminal_needs_password(clean_db, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", clean_db)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert main(["users", "create-admin", "root"]) == 1
    assert "pass --password" in capsys.readouterr().err
    assert main(["users", "create-admin", "root", "--password", "long enough pw"]) == 0


def test_demo_data_fills_an_empty_database_once(clean_db, tmp_path, monkeypatch):
    monkeypatch.setattr(demo, "DEMO_PLAN", SeedSettings(customers=8, products=4, skus=10, batches=60,
                                                        pricing_rules=5, orders=20, seed=3))
    with db.connect(clean_db) as conn:
        out = io.StringIO()
        made = demo.seed_demo(conn, tmp_path, out)
        assert made is not None
        assert db.seed_counts(conn) == {"customers": 8, "customer_users": 8, "products": 4, "skus": 10,
                                        "batches": 60}
        admin_hash = conn.execute("SELECT password_hash FROM Users WHERE username = 'admin'").fetchone()[0]
        text = made.credentials_file.read_text()
        assert made.credentials_file.stat().st_mode & 0o777 == 0o600
        assert passwords.verify_password(admin_hash, text.split("password: ")[1].strip())
        assert made.customer_passwords_csv.stat().st_mode & 0o777 == 0o600
        help_text = demo.sign_in_help(made, "http://127.0.0.1:5000")
        assert "admin" in help_text and "cust_1" in help_text
        assert str(made.customer_passwords_csv) in help_text
        assert conn.execute("SELECT count(*) FROM Orders WHERE user_id IS NULL").fetchone()[0] == 0
        assert demo.seed_demo(conn, tmp_path, out) is None  # never touches a non-empty database
        assert db.seed_counts(conn)["customers"] == 8


def test_demo_data_leaves_a_database_with_anything_in_it_alone(clean_db, tmp_path):
    with db.connect(clean_db) as conn:
        conn.execute("INSERT INTO Users (username, password_hash, role) VALUES ('ops', 'x', 'admin')")
        assert demo.seed_demo(conn, tmp_path, io.StringIO()) is None
        assert db.seed_counts(conn)["customers"] == 0
