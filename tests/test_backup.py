"""`stockline db backup` / `stockline db restore`, end to end on a real PostgreSQL: a seeded
database with orders (and a cart, a failed login, a batch edit, so every table has rows) is
backed up by the console script, restored into a fresh database, and must come back row for
row with its sequences where they were; the app then takes new orders on it. A database
holding data is refused (exit 2) and left alone; a missing or corrupt file is one line.
The end-to-end tests are marked slow (together ~7 s); the choice of binaries is not."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from stockline import backup, db
from stockline.accounts.service import create_customer_logins
from stockline.auth import passwords
from stockline.config import SeedSettings, Settings
from stockline.errors import StocklineError
from stockline.kernel.expiry import business_day
from stockline.seeding.service import run_seed
from tests.conftest import TEST_SECRET, create_database, drop_database, serve

PASSWORD = "Customer@123"
STOCKLINE = str(Path(sys.executable).with_name("stockline"))
# the end-to-end part: ~7 s in all, most of it starting the console script nine times
slow = pytest.mark.slow


def stockline(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The console script, as an operator runs it, on the database `url`."""
    env = os.environ | {"DATABASE_URL": url, "STOCKLINE_ENV": "test"}
    return subprocess.run([STOCKLINE, *args], env=env, capture_output=True, text=True, timeout=120, check=False)


def row_counts(url: str) -> dict[str, int]:
    with db.connect(url) as conn:
        return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
                for table in db.TABLES}


def sequences(url: str) -> dict[str, tuple]:
    """Every sequence (identity columns and catalog_version): where it stands."""
    with db.connect(url) as conn:
        names = [row[0] for row in conn.execute(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1").fetchall()]
        return {name: conn.execute(f"SELECT last_value, is_called FROM {name}").fetchone()  # noqa: S608
                for name in names}


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


async def _use_the_app(url: str) -> None:
    """A real order and a cart left open, through the app; one failed login; one sign-out;
    the order shipped (invoiced), part paid, one unit returned and credited."""
    with db.connect(url) as conn:
        sku_id = conn.execute(
            "SELECT sku_id FROM Inventory_Batches WHERE expiry_date > %s::date + 30 "
            "GROUP BY sku_id HAVING sum(quantity_on_hand) >= 10 ORDER BY sku_id LIMIT 1", (business_day(),)).fetchone()[0]
    settings = Settings(env="test", database_url=url, secret_key=TEST_SECRET, db_pool_min=1, db_pool_max=3)
    async with serve(settings) as client:
        tokens = []
        for username in ("cust_1", "cust_2"):
            response = await client.post("/api/login", json={"username": username, "password": PASSWORD})
            assert response.status_code == 200, response.text
            tokens.append({"Authorization": f"Bearer {response.json()['access_token']}"})
        for headers in tokens:
            response = await client.post("/api/cart", json={"sku_id": sku_id, "quantity": 2}, headers=headers)
            assert response.status_code == 200, response.text
        response = await client.post("/api/checkout", headers=tokens[0] | {"Idempotency-Key": "before-backup"})
        assert response.status_code == 201, response.text
        await _invoice_pay_and_return(client, tokens[0], response.json())
        response = await client.post("/api/login", json={"username": "cust_3", "password": "wrong-password"})
        assert response.status_code == 401
        assert (await client.post("/api/logout", headers=tokens[1])).status_code == 204


async def _invoice_pay_and_return(client, customer: dict[str, str], order: dict) -> None:
    response = await client.post("/api/login", json={"username": "backup_staff", "password": PASSWORD})
    staff = {"Authorization": f"Bearer {response.json()['access_token']}"}
    for status in ("processed", "shipped"):
        response = await client.post(f"/api/admin/orders/{order['order_id']}/status", json={"status": status},
                                     headers=staff)
        assert response.status_code == 200, response.text
    invoice_id = response.json()["invoice_id"]
    response = await client.post(f"/api/admin/invoices/{invoice_id}/payments", headers=staff, json={
        "amount": "1.00", "paid_on": business_day().isoformat(), "reference": "BANK-1"})
    assert response.status_code == 201, response.text
    item_id = order["items"][0]["order_item_id"]
    response = await client.post(f"/api/my-orders/{order['order_id']}/returns", headers=customer, json={
        "lines": [{"order_item_id": item_id, "quantity": 1, "reason": "damaged box"}]})
    assert response.status_code == 201, response.text
    response = await client.post(f"/api/admin/returns/{response.json()['return_id']}/approve", headers=staff,
                                 json={"lines": [{"order_item_id": item_id, "disposition": "restock"}]})
    assert response.status_code == 200, response.text
    await _purchase_and_recall(client, staff, order)


async def _purchase_and_recall(client, staff: dict[str, str], order: dict) -> None:
    """A supplier of the order's SKU, a purchase order sent and partly received; then the
    order's batch recalled and its last delivered unit sent back under the recall."""
    item = order["items"][0]
    response = await client.post("/api/admin/suppliers", headers=staff,
                                 json={"name": "Backup Wholesale", "lead_time_days": 4})
    assert response.status_code == 201, response.text
    supplier_id = response.json()["supplier_id"]
    response = await client.put(f"/api/admin/suppliers/{supplier_id}/skus/{item['sku_id']}", headers=staff,
                                json={"unit_cost": "2.40", "is_preferred": True})
    assert response.status_code == 200, response.text
    response = await client.post("/api/admin/purchase-orders", headers=staff, json={
        "supplier_id": supplier_id, "lines": [{"sku_id": item["sku_id"], "quantity": 10}]})
    assert response.status_code == 201, response.text
    po = response.json()
    assert (await client.post(f"/api/admin/purchase-orders/{po['po_id']}/send", headers=staff)).status_code == 200
    response = await client.post(f"/api/admin/purchase-orders/{po['po_id']}/receive", headers=staff, json={
        "lines": [{"po_line_id": po["lines"][0]["po_line_id"], "batch_no": "BACKUP-PO-1",
                   "expiry_date": (business_day() + timedelta(days=400)).isoformat(), "quantity": 4}]})
    assert response.status_code == 200, response.text
    response = await client.post("/api/admin/recalls", headers=staff, json={
        "batch_ids": [item["batch_id"]], "reason": "label misprint", "class": 2})
    assert response.status_code == 201, response.text
    response = await client.post(f"/api/admin/recalls/{response.json()['recall_id']}/returns", headers=staff,
                                 json={"order_id": order["order_id"],
                                       "lines": [{"order_item_id": item["order_item_id"], "quantity": 1}]})
    assert response.status_code == 201, response.text


@pytest.fixture(scope="module")
def source(server_url):
    """A seeded database: customers with logins, catalog, batches, pricing rules, 90 days of
    orders, plus an order placed through the app (taxed, invoiced, part paid, a unit returned
    and credited; a supplier and a purchase order partly received; the order's batch recalled
    and a unit sent back under the recall), an open cart, a failed login, a batch edit, an
    audit entry, an invitation to sign in with an identity provider."""
    url = create_database(server_url, prefix="stockline_backup_src")
    with db.connect(url) as conn, open(os.devnull, "w") as quiet:
        db.apply_schema(conn)
        run_seed(conn, SeedSettings(customers=40, products=12, skus=40, batches=160, pricing_rules=15,
                                    orders=80, seed=11), out=quiet)
        create_customer_logins(conn, password=PASSWORD)
        conn.execute("INSERT INTO Users (username, password_hash, role) VALUES ('backup_staff', %s, 'staff')",
                     (passwords.hash_password(PASSWORD),))
        conn.execute("INSERT INTO Tax_Classes (tax_class, name) VALUES ('standard', 'Standard')")
        conn.execute("INSERT INTO Tax_Rates (tax_class, valid_from, rate) VALUES ('standard', '-infinity', 20)")
        conn.execute("UPDATE Product_SKUs SET tax_class = 'standard'")
        conn.execute("INSERT INTO Batch_Edits (batch_id, field, old_value, new_value, note) "
                     "SELECT min(batch_id), 'cost_price', '1.00', '1.10', 'supplier price' FROM Inventory_Batches")
        conn.execute("INSERT INTO Customer_Invitations (customer_id, email, invited_by) "
                     "SELECT min(customer_id), 'buyer@pharmacy.example', 1 FROM Customers")
        conn.execute("INSERT INTO Audit_Log (actor_user_id, actor_username, action, entity_type, entity_id, "
                     "before, after) VALUES (1, 'boss', 'pricing_rule.update', 'pricing_rule', 1, "
                     "'{\"discount_percentage\": \"5.00\"}', '{\"discount_percentage\": \"7.50\"}')")
    asyncio.run(_use_the_app(url))
    yield url
    drop_database(url)


@pytest.fixture(scope="module")
def backup_file(source, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("backup") / "stockline.dump"
    result = stockline(source, "db", "backup", str(path))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert f"backing up database {db.database_name(source)!r}" in result.stderr
    assert f"backup written: {path}" in result.stderr
    assert path.stat().st_size > 10_000
    assert path.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    return path


@pytest.fixture(scope="module")
def restored(server_url, backup_file):
    """A fresh, empty database (no schema) with the backup restored into it."""
    url = create_database(server_url, prefix="stockline_backup_dst")
    result = stockline(url, "db", "restore", str(backup_file))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "restored in" in result.stderr
    yield url
    drop_database(url)


@slow
def test_restore_brings_back_every_row_and_every_sequence(source, restored):
    counts = row_counts(source)
    assert all(counts.values()), counts  # every table had something to lose
    assert row_counts(restored) == counts
    assert sequences(restored) == sequences(source)
    assert "catalog_version" in sequences(source)


@slow
def test_the_restored_database_passes_stockline_check(restored):
    result = stockline(restored, "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all invariants hold" in result.stdout


@slow
async def test_the_app_takes_new_orders_after_a_restore(source, restored):
    before = {name: value for name, (value, _) in sequences(restored).items()}
    settings = Settings(env="test", database_url=restored, secret_key=TEST_SECRET, db_pool_min=1, db_pool_max=3)
    async with serve(settings) as client:
        login = await client.post("/api/login", json={"username": "cust_2", "password": PASSWORD})
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        # cust_2's cart survived the restore: check it out
        cart = (await client.get("/api/cart", headers=headers)).json()
        assert [line["quantity"] for line in cart["items"]] == [2]
        response = await client.post("/api/checkout", headers=headers | {"Idempotency-Key": "after-restore"})
        assert response.status_code == 201, response.text
        order_id = response.json()["order_id"]
    with db.connect(restored) as conn:
        assert order_id > conn.execute("SELECT max(order_id) FROM Orders WHERE order_id <> %s",
                                       (order_id,)).fetchone()[0]
        customer_id = conn.execute("INSERT INTO Customers (name) VALUES ('Opened after the restore') "
                                   "RETURNING customer_id").fetchone()[0]
        assert customer_id == before["customers_customer_id_seq"] + 1
        version = conn.execute("SELECT last_value FROM catalog_version").fetchone()[0]
    assert version > before["catalog_version"]  # the checkout bumped the restored version
    assert stockline(restored, "check").returncode == 0


@slow
def test_restore_onto_a_database_with_data_is_refused_and_changes_nothing(restored, backup_file):
    with db.connect(restored) as conn:
        conn.execute("INSERT INTO Products (name) VALUES ('Only in the target')")
    counts = row_counts(restored)
    result = stockline(restored, "db", "restore", str(backup_file))
    assert result.returncode == 2, result.stderr
    line = one_line_error(result)
    assert "already holds Stockline data" in line and "--force" in line
    assert row_counts(restored) == counts


@slow
def test_forced_restore_replaces_the_data(server_url, source, backup_file):
    url = create_database(server_url, prefix="stockline_backup_force")
    try:
        with db.connect(url) as conn:
            db.apply_schema(conn)
            conn.execute("INSERT INTO Customers (name) VALUES ('Overwritten')")
        result = stockline(url, "db", "restore", "--force", str(backup_file))
        assert result.returncode == 0, result.stderr
        assert "replacing its data" in result.stderr
        assert row_counts(url) == row_counts(source)
        with db.connect(url) as conn:
            assert not conn.execute("SELECT 1 FROM Customers WHERE name = 'Overwritten'").fetchone()
    finally:
        drop_database(url)


@slow
def test_a_missing_or_corrupt_file_is_one_line_and_nothing_changes(server_url, backup_file, tmp_path):
    url = create_database(server_url, prefix="stockline_backup_bad")
    try:
        missing = stockline(url, "db", "restore", str(tmp_path / "nowhere.dump"))
        assert missing.returncode == 1
        assert "does not exist" in one_line_error(missing)

        garbage = tmp_path / "garbage.dump"
        garbage.write_bytes(b"this is not a backup\n" * 200)
        corrupt = stockline(url, "db", "restore", str(garbage))
        assert corrupt.returncode == 1
        assert "not a backup pg_restore can read" in one_line_error(corrupt)

        truncated = tmp_path / "truncated.dump"  # the table of contents reads, the data ends early
        data = backup_file.read_bytes()
        truncated.write_bytes(data[: len(data) * 9 // 10])
        cut = stockline(url, "db", "restore", str(truncated))
        assert cut.returncode == 1
        assert "nothing was changed" in one_line_error(cut)
        with db.connect(url) as conn:
            assert db.missing_tables(conn) == list(db.TABLES)  # the one transaction rolled back
    finally:
        drop_database(url)


HALF_A_DUMP = """#!/bin/sh
for arg; do case "$arg" in --file=*) echo half > "${arg#--file=}";; esac; done
echo "pg_dump: error: connection to server lost" >&2
exit 1
"""


@slow
def test_a_failed_backup_leaves_the_previous_file_alone(database_url, tmp_path, tmp_path_factory):
    previous = tmp_path / "stockline.dump"
    previous.write_bytes(b"yesterday's backup")
    gone = db.with_database(database_url, "stockline_backup_no_such_database")
    result = stockline(gone, "db", "backup", str(previous))
    assert result.returncode == 1
    one_line_error(result)
    assert previous.read_bytes() == b"yesterday's backup"
    script = tmp_path_factory.mktemp("bin") / "pg_dump"  # a pg_dump dying half-way
    script.write_text(HALF_A_DUMP)
    script.chmod(0o755)
    failing = backup.Tool(script, 99, "99.0", embedded=False)
    with pytest.raises(StocklineError, match="pg_dump failed: connection to server lost"):
        backup.backup(database_url, previous, tool=failing)
    assert previous.read_bytes() == b"yesterday's backup"
    assert [p.name for p in tmp_path.iterdir()] == ["stockline.dump"]  # no partial file left


@slow
def test_a_backup_from_any_usable_pg_dump_restores(server_url, source, tmp_path):
    """Every pg_dump here that can dump this server (on PostgreSQL 15: the system's 15 and the
    embedded 16, whose archive only pg_restore 16 reads and whose SQL a 15 server takes)."""
    with db.connect(source) as conn:
        major, _ = backup.server_version(conn)
    usable = [tool for tool in backup.available_tools("pg_dump") if tool.major >= major]
    assert usable
    for tool in usable:
        path = backup.backup(source, tmp_path / f"pg_dump{tool.major}.dump", tool=tool)
        url = create_database(server_url, prefix="stockline_backup_cross")
        try:
            result = stockline(url, "db", "restore", str(path))
            assert result.returncode == 0, result.stderr
            assert row_counts(url) == row_counts(source)
            assert sequences(url) == sequences(source)
        finally:
            drop_database(url)


# --- choosing pg_dump / pg_restore ---------------------------------------------------------

def _tool(major: int, embedded: bool = False) -> backup.Tool:
    where = "/embedded/bin" if embedded else f"/usr/lib/postgresql/{major}/bin"
    return backup.Tool(Path(where) / "pg_dump", major, f"{major}.1", embedded)


def test_a_system_binary_is_used_only_when_it_is_new_enough():
    tools = [_tool(13), _tool(15), _tool(17), _tool(16, embedded=True)]
    assert backup.choose_tool("pg_dump", 15, tools) == _tool(15)  # the closest to the server
    assert backup.choose_tool("pg_dump", 16, tools) == _tool(17)
    assert backup.choose_tool("pg_dump", 16, [_tool(15), _tool(16, embedded=True)]) == _tool(16, embedded=True)
    with pytest.raises(StocklineError, match="pg_dump 18 or newer is needed"):
        backup.choose_tool("pg_dump", 18, tools)


def test_the_binaries_chosen_here_can_talk_to_the_test_server(database_url):
    with db.connect(database_url) as conn:
        major, _ = backup.server_version(conn)
    for name in ("pg_dump", "pg_restore"):
        tools = backup.available_tools(name)
        assert any(tool.embedded for tool in tools), tools  # the pgserver wheel's, runnable here
        chosen = backup.choose_tool(name, major, tools)
        assert chosen.major >= major
        if any(not tool.embedded and tool.major >= major for tool in tools):
            assert not chosen.embedded


def test_the_password_never_goes_on_the_command_line():
    conninfo, env = backup.client_target("postgresql://app:s3cret@db.example.com/stockline?sslmode=require")
    assert "s3cret" not in conninfo and "sslmode=require" in conninfo
    assert env["PGPASSWORD"] == "s3cret"
