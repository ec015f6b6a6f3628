"""The audit log of privileged changes, through the real app on a real PostgreSQL: every
privileged change writes exactly one entry (who, what, before, after) in its own
transaction, a refused or rolled-back change none; the database itself refuses to update,
delete or truncate entries; admins read them (API with filters and keyset pages, CSV, the
staff page) and nobody else can."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from stockline.app import create_app
from stockline.config import Settings
from stockline.kernel.expiry import business_day
from stockline.reporting import audit_log
from tests.ordering_world import PASSWORD, bearer
from tests.web_support import HTML, sign_in_by_form

NEW_PASSWORD = "Fresh-Password-42"
TODAY = business_day()


def entries(conn) -> list[dict[str, Any]]:
    return conn.execute("SELECT * FROM Audit_Log ORDER BY audit_id").fetchall()


def changed(entry: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {change["field"]: (change["before"], change["after"])
            for change in audit_log.changes(entry["before"], entry["after"])}


async def _order(client, quantity: int = 8) -> int:
    response = await client.post("/api/orders", json={"sku_id": 1, "quantity": quantity},
                                 headers=await bearer(client, "cust_1"))
    assert response.status_code == 201, response.text
    return response.json()["order_id"]


# --- every privileged change: one entry, its actor, before and after ------------------------

# (who, method, path, body, action, entity id, the changed fields (before, after)); a change
# that creates lists only some of its fields (every field changes from nothing)
CHANGES = [
    ("boss", "POST", "/api/admin/pricing/rules", {"sku_id": 2, "min_quantity": 5, "discount_percentage": "7.5"},
     "pricing_rule.create", 3, {"rule_id": (None, 3), "sku_id": (None, 2), "discount_percentage": (None, "7.50")}),
    ("boss", "PATCH", "/api/admin/pricing/rules/1", {"discount_percentage": "6", "valid_to": "2099-01-31"},
     "pricing_rule.update", 1, {"discount_percentage": ("5.00", "6.00"), "valid_to": (None, "2099-01-31")}),
    ("boss", "DELETE", "/api/admin/pricing/rules/2", None, "pricing_rule.delete", 2,
     {"rule_id": (2, None), "sku_id": (1, None), "customer_id": (1, None), "min_quantity": (1, None),
      "discount_percentage": ("20.00", None)}),
    ("boss", "POST", "/api/admin/customers", {"name": "Harbour Hospital", "customer_type": "hospital"},
     "customer.create", 3, {"name": (None, "Harbour Hospital"), "customer_type": (None, "hospital")}),
    ("boss", "PATCH", "/api/admin/customers/2", {"name": "Second Clinic", "customer_type": "clinic"},
     "customer.update", 2, {"name": ("Second Pharmacy", "Second Clinic"), "customer_type": ("pharmacy", "clinic")}),
    ("boss", "POST", "/api/admin/users", {"username": "newbie", "password": NEW_PASSWORD, "role": "staff"},
     "user.create", 6, {"username": (None, "newbie"), "role": (None, "staff"), "is_active": (None, True)}),
    ("boss", "POST", "/api/admin/users/4/password", {"new_password": NEW_PASSWORD},
     "user.password_reset", 4, {"must_change_password": (False, True), "password": (None, "reset")}),
    ("boss", "POST", "/api/admin/users/4/deactivate", None, "user.deactivate", 4, {"is_active": (True, False)}),
    ("boss", "PUT", "/api/admin/users/3/role", {"role": "staff"}, "user.role_change", 3,
     {"role": ("customer", "staff"), "customer_id": (2, None)}),
    ("staffer", "POST", "/api/admin/products", {"name": "Ibuprofen 200 mg tablets", "manufacturer": "Teva"},
     "product.create", 3, {"name": (None, "Ibuprofen 200 mg tablets"), "is_active": (None, True)}),
    ("staffer", "PATCH", "/api/admin/products/2", {"is_active": False}, "product.update", 2,
     {"is_active": (True, False)}),
    ("staffer", "POST", "/api/admin/skus", {"product_id": 2, "package_size": "30", "unit_type": "tablet",
                                            "base_price": "3.2"},
     "sku.create", 5, {"sku_code": (None, "SKU-000005"), "base_price": (None, "3.20")}),
    ("staffer", "PATCH", "/api/admin/skus/3", {"base_price": "2.75", "reorder_level": 12}, "sku.update", 3,
     {"base_price": ("2.50", "2.75"), "reorder_level": (10, 12)}),
    ("staffer", "POST", "/api/admin/inventory/batches",
     {"sku_id": 2, "batch_no": "B-NEW", "quantity": 12, "expiry_date": str(TODAY + timedelta(days=90)),
      "cost_price": "19.5"},
     "batch.receive", 9, {"batch_no": (None, "B-NEW"), "quantity_on_hand": (None, 12), "cost_price": (None, "19.50")}),
    ("staffer", "POST", "/api/admin/inventory/batches",
     {"sku_id": 2, "batch_no": "B-1", "quantity": 10, "expiry_date": str(TODAY + timedelta(days=200)),
      "cost_price": "24.00", "note": "second delivery"},
     "batch.receive", 6, {"quantity_on_hand": (30, 40), "cost_price": ("20.00", "21.00"),
                          "note": (None, "second delivery")}),
    ("staffer", "POST", "/api/admin/inventory/batches/2/adjust", {"delta": -3, "reason": "damaged"},
     "batch.adjust", 2, {"quantity_on_hand": (20, 17), "note": (None, "damaged")}),
    ("staffer", "POST", "/api/admin/inventory/batches/3/write-off", {"note": "binned"}, "batch.write_off", 3,
     {"quantity_on_hand": (50, 0), "note": (None, "binned")}),
    ("staffer", "PATCH", "/api/admin/inventory/batches/7", {"cost_price": "1.1", "note": "invoice"}, "batch.edit", 7,
     {"cost_price": ("1.00", "1.10"), "note": (None, "invoice")}),
    ("staffer", "DELETE", "/api/admin/inventory/batches/8", None, "batch.delete", 8,
     {"batch_no": ("D-1", None), "quantity_on_hand": (9, None), "sku_id": (4, None)}),
]


@pytest.mark.parametrize(("who", "method", "path", "body", "action", "entity_id", "expected"), CHANGES,
                         ids=[f"{case[4]}:{case[2]}" for case in CHANGES])
async def test_a_privileged_change_writes_exactly_one_entry(client, world, conn, who, method, path, body,
                                                            action, entity_id, expected):
    actor = conn.execute("SELECT user_id FROM Users WHERE username = %s", (who,)).fetchone()["user_id"]
    response = await client.request(method, path, json=body, headers=await bearer(client, who))
    assert response.status_code < 300, response.text
    [entry] = entries(conn)
    assert (entry["actor_user_id"], entry["actor_username"], entry["action"]) == (actor, who, action)
    assert (entry["entity_type"], entry["entity_id"]) == (action.split(".")[0], entity_id)
    found = changed(entry)
    if entry["before"] is None or entry["after"] is None:  # created or deleted: every field changes
        assert found.items() >= expected.items(), found
    else:
        assert found == expected


async def test_deleting_a_customer_records_it_and_each_of_its_own_pricing_rules(client, world, conn):
    customer_id = conn.execute("INSERT INTO Customers (name) VALUES ('Short-lived') RETURNING customer_id"
                               ).fetchone()["customer_id"]
    conn.execute("INSERT INTO Pricing_Rules (sku_id, customer_id, min_quantity, discount_percentage) "
                 "VALUES (1, %s, 1, 3), (2, %s, 1, 4)", (customer_id, customer_id))
    response = await client.delete(f"/api/admin/customers/{customer_id}", headers=await bearer(client, "boss"))
    assert response.status_code == 204
    found = [(e["action"], e["entity_id"], e["after"]) for e in entries(conn)]
    assert found == [("pricing_rule.delete", 3, None), ("pricing_rule.delete", 4, None),
                     ("customer.delete", customer_id, None)]
    assert entries(conn)[2]["before"]["name"] == "Short-lived"


async def test_bulk_write_off_writes_an_entry_per_batch_in_one_go(client, world, conn):
    conn.execute("UPDATE Inventory_Batches SET expiry_date = %s WHERE batch_id = %s",
                 (TODAY - timedelta(days=3), world["c"]))
    response = await client.post("/api/admin/inventory/write-off-expired", json={"note": "monthly"},
                                 headers=await bearer(client, "staffer"))
    assert response.json()["batches"] == 3  # A-EXPIRED, A-TODAY (expired this morning) and C-1
    assert [(e["action"], e["entity_id"], changed(e)) for e in entries(conn)] == [
        ("batch.write_off", world[name], {"quantity_on_hand": (units, 0), "note": (None, "monthly")})
        for name, units in (("a_expired", 50), ("a_today", 7), ("c", 4))]


async def test_staff_moving_an_order_is_recorded_and_a_customer_cancelling_their_own_is_not(client, world, conn):
    first, second = await _order(client), await _order(client, 2)
    staff = await bearer(client, "staffer")
    assert (await client.post(f"/api/admin/orders/{first}/status", json={"status": "processed"},
                              headers=staff)).status_code == 200
    assert (await client.post(f"/api/my-orders/{second}/cancel",
                              headers=await bearer(client, "cust_1"))).status_code == 200
    [entry] = entries(conn)
    assert (entry["action"], entry["entity_id"], entry["actor_username"]) == ("order.status_change", first, "staffer")
    assert (entry["before"], entry["after"]) == ({"status": "pending"}, {"status": "processed"})


async def test_a_change_that_changes_nothing_and_a_plain_checkout_write_no_entry(client, world, conn):
    admin = await bearer(client, "boss")
    assert (await client.patch("/api/admin/pricing/rules/1", json={"discount_percentage": "5.00"},
                               headers=admin)).status_code == 200
    assert (await client.post("/api/admin/users/4/reactivate", headers=admin)).status_code == 200
    assert (await client.patch("/api/admin/products/1", json={"name": "Amoxicillin 500 mg capsules"},
                               headers=await bearer(client, "staffer"))).status_code == 200
    await _order(client)
    assert entries(conn) == []


async def test_a_password_reset_is_recorded_without_any_hash(client, world, conn):
    await client.post("/api/admin/users/4/password", json={"new_password": NEW_PASSWORD},
                      headers=await bearer(client, "boss"))
    await client.post("/api/admin/users", json={"username": "another", "password": NEW_PASSWORD, "role": "staff"},
                      headers=await bearer(client, "boss"))
    text = conn.execute("SELECT string_agg(before::text || ' ' || after::text, ' ') AS t FROM Audit_Log"
                        ).fetchone()["t"]
    assert "argon2" not in text and "password_hash" not in text and NEW_PASSWORD not in text


async def test_a_page_form_records_the_signed_in_user(client, world, conn):
    csrf = await sign_in_by_form(client, "boss", PASSWORD)
    response = await client.post("/staff/users/4/deactivate", data={"csrf_token": csrf}, headers=HTML)
    assert response.status_code == 303
    [entry] = entries(conn)
    assert (entry["action"], entry["actor_username"], changed(entry)) == (
        "user.deactivate", "boss", {"is_active": (True, False)})


# --- refused or rolled back: no entry ----------------------------------------------------------

REFUSED = [
    ("boss", "POST", "/api/admin/pricing/rules", {"sku_id": None, "min_quantity": 10, "discount_percentage": "9"},
     409),
    ("boss", "PATCH", "/api/admin/pricing/rules/99", {"discount_percentage": "9"}, 404),
    ("boss", "DELETE", "/api/admin/customers/1", None, 409),
    ("boss", "POST", "/api/admin/users/5/deactivate", None, 409),
    ("boss", "POST", "/api/admin/users", {"username": "CUST_1", "password": NEW_PASSWORD, "role": "staff"}, 409),
    ("staffer", "PATCH", "/api/admin/skus/3", {"sku_code": "AMOX-1"}, 409),  # refused by the database
    ("staffer", "DELETE", "/api/admin/products/1", None, 409),
    ("staffer", "POST", "/api/admin/inventory/batches/1/adjust", {"delta": -6, "reason": "damaged"}, 409),
    ("staffer", "POST", "/api/admin/inventory/batches/1/write-off", None, 409),
    ("staffer", "POST", "/api/admin/pricing/rules", {"min_quantity": 1, "discount_percentage": "1"}, 403),
]


@pytest.mark.parametrize(("who", "method", "path", "body", "status"), REFUSED,
                         ids=[f"{case[1]} {case[2]}" for case in REFUSED])
async def test_a_refused_change_writes_no_entry(client, world, conn, who, method, path, body, status):
    response = await client.request(method, path, json=body, headers=await bearer(client, who))
    assert response.status_code == status, response.text
    assert entries(conn) == []


async def test_an_entry_already_sent_rolls_back_with_its_transaction(client, world, conn):
    """The stock entry page receives every line in one transaction: the first receipt's entry
    is written, then the second is refused, and neither the stock nor the entry stays."""
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    later = str(TODAY + timedelta(days=90))  # A-SOON expires in 10 days: line 2 is refused
    lines = {f"l{n}-{name}": value for n, batch_no in ((1, "OK-1"), (2, "A-SOON"))
             for name, value in (("receive", "1"), ("sku_id", "1"), ("batch_no", batch_no),
                                 ("expiry_date", later), ("quantity", "5"), ("cost_price", "1.00"))}
    response = await client.post("/staff/inventory/entry/confirm", headers=HTML, data={
        "csrf_token": csrf, "text": f"5 x AMOX-1 batch OK-1 exp {later} at 1.00\n"
                                    f"5 x AMOX-1 batch A-SOON exp {later} at 1.00"} | lines)
    assert response.status_code == 409, response.text
    assert conn.execute("SELECT count(*) AS n FROM Inventory_Batches WHERE batch_no = 'OK-1'").fetchone()["n"] == 0
    assert entries(conn) == []


# --- append-only in the database ---------------------------------------------------------------

@pytest.mark.parametrize("statement", [
    "UPDATE Audit_Log SET actor_username = 'someone else'", "UPDATE Audit_Log SET after = NULL WHERE audit_id = 1",
    "DELETE FROM Audit_Log", "DELETE FROM Audit_Log WHERE audit_id = 1", "TRUNCATE Audit_Log",
    "TRUNCATE Audit_Log, Users CASCADE"])
def test_the_database_refuses_to_rewrite_history(conn, statement):
    conn.execute("INSERT INTO Audit_Log (actor_user_id, actor_username, action, entity_type, entity_id, after) "
                 "VALUES (1, 'boss', 'customer.create', 'customer', 1, '{\"name\": \"A\"}')")
    with pytest.raises(psycopg.errors.RaiseException, match="Audit_Log is append-only"):
        conn.execute(statement)
    [entry] = entries(conn)
    assert (entry["actor_username"], entry["after"]) == ("boss", {"name": "A"})


def test_emptying_other_tables_never_reaches_the_log(conn, world):
    """No foreign keys: a CASCADE from the tables it names stops short of it."""
    conn.execute("INSERT INTO Audit_Log (actor_user_id, actor_username, action, entity_type, entity_id, after) "
                 "VALUES (5, 'boss', 'user.create', 'user', 4, '{}')")
    conn.execute("TRUNCATE Users, Customers, Products CASCADE")
    assert [entry["actor_username"] for entry in entries(conn)] == ["boss"]


async def test_no_route_edits_or_deletes_entries(client, world):
    admin = await bearer(client, "boss")
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        response = await client.request(method, "/api/admin/audit", headers=admin)
        assert response.status_code == 405, method
        assert response.json()["error"]["code"] == "method_not_allowed"
    app = create_app(Settings(env="test", secret_key="audit-test-secret-key-long-enough-for-hs256"))
    writes = [(route.path, route.methods) for route in app.routes
              if "audit" in getattr(route, "path", "") and set(getattr(route, "methods", ())) - {"GET", "HEAD"}]
    assert writes == []


# --- reading: admins only ---------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/admin/audit", "/api/admin/audit?format=csv"])
async def test_only_admins_read_the_log(client, world, path):
    assert (await client.get(path)).json()["error"]["code"] == "unauthorized"
    for who in ("staffer", "cust_1"):
        response = await client.get(path, headers=await bearer(client, who))
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"
    assert (await client.get(path, headers=await bearer(client, "boss"))).status_code == 200


async def _some_changes(client) -> dict[str, dict[str, str]]:
    callers = {"boss": await bearer(client, "boss"), "staffer": await bearer(client, "staffer")}
    await client.patch("/api/admin/pricing/rules/1", json={"discount_percentage": "6"}, headers=callers["boss"])
    await client.patch("/api/admin/customers/2", json={"name": "Second Clinic"}, headers=callers["boss"])
    await client.patch("/api/admin/skus/3", json={"reorder_level": 11}, headers=callers["staffer"])
    await client.patch("/api/admin/skus/3", json={"reorder_level": 12}, headers=callers["staffer"])
    await client.post("/api/admin/inventory/batches/2/adjust", json={"delta": 1, "reason": "found"},
                      headers=callers["staffer"])
    return callers


async def test_the_api_lists_entries_newest_first_with_their_changes(client, world):
    admin = (await _some_changes(client))["boss"]
    page = (await client.get("/api/admin/audit", headers=admin)).json()
    assert [item["action"] for item in page["items"]] == [
        "batch.adjust", "sku.update", "sku.update", "customer.update", "pricing_rule.update"]
    assert page["next_before_id"] is None and page["limit"] == 50
    rule = page["items"][-1]
    assert rule["actor_username"] == "boss" and rule["occurred_at"].endswith("Z")
    assert rule["changes"] == [{"field": "discount_percentage", "before": "5.00", "after": "6.00"}]


@pytest.mark.parametrize(("query", "actions"), [
    ({"actor": "STAFFER"}, ["batch.adjust", "sku.update", "sku.update"]),
    ({"action": "sku.update"}, ["sku.update", "sku.update"]),
    ({"entity_type": "customer"}, ["customer.update"]),
    ({"entity_type": "sku", "entity_id": 3}, ["sku.update", "sku.update"]),
    ({"entity_type": "sku", "entity_id": 4}, []),
    ({"from": str(TODAY), "to": str(TODAY), "actor": "boss"}, ["customer.update", "pricing_rule.update"]),
    ({"from": str(TODAY + timedelta(days=1))}, []),
    ({"to": str(TODAY - timedelta(days=1))}, []),
    ({"from": f"{TODAY - timedelta(days=1)}T23:00:00-02:00", "action": "batch.adjust"}, ["batch.adjust"]),
])
async def test_the_api_filters(client, world, query, actions):
    admin = (await _some_changes(client))["boss"]
    response = await client.get("/api/admin/audit", params=query, headers=admin)
    assert [item["action"] for item in response.json()["items"]] == actions


async def test_keyset_pages_walk_the_whole_log_once(client, world):
    admin = (await _some_changes(client))["boss"]
    seen, before_id = [], None
    while True:
        params = {"limit": 2} | ({"before_id": before_id} if before_id else {})
        page = (await client.get("/api/admin/audit", params=params, headers=admin)).json()
        seen += [item["audit_id"] for item in page["items"]]
        before_id = page["next_before_id"]
        if before_id is None:
            break
    assert seen == [5, 4, 3, 2, 1]


@pytest.mark.parametrize("query", [
    "action=user.delete", "entity_type=planet", "entity_id=abc", "entity_id=0", "entity_id=99999999999999999999",
    "from=yesterday", "to=2026-13-01", "from=2026-02-30", "to=9999-12-31", "from=0001-01-01T00:00:00%2B05:00",
    f"from={TODAY}&to={TODAY - timedelta(days=1)}", "limit=0", "limit=201", "before_id=-1", "format=xml",
    "actor=" + "x" * 65, "actor=%00boss", "actor=bo ss", "from=" + "1" * 41, "to=2026-01-01%00",
])
async def test_bad_filters_are_422_in_the_one_error_shape(client, world, query):
    response = await client.get(f"/api/admin/audit?{query}", headers=await bearer(client, "boss"))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error" and error["message"]


async def test_the_csv_export_has_every_matching_entry_in_chunks(client, world, conn):
    conn.execute("INSERT INTO Audit_Log (actor_user_id, actor_username, action, entity_type, entity_id, before, after) "
                 "SELECT 5, 'boss', 'sku.update', 'sku', n %% 3 + 1, jsonb_build_object('reorder_level', n), "
                 "jsonb_build_object('reorder_level', n + 1) FROM generate_series(1, %s) AS n",
                 (audit_log.CSV_CHUNK * 2 + 10,))
    conn.execute("INSERT INTO Audit_Log (actor_user_id, actor_username, action, entity_type, entity_id, after) "
                 "VALUES (4, '=cmd|calc', 'customer.create', 'customer', 7, '{\"name\": \"@SUM(A1)\"}')")
    admin = await bearer(client, "boss")
    response = await client.get("/api/admin/audit", params={"format": "csv", "action": "sku.update"}, headers=admin)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == f'attachment; filename="audit-log-{TODAY}.csv"'
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == audit_log.CSV_CHUNK * 2 + 10
    assert [int(row["audit_id"]) for row in rows] == list(range(len(rows), 0, -1))
    assert rows[0]["changes"] == f"reorder_level: {len(rows)} -> {len(rows) + 1}"
    assert rows[0]["before"] == f'{{"reorder_level": {len(rows)}}}'
    crafted = await client.get("/api/admin/audit", params={"format": "csv", "entity_type": "customer"},
                               headers=admin)
    [row] = list(csv.DictReader(io.StringIO(crafted.text)))
    assert row["actor_username"] == "'=cmd|calc"  # a spreadsheet shows it, never runs it
    assert row["changes"] == "name: - -> @SUM(A1)" and row["after"] == '{"name": "@SUM(A1)"}'


# --- the page -------------------------------------------------------------------------------

async def test_the_page_shows_entries_and_what_they_changed_to_an_admin(client, world):
    await _some_changes(client)
    await sign_in_by_form(client, "boss", PASSWORD)
    page = await client.get("/staff/audit", headers=HTML)
    assert page.status_code == 200
    assert 'href="/staff/audit"' in page.text  # in the navigation
    assert "<td>pricing_rule.update</td>" in page.text and "sku #3" in page.text
    assert "<td>discount_percentage</td><td>5.00</td><td>6.00</td>" in page.text
    assert "/api/admin/audit?format=csv" in page.text
    only_boss = await client.get("/staff/audit?actor=boss&entity_type=customer", headers=HTML)
    assert "<td>customer.update</td>" in only_boss.text and "<td>sku.update</td>" not in only_boss.text
    assert "<td>name</td><td>Second Pharmacy</td><td>Second Clinic</td>" in only_boss.text
    assert "/api/admin/audit?format=csv&amp;actor=boss&amp;entity_type=customer" in only_boss.text
    download = await client.get("/api/admin/audit?format=csv&actor=boss&entity_type=customer")  # by cookie
    assert [row["action"] for row in csv.DictReader(io.StringIO(download.text))] == ["customer.update"]


async def test_the_page_pages_older_entries(client, world, conn):
    conn.execute("INSERT INTO Audit_Log (actor_user_id, actor_username, action, entity_type, entity_id, after) "
                 "SELECT 5, 'boss', 'product.create', 'product', n, '{}' FROM generate_series(1, 60) AS n")
    await sign_in_by_form(client, "boss", PASSWORD)
    first = await client.get("/staff/audit?action=product.create", headers=HTML)
    assert "#60</td>" in first.text and "#11</td>" in first.text and "#10</td>" not in first.text
    assert 'href="/staff/audit?action=product.create&amp;before_id=11"' in first.text
    older = await client.get("/staff/audit?action=product.create&before_id=11", headers=HTML)
    assert "#10</td>" in older.text and "#1</td>" in older.text and "Older entries" not in older.text


@pytest.mark.parametrize("query", ["entity_id=%C2%B2", "entity_id=99999999999999999999", "from=soon", "actor=%00",
                                   "action=nope", "before_id=x", f"from={TODAY}&to=2000-01-01"])
async def test_the_page_explains_bad_filters_instead_of_failing(client, world, query):
    await sign_in_by_form(client, "boss", PASSWORD)
    response = await client.get(f"/staff/audit?{query}", headers=HTML)
    assert response.status_code == 422
    assert 'role="alert"' in response.text


async def test_staff_who_are_not_admins_cannot_open_the_page_nor_see_its_link(client, world):
    await sign_in_by_form(client, "staffer", PASSWORD)
    assert (await client.get("/staff/audit", headers=HTML)).status_code == 403
    assert "/staff/audit" not in (await client.get("/staff", headers=HTML)).text


async def test_customers_are_refused_and_visitors_sent_to_sign_in(client, world):
    visitor = await client.get("/staff/audit", headers=HTML)
    assert visitor.status_code == 303 and visitor.headers["location"].startswith("/login")
    await sign_in_by_form(client, "cust_1", PASSWORD)
    assert (await client.get("/staff/audit", headers=HTML)).status_code == 403
