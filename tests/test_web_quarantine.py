"""The batch page's quarantine and release forms and status history, and the batch's
traceability page, over HTTP on the real app and database, and in a real browser (the pages
checked for accessibility and fit, with screenshots)."""

from __future__ import annotations

import re

import httpx

from tests.ordering_world import PASSWORD, bearer, stock
from tests.test_web_quality import _check_pages
from tests.web_support import HTML, screenshot, sign_in, sign_in_by_form


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'").replace("&#34;", '"')


def _history(conn, batch_id: int) -> list[tuple]:
    rows = conn.execute("SELECT quarantined, reason, user_id FROM Batch_Status_Changes WHERE batch_id = %s "
                        "ORDER BY change_id", (batch_id,)).fetchall()
    return [(r["quarantined"], r["reason"], r["user_id"]) for r in rows]


async def test_quarantine_and_release_from_the_batch_page(client, world, conn):
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    batch_id = world["a_later"]
    page = _text((await client.get(f"/staff/batches/{batch_id}", headers=HTML)).text)
    assert "Released for sale" in page and "Quarantine batch A-LATER" in page and "Never quarantined" in page
    held = await client.post(f"/staff/batches/{batch_id}/quarantine", headers=HTML,
                             data={"reason": "Cold chain <broken>", "csrf_token": csrf})
    assert held.status_code == 303 and held.headers["location"] == f"/staff/batches/{batch_id}"
    page = await client.get(f"/staff/batches/{batch_id}", headers=HTML)
    text = _text(page.text)
    assert "Batch A-LATER is quarantined: no order can take it until it is released." in text
    assert "Release batch A-LATER" in text and "Quarantine batch A-LATER" not in text
    assert "Cold chain &lt;broken&gt;" in page.text  # escaped, in the status history
    assert f'href="/staff/batches/{batch_id}/trace"' in page.text
    released = await client.post(f"/staff/batches/{batch_id}/release", headers=HTML,
                                 data={"reason": "Logger checked", "csrf_token": csrf})
    assert released.status_code == 303
    assert _history(conn, batch_id) == [(True, "Cold chain <broken>", 4), (False, "Logger checked", 4)]
    assert stock(conn, batch_id) == 20


async def test_a_refused_hold_shows_why_and_changes_nothing(client, world, conn):
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    batch_id = world["b"]
    blank = await client.post(f"/staff/batches/{batch_id}/quarantine", headers=HTML,
                              data={"reason": "   ", "csrf_token": csrf})
    assert blank.status_code == 422 and "Reason is required" in _text(blank.text)
    long = await client.post(f"/staff/batches/{batch_id}/quarantine", headers=HTML,
                             data={"reason": "x" * 501, "csrf_token": csrf})
    assert long.status_code == 422 and "at most 500 characters" in _text(long.text)
    free = await client.post(f"/staff/batches/{batch_id}/release", headers=HTML,
                             data={"reason": "why", "csrf_token": csrf})
    assert free.status_code == 409 and "Batch B-1 is not quarantined" in _text(free.text)
    forged = await client.post(f"/staff/batches/{batch_id}/quarantine", headers=HTML, data={"reason": "x"})
    assert forged.status_code == 403
    assert (await client.post("/staff/batches/999999/quarantine", headers=HTML,
                              data={"reason": "x", "csrf_token": csrf})).status_code == 404
    assert _history(conn, batch_id) == []


async def test_a_recalled_batch_page_offers_no_release_nor_stock_changes(client, world, conn):
    recall_id = conn.execute("INSERT INTO Recalls (recall_no, recall_class, reason) VALUES "
                             "('RCL-2099-000002', 1, 'mislabelled') RETURNING recall_id").fetchone()["recall_id"]
    conn.execute("INSERT INTO Recall_Batches VALUES (%s, %s, 30)", (recall_id, world["b"]))
    conn.execute("UPDATE Inventory_Batches SET quarantined = true WHERE batch_id = %s", (world["b"],))
    conn.execute("INSERT INTO Batch_Status_Changes (batch_id, quarantined, reason, recall_id, ledger_position) "
                 "SELECT %s, true, 'recall', %s, max(movement_id) FROM Stock_Movements WHERE batch_id = %s",
                 (world["b"], recall_id, world["b"]))
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    page = await client.get(f"/staff/batches/{world['b']}", headers=HTML)
    text = _text(page.text)
    assert "Recalled under RCL-2099-000002" in text and "Release batch" not in text
    assert "Adjust stock" not in text and "Save the correction" not in text
    assert f'href="/staff/recalls/{recall_id}"' in page.text
    refused = await client.post(f"/staff/batches/{world['b']}/release", headers=HTML,
                                data={"reason": "x", "csrf_token": csrf})
    assert refused.status_code == 409 and "never released" in _text(refused.text)


async def test_the_trace_page_shows_both_directions_and_pages_the_ledger(client, world, conn):
    customer = await bearer(client, "cust_2")
    for _ in range(3):
        assert (await client.post("/api/orders", json={"sku_id": 2, "quantity": 2}, headers=customer)).status_code == 201
    await sign_in_by_form(client, "staffer", PASSWORD)
    page = await client.get(f"/staff/batches/{world['b']}/trace", headers=HTML)
    assert page.status_code == 200
    text = _text(page.text)
    assert "Trace of batch B-1" in text and "none: received by hand" in text
    assert "Second Pharmacy" in text and "Never quarantined nor recalled" in text
    assert f'href="/api/admin/inventory/batches/{world["b"]}/trace?format=csv"' in page.text
    csv = await client.get(f"/api/admin/inventory/batches/{world['b']}/trace?format=csv")  # by the session cookie
    assert csv.status_code == 200 and len(csv.text.strip().splitlines()) == 1 + 4
    assert (await client.get("/staff/batches/999999/trace", headers=HTML)).status_code == 404
    assert (await client.get(f"/staff/batches/{world['b']}/trace?page=abc", headers=HTML)).status_code == 200
    client.cookies.clear()
    await sign_in_by_form(client, "cust_2", PASSWORD)
    assert (await client.get(f"/staff/batches/{world['b']}/trace", headers=HTML)).status_code == 403


def test_quarantine_and_trace_in_a_browser(world, conn, live_url, page):
    token = httpx.post(f"{live_url}/api/login", json={"username": "cust_1", "password": PASSWORD}).json()["access_token"]
    placed = httpx.post(f"{live_url}/api/orders", json={"sku_id": 1, "quantity": 7},
                        headers={"Authorization": f"Bearer {token}"})
    assert placed.status_code == 201
    sign_in(page, live_url, "staffer", PASSWORD)
    page.goto(f"{live_url}/staff/batches/{world['a_later']}")
    page.get_by_label("Why it goes on hold").fill("Temperature excursion in transit")
    page.get_by_role("button", name="Quarantine batch A-LATER").click()
    page.get_by_text("Batch A-LATER is quarantined").wait_for()
    screenshot(page, "staff_batch_quarantined")
    page.get_by_role("link", name="Traceability: where it came from and went").click()
    page.get_by_role("heading", name="Trace of batch A-LATER").wait_for()
    screenshot(page, "staff_batch_trace")
    paths = [f"/staff/batches/{world['a_later']}", f"/staff/batches/{world['a_later']}/trace",
             f"/staff/batches/{world['a_soon']}/trace"]
    assert _check_pages(page, live_url, paths, {}) == []
