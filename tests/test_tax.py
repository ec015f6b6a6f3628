"""Tax classes and their dated rates through the real ASGI app: who may read and change them,
what each route writes (and audits), the scheduling rules (history is never rewritten), a
scheduled rate reaching orders on its day and not before, SKUs put in classes, a class
deleted while a SKU joins it, and the Python line tax equal to the SQL one."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stockline import db
from stockline.tax.rules import line_tax
from tests.ordering_world import TODAY, bearer
from tests.races import wait_until_blocked

CLASSES = "/api/admin/tax-classes"
TOMORROW = TODAY + timedelta(days=1)
YESTERDAY = TODAY - timedelta(days=1)


@pytest.fixture
async def admin(client, world):
    return await bearer(client, "boss")


@pytest.fixture
async def staff(client, world):
    return await bearer(client, "staffer")


async def create(client, headers, code: str = "standard", name: str = "Standard rate", rate: str = "20.00") -> dict:
    response = await client.post(CLASSES, json={"tax_class": code, "name": name, "rate": rate}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def schedule(client, headers, code: str, rate: str, valid_from) -> dict:
    response = await client.post(f"{CLASSES}/{code}/rates", json={"rate": rate, "valid_from": str(valid_from)},
                                 headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def tax_tables(conn) -> tuple[list[dict], list[dict]]:
    classes = conn.execute("SELECT tax_class, tax_class_id, name FROM Tax_Classes ORDER BY tax_class").fetchall()
    rates = conn.execute("SELECT tax_class, valid_from::text, rate FROM Tax_Rates "
                         "ORDER BY tax_class, valid_from").fetchall()
    return classes, rates


def audit_entries(conn) -> list[dict]:
    return conn.execute("SELECT actor_username, action, entity_type, entity_id, before, after FROM Audit_Log "
                        "ORDER BY audit_id").fetchall()


def rate_on(conn, code: str, day) -> Decimal:
    return conn.execute("SELECT stockline_tax_rate(%s, %s) AS rate", (code, day)).fetchone()["rate"]


# --- who may do what -----------------------------------------------------------------------

async def test_staff_read_classes_only_admins_change_them_and_customers_get_nothing(client, world, conn):
    admin = await bearer(client, "boss")
    await create(client, admin, "reduced", "Reduced rate", "5.00")
    await schedule(client, admin, "reduced", "6.00", TOMORROW)
    before = tax_tables(conn), audit_entries(conn)
    callers = {"anonymous": {}, "customer": await bearer(client, "cust_1"), "staff": await bearer(client, "staffer")}
    reads = [("GET", CLASSES, None), ("GET", f"{CLASSES}/reduced", None)]
    writes = [("POST", CLASSES, {"tax_class": "standard", "name": "Standard", "rate": "20"}),
              ("PATCH", f"{CLASSES}/reduced", {"name": "Renamed"}),
              ("DELETE", f"{CLASSES}/reduced", None),
              ("POST", f"{CLASSES}/reduced/rates", {"rate": "7", "valid_from": str(TOMORROW + timedelta(days=1))}),
              ("DELETE", f"{CLASSES}/reduced/rates/{TOMORROW}", None)]
    for method, path, body in reads + writes:
        for who, expected in (("anonymous", 401), ("customer", 403)):
            response = await client.request(method, path, json=body, headers=callers[who])
            assert response.status_code == expected, (method, path, who, response.text)
            assert set(response.json()) == {"error"}
    for method, path, _ in reads:
        assert (await client.request(method, path, headers=callers["staff"])).status_code == 200, path
    for method, path, body in writes:
        response = await client.request(method, path, json=body, headers=callers["staff"])
        assert response.status_code == 403, (method, path, response.text)
    assert (tax_tables(conn), audit_entries(conn)) == before


# --- reading -------------------------------------------------------------------------------

async def test_the_list_shows_every_class_with_its_rates_current_rate_next_change_and_sku_count(
        client, admin, staff, conn):
    await create(client, admin, "standard", "Standard rate", "20.00")
    await create(client, admin, "reduced", "Reduced rate", "5")
    conn.execute("INSERT INTO Tax_Rates (tax_class, valid_from, rate) VALUES ('standard', %s, 19.00)",
                 (TODAY - timedelta(days=30),))  # a change that came into force last month
    await schedule(client, admin, "standard", "21.00", TODAY + timedelta(days=60))
    await schedule(client, admin, "standard", "22.50", TOMORROW)
    conn.execute("UPDATE Product_SKUs SET tax_class = 'standard' WHERE sku_id IN (1, 2, 4)")  # 4 is not on sale
    page = (await client.get(CLASSES, headers=staff)).json()
    assert (page["total_items"], page["total_pages"], page["current_page"]) == (3, 1, 1)
    assert [(c["tax_class"], c["name"], c["current_rate"], c["sku_count"]) for c in page["items"]] == [
        ("reduced", "Reduced rate", "5.00", 0), ("standard", "Standard rate", "19.00", 3), ("zero", "Zero rate", "0.00", 1)]
    standard = page["items"][1]
    assert standard["rates"] == [
        {"valid_from": None, "rate": "20.00", "state": "superseded"},
        {"valid_from": str(TODAY - timedelta(days=30)), "rate": "19.00", "state": "current"},
        {"valid_from": str(TOMORROW), "rate": "22.50", "state": "scheduled"},
        {"valid_from": str(TODAY + timedelta(days=60)), "rate": "21.00", "state": "scheduled"}]
    assert standard["next_rate"] == {"valid_from": str(TOMORROW), "rate": "22.50"}
    assert page["items"][0]["rates"] == [{"valid_from": None, "rate": "5.00", "state": "current"}]
    assert page["items"][0]["next_rate"] is None
    one = await client.get(f"{CLASSES}/standard", headers=staff)
    assert one.status_code == 200 and one.json() == standard
    # the current rate is the SQL rule's, the one orders use
    assert Decimal(standard["current_rate"]) == rate_on(conn, "standard", TODAY)
    second = (await client.get(CLASSES, params={"limit": 2, "page": 2}, headers=staff)).json()
    assert ([c["tax_class"] for c in second["items"]], second["total_pages"]) == (["zero"], 2)
    past_the_end = (await client.get(CLASSES, params={"limit": 2, "page": 9}, headers=staff)).json()
    assert (past_the_end["items"], past_the_end["total_items"]) == ([], 3)


@pytest.mark.parametrize(("path", "status"), [
    (f"{CLASSES}/missing", 404), (f"{CLASSES}/Standard", 422), (f"{CLASSES}/9lives", 422),
    (f"{CLASSES}/{'x' * 33}", 422), (f"{CLASSES}/a%20b", 422), (f"{CLASSES}?limit=0", 422),
])
async def test_unknown_and_malformed_classes_are_refused_in_the_one_error_shape(client, staff, path, status):
    response = await client.get(path, headers=staff)
    assert response.status_code == status, response.text
    assert set(response.json()["error"]) == {"code", "message", "details"}
    if status == 404:
        assert response.json()["error"]["message"] == "No tax class 'missing'"


# --- classes -------------------------------------------------------------------------------

async def test_adding_a_class_gives_it_its_rate_since_always_and_is_audited(client, admin, conn):
    response = await client.post(CLASSES, json={"tax_class": "standard", "name": "  Standard rate ", "rate": 20},
                                 headers=admin)
    assert response.status_code == 201, response.text
    created = response.json()
    assert {key: created[key] for key in ("tax_class", "name", "current_rate", "next_rate", "sku_count")} == {
        "tax_class": "standard", "name": "Standard rate", "current_rate": "20.00", "next_rate": None, "sku_count": 0}
    assert created["rates"] == [{"valid_from": None, "rate": "20.00", "state": "current"}]
    assert tax_tables(conn)[1] == [{"tax_class": "standard", "valid_from": "-infinity", "rate": Decimal("20.00")},
                                   {"tax_class": "zero", "valid_from": "-infinity", "rate": Decimal("0.00")}]
    [entry] = audit_entries(conn)
    assert entry == {"actor_username": "boss", "action": "tax_class.create", "entity_type": "tax_class",
                     "entity_id": created["tax_class_id"], "before": None,
                     "after": {"tax_class": "standard", "name": "Standard rate", "rate": "20.00"}}
    again = await client.post(CLASSES, json={"tax_class": "standard", "name": "Other", "rate": "5"}, headers=admin)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "tax_class_exists")
    assert again.json()["error"]["details"] == {"tax_class": "standard"}
    assert len(audit_entries(conn)) == 1
    assert (await client.get(f"{CLASSES}/standard", headers=admin)).json()["name"] == "Standard rate"


@pytest.mark.parametrize("body", [
    {"tax_class": "Standard", "name": "x", "rate": "1"}, {"tax_class": "1st", "name": "x", "rate": "1"},
    {"tax_class": "has space", "name": "x", "rate": "1"}, {"tax_class": "a" * 33, "name": "x", "rate": "1"},
    {"tax_class": "", "name": "x", "rate": "1"}, {"tax_class": "ok", "name": "", "rate": "1"},
    {"tax_class": "ok", "name": "   ", "rate": "1"}, {"tax_class": "ok", "name": "n" * 101, "rate": "1"},
    {"tax_class": "ok", "name": "x\u0000y", "rate": "1"}, {"tax_class": "ok", "name": "x", "rate": "-0.01"},
    {"tax_class": "ok", "name": "x", "rate": "100.01"}, {"tax_class": "ok", "name": "x", "rate": "1.234"},
    {"tax_class": "ok", "name": "x", "rate": "NaN"}, {"tax_class": "ok", "name": "x", "rate": "lots"},
    {"tax_class": "ok", "name": "x"}, {"tax_class": "ok", "name": "x", "rate": "1", "valid_from": "2030-01-01"},
])
async def test_bad_classes_are_422_and_write_nothing(client, admin, conn, body):
    before = tax_tables(conn)
    response = await client.post(CLASSES, json=body, headers=admin)
    assert (response.status_code, response.json()["error"]["code"]) == (422, "validation_error"), response.text
    assert tax_tables(conn) == before and audit_entries(conn) == []


async def test_the_rate_may_be_anything_from_0_to_100_with_two_places(client, admin, conn):
    for code, rate in (("nil", "0"), ("full", "100"), ("odd", "7.25"), ("short", "8.5")):
        assert (await create(client, admin, code, code, rate))["current_rate"] == f"{Decimal(rate):.2f}"


async def test_renaming_a_class(client, admin, conn):
    created = await create(client, admin)
    renamed = await client.patch(f"{CLASSES}/standard", json={"name": "Standard VAT"}, headers=admin)
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["name"], renamed.json()["current_rate"]) == ("Standard VAT", "20.00")
    entry = audit_entries(conn)[-1]
    assert (entry["action"], entry["entity_id"]) == ("tax_class.update", created["tax_class_id"])
    assert (entry["before"]["name"], entry["after"]["name"]) == ("Standard rate", "Standard VAT")
    for body in ({"name": ""}, {"name": None}, {}, {"name": "x", "rate": "5"}, {"tax_class": "other"}):
        response = await client.patch(f"{CLASSES}/standard", json=body, headers=admin)
        assert response.status_code == 422, body
    missing = await client.patch(f"{CLASSES}/missing", json={"name": "x"}, headers=admin)
    assert missing.status_code == 404
    assert (await client.patch(f"{CLASSES}/zero", json={"name": "Exempt"}, headers=admin)).status_code == 200
    assert [c["name"] for c in tax_tables(conn)[0]] == ["Standard VAT", "Exempt"]


async def test_deleting_an_unused_class_removes_its_rates_and_is_audited(client, admin, conn):
    created = await create(client, admin)
    await schedule(client, admin, "standard", "21.00", TOMORROW)
    response = await client.delete(f"{CLASSES}/standard", headers=admin)
    assert response.status_code == 204, response.text
    assert tax_tables(conn) == ([{"tax_class": "zero", "tax_class_id": 1, "name": "Zero rate"}],
                                [{"tax_class": "zero", "valid_from": "-infinity", "rate": Decimal("0.00")}])
    entry = audit_entries(conn)[-1]
    assert (entry["action"], entry["entity_id"], entry["after"]) == ("tax_class.delete", created["tax_class_id"], None)
    assert entry["before"] == {"tax_class": "standard", "tax_class_id": created["tax_class_id"],
                               "name": "Standard rate", "rates": [{"valid_from": None, "rate": "20.00"},
                                                                  {"valid_from": str(TOMORROW), "rate": "21.00"}]}
    assert (await client.get(f"{CLASSES}/standard", headers=admin)).status_code == 404
    assert (await client.delete(f"{CLASSES}/standard", headers=admin)).status_code == 404


async def test_a_class_in_use_and_the_zero_class_cannot_be_deleted(client, admin, conn):
    await create(client, admin)
    conn.execute("UPDATE Product_SKUs SET tax_class = 'standard' WHERE sku_id IN (2, 3)")
    before = tax_tables(conn), audit_entries(conn)
    in_use = await client.delete(f"{CLASSES}/standard", headers=admin)
    assert (in_use.status_code, in_use.json()["error"]["code"]) == (409, "tax_class_in_use")
    assert in_use.json()["error"]["details"] == {"tax_class": "standard", "sku_count": 2}
    assert in_use.json()["error"]["message"] == ("2 SKUs are in tax class 'standard'; "
                                                 "move them to another class first")
    default = await client.delete(f"{CLASSES}/zero", headers=admin)
    assert (default.status_code, default.json()["error"]["code"]) == (409, "tax_class_is_default")
    assert (tax_tables(conn), audit_entries(conn)) == before


async def test_an_order_keeps_its_rate_when_its_skus_class_goes(client, admin, conn):
    await create(client, admin)
    sku = await client.patch("/api/admin/skus/2", json={"tax_class": "standard"}, headers=admin)
    assert sku.status_code == 200, sku.text
    cust2 = await bearer(client, "cust_2")
    order = (await client.post("/api/orders", json={"sku_id": 2, "quantity": 1}, headers=cust2)).json()
    assert (order["tax_amount"], order["gross_amount"]) == ("6.00", "36.00")
    await client.patch("/api/admin/skus/2", json={"tax_class": "zero"}, headers=admin)
    assert (await client.delete(f"{CLASSES}/standard", headers=admin)).status_code == 204
    again = (await client.get(f"/api/my-orders/{order['order_id']}", headers=cust2)).json()
    assert (again["items"][0]["tax_rate"], again["tax_amount"], again["gross_amount"]) == ("20.00", "6.00", "36.00")


async def test_a_class_deleted_while_a_sku_joins_it_is_refused_once_the_sku_is_in(client, admin, clean_db, conn):
    """The SKU's foreign-key check holds a share of the class row's lock until it commits; the
    delete waits for it, then counts the SKU."""
    await create(client, admin, "reduced", "Reduced rate", "5.00")
    with psycopg.connect(clean_db) as rival:
        rival.execute("UPDATE Product_SKUs SET tax_class = 'reduced' WHERE sku_id = 3")
        request = asyncio.create_task(client.delete(f"{CLASSES}/reduced", headers=admin))
        await wait_until_blocked(clean_db, rival.info.backend_pid, request)
        rival.commit()
        response = await request
    assert (response.status_code, response.json()["error"]["details"]["sku_count"]) == (409, 1)
    assert conn.execute("SELECT tax_class FROM Product_SKUs WHERE sku_id = 3").fetchone()["tax_class"] == "reduced"


# --- scheduling rates ----------------------------------------------------------------------

async def test_a_rate_is_scheduled_from_a_later_day_listed_and_audited(client, admin, conn):
    created = await create(client, admin)
    shown = await schedule(client, admin, "standard", "22.5", TOMORROW)
    assert (shown["current_rate"], shown["next_rate"]) == ("20.00", {"valid_from": str(TOMORROW), "rate": "22.50"})
    assert shown["rates"][-1] == {"valid_from": str(TOMORROW), "rate": "22.50", "state": "scheduled"}
    entry = audit_entries(conn)[-1]
    assert entry == {"actor_username": "boss", "action": "tax_class.schedule_rate", "entity_type": "tax_class",
                     "entity_id": created["tax_class_id"], "before": None,
                     "after": {"tax_class": "standard", "valid_from": str(TOMORROW), "rate": "22.50"}}
    far = await schedule(client, admin, "standard", "0", TODAY + timedelta(days=3650))
    assert far["next_rate"]["valid_from"] == str(TOMORROW)  # the first change to come
    assert [r["state"] for r in far["rates"]] == ["current", "scheduled", "scheduled"]


@pytest.mark.parametrize("valid_from", [TODAY, YESTERDAY, TODAY - timedelta(days=400)])
async def test_a_rate_from_today_or_earlier_is_refused_history_is_never_rewritten(client, admin, conn, valid_from):
    await create(client, admin)
    before = tax_tables(conn), audit_entries(conn)
    response = await client.post(f"{CLASSES}/standard/rates", json={"rate": "25", "valid_from": str(valid_from)},
                                 headers=admin)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["code"], error["details"]) == ("tax_rate_in_force", {"field": "valid_from", "today": str(TODAY)})
    assert error["message"].startswith(f"A new rate must start after today ({TODAY}, UTC)")
    assert (tax_tables(conn), audit_entries(conn)) == before


async def test_a_second_rate_from_the_same_day_is_409_and_keeps_the_first(client, admin, conn):
    await create(client, admin)
    await schedule(client, admin, "standard", "21.00", TOMORROW)
    response = await client.post(f"{CLASSES}/standard/rates", json={"rate": "23", "valid_from": str(TOMORROW)},
                                 headers=admin)
    assert (response.status_code, response.json()["error"]["code"]) == (409, "tax_rate_exists")
    assert response.json()["error"]["details"] == {"field": "valid_from", "valid_from": str(TOMORROW), "rate": "21.00"}
    assert rate_on(conn, "standard", TOMORROW) == Decimal("21.00")
    assert [e["action"] for e in audit_entries(conn)] == ["tax_class.create", "tax_class.schedule_rate"]


async def test_two_admins_scheduling_the_same_day_at_once_get_one_201_and_one_409(client, admin, conn):
    await create(client, admin)
    body = {"rate": "21", "valid_from": str(TOMORROW)}
    answers = await asyncio.gather(*(client.post(f"{CLASSES}/standard/rates", json=body | {"rate": rate},
                                                 headers=admin) for rate in ("21", "22")))
    assert sorted(a.status_code for a in answers) == [201, 409]
    assert conn.execute("SELECT count(*) AS n FROM Tax_Rates WHERE tax_class = 'standard'").fetchone()["n"] == 2


@pytest.mark.parametrize(("path", "body", "status"), [
    (f"{CLASSES}/missing/rates", {"rate": "1", "valid_from": str(TOMORROW)}, 404),
    (f"{CLASSES}/standard/rates", {"rate": "101", "valid_from": str(TOMORROW)}, 422),
    (f"{CLASSES}/standard/rates", {"rate": "-1", "valid_from": str(TOMORROW)}, 422),
    (f"{CLASSES}/standard/rates", {"rate": "1.001", "valid_from": str(TOMORROW)}, 422),
    (f"{CLASSES}/standard/rates", {"rate": "1", "valid_from": "2030-02-30"}, 422),
    (f"{CLASSES}/standard/rates", {"rate": "1", "valid_from": "tomorrow"}, 422),
    (f"{CLASSES}/standard/rates", {"rate": "1"}, 422),
    (f"{CLASSES}/standard/rates", {"valid_from": str(TOMORROW)}, 422),
    (f"{CLASSES}/standard/rates", {"rate": "1", "valid_from": str(TOMORROW), "name": "x"}, 422),
])
async def test_bad_rates_are_refused_and_write_nothing(client, admin, conn, path, body, status):
    await create(client, admin)
    before = tax_tables(conn), audit_entries(conn)
    response = await client.post(path, json=body, headers=admin)
    assert response.status_code == status, response.text
    assert (tax_tables(conn), audit_entries(conn)) == before


async def test_only_a_scheduled_rate_may_be_cancelled(client, admin, conn):
    created = await create(client, admin)
    await schedule(client, admin, "standard", "21.00", TOMORROW)
    conn.execute("INSERT INTO Tax_Rates (tax_class, valid_from, rate) VALUES ('standard', %s, 19), "
                 "('standard', %s, 18)", (TODAY, TODAY - timedelta(days=10)))  # in force today, and history
    for day in (TODAY, TODAY - timedelta(days=10)):
        refused = await client.delete(f"{CLASSES}/standard/rates/{day}", headers=admin)
        assert (refused.status_code, refused.json()["error"]["code"]) == (409, "tax_rate_in_force"), day
        assert refused.json()["error"]["details"] == {"valid_from": str(day), "today": str(TODAY)}
    missing = await client.delete(f"{CLASSES}/standard/rates/{TOMORROW + timedelta(days=1)}", headers=admin)
    assert (missing.status_code, missing.json()["error"]["message"]) == (
        404, f"Tax class 'standard' has no rate from {TOMORROW + timedelta(days=1)}")
    assert (await client.delete(f"{CLASSES}/missing/rates/{TOMORROW}", headers=admin)).status_code == 404
    assert (await client.delete(f"{CLASSES}/standard/rates/-infinity", headers=admin)).status_code == 422
    assert (await client.delete(f"{CLASSES}/standard/rates/2030-13-01", headers=admin)).status_code == 422
    assert len(audit_entries(conn)) == 2
    cancelled = await client.delete(f"{CLASSES}/standard/rates/{TOMORROW}", headers=admin)
    assert cancelled.status_code == 204, cancelled.text
    assert rate_on(conn, "standard", TOMORROW) == Decimal("19.00")
    entry = audit_entries(conn)[-1]
    assert entry == {"actor_username": "boss", "action": "tax_class.delete_rate", "entity_type": "tax_class",
                     "entity_id": created["tax_class_id"], "after": None,
                     "before": {"tax_class": "standard", "valid_from": str(TOMORROW), "rate": "21.00"}}
    shown = (await client.get(f"{CLASSES}/standard", headers=admin)).json()
    assert shown["next_rate"] is None and shown["current_rate"] == "19.00"


# --- a scheduled rate reaches orders on its day --------------------------------------------

async def test_a_scheduled_rate_applies_from_its_day_on_and_never_to_orders_before_it(client, admin, conn):
    await create(client, admin, "standard", "Standard rate", "20.00")
    next_week = TODAY + timedelta(days=7)
    await schedule(client, admin, "standard", "25.00", next_week)
    assert [rate_on(conn, "standard", day) for day in (TODAY, next_week - timedelta(days=1), next_week,
                                                        next_week + timedelta(days=1), next_week + timedelta(days=900))
            ] == [Decimal("20.00")] * 2 + [Decimal("25.00")] * 3
    assert (await client.patch("/api/admin/skus/2", json={"tax_class": "standard"}, headers=admin)).status_code == 200
    cust2 = await bearer(client, "cust_2")
    # 3 units of SKU 2 at 30.00 (no rule reaches 3 units): net 90.00, 20 % tax 18.00
    before = (await client.post("/api/orders", json={"sku_id": 2, "quantity": 3}, headers=cust2)).json()
    assert [(i["tax_rate"], i["tax_amount"], i["line_gross"]) for i in before["items"]] == [("20.00", "18.00", "108.00")]
    assert (before["net_amount"], before["tax_amount"], before["gross_amount"]) == ("90.00", "18.00", "108.00")
    # the day comes: the scheduled rate is the one in force today
    conn.execute("UPDATE Tax_Rates SET valid_from = %s WHERE tax_class = 'standard' AND valid_from = %s",
                 (TODAY, next_week))
    shown = (await client.get(f"{CLASSES}/standard", headers=admin)).json()
    assert (shown["current_rate"], shown["next_rate"]) == ("25.00", None)
    after = (await client.post("/api/orders", json={"sku_id": 2, "quantity": 3}, headers=cust2)).json()
    assert [(i["tax_rate"], i["tax_amount"]) for i in after["items"]] == [("25.00", "22.50")]
    assert (after["net_amount"], after["tax_amount"], after["gross_amount"]) == ("90.00", "22.50", "112.50")
    kept = (await client.get(f"/api/my-orders/{before['order_id']}", headers=cust2)).json()
    assert (kept["tax_amount"], kept["gross_amount"]) == ("18.00", "108.00")  # history is not rewritten
    refused = await client.delete(f"{CLASSES}/standard/rates/{TODAY}", headers=admin)
    assert refused.status_code == 409


# --- SKUs in classes -----------------------------------------------------------------------

SKU = {"product_id": 2, "package_size": "30", "unit_type": "tablet", "base_price": "3.20"}


async def test_a_new_sku_is_zero_rated_unless_given_a_class(client, admin, conn):
    await create(client, admin, "reduced", "Reduced rate", "5.00")
    plain = (await client.post("/api/admin/skus", json=SKU, headers=admin)).json()
    assert (plain["tax_class"], plain["tax_class_name"], plain["tax_rate"]) == ("zero", "Zero rate", "0.00")
    placed = await client.post("/api/admin/skus", json=SKU | {"tax_class": "reduced"}, headers=admin)
    assert placed.status_code == 201, placed.text
    assert (placed.json()["tax_class"], placed.json()["tax_class_name"], placed.json()["tax_rate"]) == (
        "reduced", "Reduced rate", "5.00")
    entry = audit_entries(conn)[-1]
    assert (entry["action"], entry["after"]["tax_class"]) == ("sku.create", "reduced")
    listed = (await client.get("/api/admin/skus", params={"product_id": 2}, headers=admin)).json()
    assert [(s["sku_id"], s["tax_class"], s["tax_rate"]) for s in listed["items"]] == [
        (3, "zero", "0.00"), (4, "zero", "0.00"), (plain["sku_id"], "zero", "0.00"),
        (placed.json()["sku_id"], "reduced", "5.00")]
    assert (await client.get("/api/admin/tax-classes/reduced", headers=admin)).json()["sku_count"] == 1


@pytest.mark.parametrize(("tax_class", "code"), [("missing", "unknown_tax_class"), ("Reduced", "validation_error"),
                                                  ("", "validation_error"), (None, "validation_error")])
async def test_a_sku_in_a_class_that_does_not_exist_is_422_naming_the_field(client, admin, conn, tax_class, code):
    count = conn.execute("SELECT count(*) AS n FROM Product_SKUs").fetchone()["n"]
    created = await client.post("/api/admin/skus", json=SKU | {"tax_class": tax_class}, headers=admin)
    edited = await client.patch("/api/admin/skus/1", json={"tax_class": tax_class}, headers=admin)
    for response in (created, edited):
        assert (response.status_code, response.json()["error"]["code"]) == (422, code), response.text
    if code == "unknown_tax_class":
        assert created.json()["error"]["details"] == {"field": "tax_class"}
        assert created.json()["error"]["message"].startswith("There is no tax class 'missing'")
    else:
        assert created.json()["error"]["details"][0]["loc"] == ["body", "tax_class"]
    assert conn.execute("SELECT count(*) AS n FROM Product_SKUs").fetchone()["n"] == count
    assert conn.execute("SELECT tax_class FROM Product_SKUs WHERE sku_id = 1").fetchone()["tax_class"] == "zero"
    assert audit_entries(conn) == []


async def test_moving_a_sku_to_another_class_taxes_later_orders_only(client, admin, staff, conn):
    await create(client, admin, "reduced", "Reduced rate", "5.00")
    cust2 = await bearer(client, "cust_2")
    earlier = (await client.post("/api/orders", json={"sku_id": 3, "quantity": 2}, headers=cust2)).json()
    moved = await client.patch("/api/admin/skus/3", json={"tax_class": "reduced"}, headers=staff)
    assert moved.status_code == 200, moved.text
    assert (moved.json()["tax_class"], moved.json()["tax_rate"], moved.json()["base_price"]) == ("reduced", "5.00", "2.50")
    entry = audit_entries(conn)[-1]
    assert (entry["action"], entry["before"]["tax_class"], entry["after"]["tax_class"]) == (
        "sku.update", "zero", "reduced")
    later = (await client.post("/api/orders", json={"sku_id": 3, "quantity": 2}, headers=cust2)).json()
    assert (later["tax_amount"], later["gross_amount"]) == ("0.25", "5.25")  # 5.00 x 5 % = 0.25
    kept = (await client.get(f"/api/my-orders/{earlier['order_id']}", headers=cust2)).json()
    assert (kept["tax_amount"], kept["gross_amount"]) == ("0.00", "5.00")


# --- the line tax rule: Python and SQL agree ----------------------------------------------

# A tax of exactly half a cent: net (in cents) x rate (in hundredths) = 5,000 x an odd number,
# in millionths; so a rate dividing 5,000 and a net of (5,000 / rate) x an odd number of cents.
_TIE_RATES = [r for r in range(1, 10_001) if 5_000 % r == 0]
_ties = st.builds(lambda r, odd: (Decimal(5_000 // r * (2 * odd + 1)) / 100, Decimal(r) / 100),
                  st.sampled_from(_TIE_RATES), st.integers(min_value=0, max_value=10**7))
_amounts = st.tuples(st.decimals(min_value=0, max_value=Decimal("9999999999.99"), places=2),
                     st.decimals(min_value=0, max_value=100, places=2))


@given(cases=st.lists(st.one_of(_ties, _amounts), min_size=1, max_size=60))
@settings(max_examples=150, deadline=None)
def test_line_tax_is_the_sql_line_tax_half_cents_included(database_url, cases):
    with db.connect(database_url) as conn:
        rows = conn.execute("SELECT stockline_line_tax(n, r) FROM unnest(%s::numeric[], %s::numeric[]) "
                            "WITH ORDINALITY AS t (n, r, i) ORDER BY i",
                            [[net for net, _ in cases], [rate for _, rate in cases]]).fetchall()
    assert [line_tax(net, rate) for net, rate in cases] == [row[0] for row in rows]
    for net, rate in cases:
        exact = net * rate / 100
        if (exact * 1000) % 10 == 5 and exact * 1000 == int(exact * 1000):  # a half cent: always up
            assert line_tax(net, rate) == exact + Decimal("0.005")
