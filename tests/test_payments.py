"""Payments through the real app (POST /api/admin/invoices/{id}/payments): partial, exact and
over-payments and what each does to the balance and status, refusals (duplicate reference,
bad amounts and dates, unknown invoice) that change nothing, the audit entry, and payments
on one invoice at the same moment, which all count.

The invoice: customer 1's order of 2 x SKU 2 (30.00, 5 % tax): 63.00 gross."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import psycopg
import pytest

from stockline.invariants import check_invariants
from tests.invoice_support import issue_on, place, shipped, taxed
from tests.ordering_world import TODAY, bearer
from tests.races import wait_until_blocked


@pytest.fixture
async def staff(client, world, conn):
    taxed(conn)
    return await bearer(client, "staffer")


@pytest.fixture
async def invoice_id(client, staff) -> int:
    return (await shipped(client, "cust_1", {2: 2}, staff))["invoice_id"]


async def pay(client, staff, invoice_id, amount, reference, paid_on=None):
    return await client.post(f"/api/admin/invoices/{invoice_id}/payments", headers=staff, json={
        "amount": amount, "paid_on": (paid_on or TODAY).isoformat(), "reference": reference})


def stored(conn, invoice_id) -> tuple[Decimal, int]:
    row = conn.execute("SELECT i.amount_paid, (SELECT count(*) FROM Payments AS p WHERE p.invoice_id = i.invoice_id) "
                       "AS payments FROM Invoices AS i WHERE i.invoice_id = %s", (invoice_id,)).fetchone()
    return row["amount_paid"], row["payments"]


def assert_invariants_hold(conn) -> None:
    broken = {r.name: r.offenders for r in check_invariants(conn) if not r.holds}
    assert broken == {}


async def test_a_partial_then_the_rest_then_more_moves_status_and_balance(client, conn, staff, invoice_id):
    partial = await pay(client, staff, invoice_id, "20.00", "BANK-1")
    assert partial.status_code == 201, partial.text
    body = partial.json()
    assert (body["amount_paid"], body["balance"], body["overpaid"], body["status"]) == (
        "20.00", "43.00", "0.00", "partly_paid")
    assert [(p["amount"], p["reference"], p["recorded_by"]) for p in body["payments"]] == [
        ("20.00", "BANK-1", "staffer")]
    exact = (await pay(client, staff, invoice_id, 43, "BANK-2")).json()  # a JSON number works too
    assert (exact["amount_paid"], exact["balance"], exact["overpaid"], exact["status"]) == (
        "63.00", "0.00", "0.00", "paid")
    # more than is owed: recorded as it arrived, the balance below zero is the customer's credit
    more = await pay(client, staff, invoice_id, "5.00", "BANK-3")
    assert more.status_code == 201
    assert (more.json()["balance"], more.json()["overpaid"], more.json()["status"]) == ("-5.00", "5.00", "paid")
    assert stored(conn, invoice_id) == (Decimal("68.00"), 3)
    mine = (await client.get(f"/api/my-invoices/{invoice_id}", headers=await bearer(client, "cust_1"))).json()
    assert (mine["balance"], mine["overpaid"], mine["status"], len(mine["payments"])) == ("-5.00", "5.00", "paid", 3)
    listed = (await client.get("/api/admin/invoices", params={"status": "paid"}, headers=staff)).json()
    assert [(i["invoice_id"], i["balance"]) for i in listed["items"]] == [(invoice_id, "-5.00")]
    assert_invariants_hold(conn)


async def test_one_payment_over_the_whole_invoice_is_accepted_and_says_so(client, conn, staff, invoice_id):
    over = await pay(client, staff, invoice_id, "100", "BANK-BIG")
    assert over.status_code == 201
    assert (over.json()["amount_paid"], over.json()["balance"], over.json()["overpaid"]) == (
        "100.00", "-37.00", "37.00")


async def test_paying_an_overdue_invoice_in_full_makes_it_paid(client, conn, staff):
    order = await place(client, await bearer(client, "cust_1"), {3: 2})  # 5.00, zero-rated
    invoice_id = issue_on(conn, order["order_id"], TODAY - timedelta(days=45))
    before = (await client.get(f"/api/admin/invoices/{invoice_id}", headers=staff)).json()
    assert before["status"] == "overdue"
    partly = (await pay(client, staff, invoice_id, "1.00", "R1", paid_on=TODAY - timedelta(days=45))).json()
    assert partly["status"] == "overdue"  # still owing past its due date
    assert (await pay(client, staff, invoice_id, "4.00", "R2")).json()["status"] == "paid"


async def test_the_same_reference_twice_on_one_invoice_is_409_and_changes_nothing(client, conn, staff, invoice_id):
    assert (await pay(client, staff, invoice_id, "10.00", "BANK-9")).status_code == 201
    again = await pay(client, staff, invoice_id, "12.00", "  BANK-9 ")  # the same reference, padded
    assert again.status_code == 409
    error = again.json()["error"]
    assert error["code"] == "duplicate_payment" and "BANK-9" in error["message"]
    assert error["details"]["payment"]["amount"] == "10.00"
    assert error["details"]["payment"]["recorded_by"] == "staffer"
    assert stored(conn, invoice_id) == (Decimal("10.00"), 1)
    # the same reference on another invoice is another payment
    other = (await shipped(client, "cust_1", {3: 1}, staff))["invoice_id"]
    assert (await pay(client, staff, other, "2.50", "BANK-9")).status_code == 201


@pytest.mark.parametrize("amount", [
    0, "0", "0.00", -5, "-5.00", "12.345", 12.345, "0.001", "1e2", "1E2", "NaN", "Infinity", "-Infinity",
    "12,50", "1_000", "", " ", "ten", "0x10", True, None, [], {}, "99999999999.99", 1e20, "10000000000.00",
    "12.3.4", ".5", "5.",
])
async def test_an_amount_not_above_zero_with_two_decimals_is_422(client, conn, staff, invoice_id, amount):
    response = await pay(client, staff, invoice_id, amount, "BAD")
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"
    assert stored(conn, invoice_id) == (Decimal("0.00"), 0)


@pytest.mark.parametrize(("amount", "recorded"), [
    ("0.01", "0.01"), ("12.5", "12.50"), (7, "7.00"), (0.1, "0.10"), (12.34, "12.34"), (" 3.00 ", "3.00"),
    ("9999999999.99", "9999999999.99"),
])
async def test_amounts_are_read_as_written_never_through_binary_floats(client, conn, staff, invoice_id, amount,
                                                                       recorded):
    response = await pay(client, staff, invoice_id, amount, "OK")
    assert response.status_code == 201, response.text
    assert response.json()["payments"][0]["amount"] == recorded
    assert stored(conn, invoice_id)[0] == Decimal(recorded)


async def test_the_payment_day_is_not_in_the_future_nor_before_the_invoice(client, conn, staff):
    order = await place(client, await bearer(client, "cust_1"), {3: 1})
    issued = TODAY - timedelta(days=5)
    invoice_id = issue_on(conn, order["order_id"], issued)
    future = await pay(client, staff, invoice_id, "1.00", "F", paid_on=TODAY + timedelta(days=1))
    assert future.status_code == 422 and "future" in future.json()["error"]["message"]
    assert future.json()["error"]["details"]["field"] == "paid_on"
    early = await pay(client, staff, invoice_id, "1.00", "E", paid_on=issued - timedelta(days=1))
    assert early.status_code == 422 and "before" in early.json()["error"]["message"]
    assert stored(conn, invoice_id) == (Decimal("0.00"), 0)
    assert (await pay(client, staff, invoice_id, "1.00", "ON-ISSUE", paid_on=issued)).status_code == 201
    assert (await pay(client, staff, invoice_id, "1.00", "TODAY")).status_code == 201


@pytest.mark.parametrize("body", [
    {"amount": "1.00", "paid_on": TODAY.isoformat(), "reference": ""},
    {"amount": "1.00", "paid_on": TODAY.isoformat(), "reference": "   "},
    {"amount": "1.00", "paid_on": TODAY.isoformat(), "reference": "x" * 101},
    {"amount": "1.00", "paid_on": TODAY.isoformat(), "reference": "NUL\u0000"},
    {"amount": "1.00", "paid_on": TODAY.isoformat()},
    {"amount": "1.00", "reference": "R"},
    {"paid_on": TODAY.isoformat(), "reference": "R"},
    {"amount": "1.00", "paid_on": "yesterday", "reference": "R"},
    {"amount": "1.00", "paid_on": "2026-02-30", "reference": "R"},
    {"amount": "1.00", "paid_on": TODAY.isoformat(), "reference": "R", "customer_id": 2},
])
async def test_a_bad_body_is_422_and_records_nothing(client, conn, staff, invoice_id, body):
    response = await client.post(f"/api/admin/invoices/{invoice_id}/payments", json=body, headers=staff)
    assert response.status_code == 422, response.text
    assert stored(conn, invoice_id) == (Decimal("0.00"), 0)


async def test_a_payment_on_an_unknown_invoice_is_404(client, staff):
    response = await pay(client, staff, 987654, "1.00", "R")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


async def test_each_payment_is_in_the_audit_log_with_the_invoice_before_and_after(client, conn, staff, invoice_id):
    await pay(client, staff, invoice_id, "20.00", "BANK-1")
    await pay(client, staff, invoice_id, "20.00", "BANK-1")  # refused: no entry
    entries = conn.execute("SELECT actor_username, action, entity_type, entity_id, before, after FROM Audit_Log "
                           "WHERE action = 'invoice.payment'").fetchall()
    assert len(entries) == 1
    entry = entries[0]
    assert (entry["actor_username"], entry["entity_type"], entry["entity_id"]) == ("staffer", "invoice", invoice_id)
    assert entry["before"] == {"amount_paid": "0.00"}
    assert {key: entry["after"][key] for key in ("amount_paid", "amount", "reference", "paid_on")} == {
        "amount_paid": "20.00", "amount": "20.00", "reference": "BANK-1", "paid_on": TODAY.isoformat()}


async def test_payments_at_the_same_moment_on_one_invoice_all_count(client, conn, staff, invoice_id, clean_db):
    """A rival holds the invoice's row; three payments arrive and queue behind it. When it lets
    go, each adds to what the one before left: none is lost."""
    with psycopg.connect(clean_db) as rival:
        rival.execute("SELECT 1 FROM Invoices WHERE invoice_id = %s FOR UPDATE", (invoice_id,))
        requests = [asyncio.create_task(pay(client, staff, invoice_id, amount, f"SAME-MOMENT-{n}"))
                    for n, amount in enumerate(("10.00", "20.50", "7.25"))]
        await wait_until_blocked(clean_db, rival.info.backend_pid, requests[0])
        rival.commit()
        answers = await asyncio.gather(*requests)
    assert [answer.status_code for answer in answers] == [201, 201, 201]
    assert stored(conn, invoice_id) == (Decimal("37.75"), 3)
    final = (await client.get(f"/api/admin/invoices/{invoice_id}", headers=staff)).json()
    assert (final["amount_paid"], final["balance"]) == ("37.75", "25.25")
    assert_invariants_hold(conn)
