"""The recall pages over HTTP: staff start a recall from the form, read its progress and trace,
record units sent back, destroy what is held and close it; a refusal is shown on the page.
Customers see the recall on /recalls and an unmissable notice on their orders, never another
customer's. Then the pages in a real browser (labels, contrast, fit)."""

from __future__ import annotations

import re

import httpx

from tests.ordering_world import PASSWORD, stock
from tests.test_recalls import recall_world
from tests.test_web_quality import _check_pages
from tests.web_support import HTML, sign_in, sign_in_by_form


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'").replace("&amp;", "&")


async def _follow(client, response):
    assert response.status_code == 303, response.text
    return await client.get(response.headers["location"], headers=HTML)


async def test_staff_start_a_recall_and_work_it_through_the_pages(client, conn, world):
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    empty = await client.get("/staff/recalls", headers=HTML)
    assert empty.status_code == 200 and "No recalls yet" in empty.text

    bad = await client.post("/staff/recalls", data={"csrf_token": csrf, "batch_ids": "12x", "class": "1",
                                                    "reason": "Glass"})
    assert bad.status_code == 422 and "Batch numbers (ids)" in _text(bad.text)
    assert 'value="12x"' in bad.text  # what was typed is kept
    missing = await client.post("/staff/recalls", data={"csrf_token": csrf, "batch_ids": "999999", "class": "2",
                                                        "reason": "Glass"})
    assert missing.status_code == 404
    assert conn.execute("SELECT count(*) AS n FROM Recalls").fetchone()["n"] == 0

    started = await client.post("/staff/recalls", data={
        "csrf_token": csrf, "batch_ids": f"{world['a_soon']}, {world['c']}", "class": "2",
        "reason": "Label misprint"})
    page = await _follow(client, started)
    text = _text(page.text)
    assert "Recall RCL-" in text and "is back" not in text and "Label misprint" in text
    assert "No customer received these batches" in text
    recall_id = int(started.headers["location"].rsplit("/", 1)[1])
    listed = _text((await client.get("/staff/recalls?status=open", headers=HTML)).text)
    assert "Label misprint" in listed

    refused = await client.post(f"/staff/recalls/{recall_id}/destructions", data={
        "csrf_token": csrf, "batch_id": str(world["c"]), "quantity": "5"})
    assert refused.status_code == 409 and "holds 4 units" in _text(refused.text)
    destroyed = await _follow(client, await client.post(f"/staff/recalls/{recall_id}/destructions", data={
        "csrf_token": csrf, "batch_id": str(world["c"]), "quantity": "4", "note": "cert 9"}))
    assert "4 units destroyed" in _text(destroyed.text)
    assert stock(conn, world["c"]) == 0
    await _follow(client, await client.post(f"/staff/recalls/{recall_id}/destructions", data={
        "csrf_token": csrf, "batch_id": str(world["a_soon"]), "quantity": "5"}))
    closed = await _follow(client, await client.post(f"/staff/recalls/{recall_id}/close", data={
        "csrf_token": csrf, "note": "Nothing was sold; stock destroyed"}))
    assert "is closed" in _text(closed.text) and "Close the recall" not in closed.text


async def test_the_recall_page_records_returns_and_offers_notices(client, conn, world):
    w = await recall_world(client, conn, world)
    recall_id, first = w["recall"]["recall_id"], w["first"]
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    page = await client.get(f"/staff/recalls/{recall_id}", headers=HTML)
    text = _text(page.text)
    assert page.status_code == 200 and "Orders not shipped" in text and "First Pharmacy" in text
    assert f'href="/api/admin/recalls/{recall_id}/notices/1"' in page.text
    assert f'href="/staff/orders/{w["pending"]["order_id"]}"' in page.text
    item = w["items"]["A-SOON"]
    too_many = await client.post(f"/staff/recalls/{recall_id}/returns", data={
        "csrf_token": csrf, "order_id": str(first["order_id"]), "order_item_id": str(item), "quantity": "6"})
    assert too_many.status_code == 409 and "More units" in _text(too_many.text)
    done = await _follow(client, await client.post(f"/staff/recalls/{recall_id}/returns", data={
        "csrf_token": csrf, "order_id": str(first["order_id"]), "order_item_id": str(item), "quantity": "5"}))
    assert "5 units of order" in _text(done.text) and "credit note CN-" in _text(done.text)
    assert stock(conn, world["a_soon"]) == 5
    not_yet = await client.post(f"/staff/recalls/{recall_id}/close", data={"csrf_token": csrf, "note": "x"})
    assert not_yet.status_code == 409 and "still has units outstanding" in _text(not_yet.text)
    pdf = await client.get(f"/api/admin/recalls/{recall_id}/notices/2")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


async def test_customers_see_an_unmissable_notice_on_their_orders_and_only_their_own(client, conn, world):
    w = await recall_world(client, conn, world)
    recall_no = w["recall"]["recall_no"]
    await sign_in_by_form(client, "cust_1", PASSWORD)
    recalls = _text((await client.get("/recalls", headers=HTML)).text)
    assert recall_no in recalls and "1 product recall concerns your orders" in recalls
    assert f"Order #{w['first']['order_id']}" in recalls and f"Order #{w['second']['order_id']}" not in recalls
    orders = await client.get("/orders", headers=HTML)
    assert 'role="alert"' in orders.text and "Product recall:" in _text(orders.text)
    order = _text((await client.get(f"/orders/{w['first']['order_id']}", headers=HTML)).text)
    assert f"Product recall {recall_no}" in order and f"recalled: {recall_no}" in order

    async with httpx.AsyncClient(transport=client._transport, base_url=str(client.base_url)) as other:
        await sign_in_by_form(other, "cust_2", PASSWORD)
        theirs = _text((await other.get("/recalls", headers=HTML)).text)
        assert f"Order #{w['second']['order_id']}" in theirs and f"Order #{w['first']['order_id']}" not in theirs
        assert (await other.get(f"/orders/{w['first']['order_id']}", headers=HTML)).status_code == 404
        assert (await other.get("/staff/recalls", headers=HTML)).status_code in (403, 404)


async def test_without_a_recall_the_pages_say_so(client, conn, world):
    await sign_in_by_form(client, "cust_1", PASSWORD)
    page = _text((await client.get("/recalls", headers=HTML)).text)
    assert "No recalls concern your orders" in page
    assert "Product recall" not in _text((await client.get("/orders", headers=HTML)).text)


def test_recall_pages_are_accessible_and_fit(world, conn, live_url, page):
    with httpx.Client(base_url=live_url) as api:
        def token(username: str) -> dict:
            answer = api.post("/api/login", json={"username": username, "password": PASSWORD})
            return {"Authorization": f"Bearer {answer.json()['access_token']}"}
        customer, staff = token("cust_1"), token("staffer")
        api.post("/api/cart", json={"sku_id": 1, "quantity": 7}, headers=customer)
        order_id = api.post("/api/checkout", headers=customer).json()["order_id"]
        for status in ("processed", "shipped"):
            api.post(f"/api/admin/orders/{order_id}/status", json={"status": status}, headers=staff)
        recall = api.post("/api/admin/recalls", json={"batch_ids": [world["a_soon"]], "reason": "Glass",
                                                      "class": 1}, headers=staff).json()
    ids = {"order_id": order_id, "recall_id": recall["recall_id"]}
    sign_in(page, live_url, "cust_1", PASSWORD)
    assert _check_pages(page, live_url, ["/recalls", "/orders", "/orders/{order_id}"], ids) == []
    page.context.clear_cookies()
    sign_in(page, live_url, "boss", PASSWORD)
    assert _check_pages(page, live_url, ["/staff/recalls", "/staff/recalls/{recall_id}"], ids) == []
