"""Back-office catalog management (products and SKUs) and order management."""

from __future__ import annotations

import asyncio

import pytest

from stockline.invariants import check_invariants
from tests.ordering_world import bearer, stock


@pytest.fixture
async def staff(client, world):
    return await bearer(client, "staffer")


# --- products ------------------------------------------------------------------------------

async def test_product_lifecycle(client, staff, conn):
    created = await client.post("/api/admin/products", json={"name": "  Ibuprofen 400 mg tablets ",
                                                              "manufacturer": "Zentiva", "category": "analgesic"},
                                headers=staff)
    assert created.status_code == 201
    product = created.json()
    assert (product["name"], product["is_active"], product["sku_count"]) == ("Ibuprofen 400 mg tablets", True, 0)
    pid = product["product_id"]
    edited = await client.patch(f"/api/admin/products/{pid}", json={"description": "Film-coated", "category": None},
                                headers=staff)
    assert (edited.json()["description"], edited.json()["category"], edited.json()["name"]) == \
        ("Film-coated", None, "Ibuprofen 400 mg tablets")
    listed = (await client.get("/api/admin/products", params={"search": "ibupro zentiva"}, headers=staff)).json()
    assert [p["product_id"] for p in listed["items"]] == [pid]
    assert (await client.delete(f"/api/admin/products/{pid}", headers=staff)).status_code == 204
    assert (await client.get(f"/api/admin/products/{pid}", headers=staff)).status_code == 404


async def test_a_product_with_skus_is_deactivated_not_deleted(client, staff, conn):
    response = await client.delete("/api/admin/products/1", headers=staff)
    assert (response.status_code, response.json()["error"]["code"]) == (409, "product_in_use")
    assert "deactivate" in response.json()["error"]["message"]
    off = await client.patch("/api/admin/products/1", json={"is_active": False}, headers=staff)
    assert off.json()["is_active"] is False
    catalog = (await client.get("/api/products")).json()
    assert {i["product_id"] for i in catalog["items"]} == {2}  # its SKUs left the catalog at once
    inactive = (await client.get("/api/admin/products", params={"active": False}, headers=staff)).json()
    assert [p["product_id"] for p in inactive["items"]] == [1]


@pytest.mark.parametrize(("body", "status"), [
    ({}, 422), ({"name": ""}, 422), ({"name": "   "}, 422), ({"name": "x" * 201}, 422),
    ({"name": "Ok", "price": 1}, 422), ({"name": None}, 422),
])
async def test_bad_products_are_refused(client, staff, conn, body, status):
    response = await client.post("/api/admin/products", json=body, headers=staff)
    assert response.status_code == status
    assert conn.execute("SELECT count(*) AS n FROM Products").fetchone()["n"] == 2


async def test_bad_product_edits_are_refused(client, staff):
    assert (await client.patch("/api/admin/products/1", json={"name": None}, headers=staff)).status_code == 422
    assert (await client.patch("/api/admin/products/1", json={}, headers=staff)).status_code == 422
    assert (await client.patch("/api/admin/products/99", json={"name": "X"}, headers=staff)).status_code == 404


# --- SKUs ----------------------------------------------------------------------------------

async def test_sku_lifecycle_and_repricing_reaches_the_catalog(client, staff):
    created = await client.post("/api/admin/skus", json={"product_id": 2, "package_size": "100", "unit_type": "tablet",
                                                          "base_price": "12.40", "reorder_level": 5}, headers=staff)
    assert created.status_code == 201
    sku = created.json()
    assert sku["sku_code"] == f"SKU-{sku['sku_id']:06d}" and sku["available"] == 0 and sku["base_price"] == "12.40"
    before = (await client.get("/api/products/3")).json()["effective_price"]
    assert before == "2.50"
    repriced = await client.patch("/api/admin/skus/3", json={"base_price": "2.80", "reorder_level": 2}, headers=staff)
    assert (repriced.json()["base_price"], repriced.json()["reorder_level"]) == ("2.80", 2)
    assert (await client.get("/api/products/3")).json()["effective_price"] == "2.80"
    listed = (await client.get("/api/admin/skus", params={"product_id": 2}, headers=staff)).json()
    assert [s["sku_id"] for s in listed["items"]] == [3, 4, sku["sku_id"]]
    assert (await client.delete(f"/api/admin/skus/{sku['sku_id']}", headers=staff)).status_code == 204


async def test_sku_codes_are_unique_and_referenced_skus_stay(client, staff):
    taken = await client.post("/api/admin/skus", json={"product_id": 2, "sku_code": "PARA-3", "package_size": "1",
                                                        "unit_type": "tablet", "base_price": "1.00"}, headers=staff)
    assert taken.status_code == 409
    assert taken.json()["error"]["message"] == "Another SKU already uses that SKU code"
    renamed = await client.patch("/api/admin/skus/4", json={"sku_code": "AMOX-1"}, headers=staff)
    assert renamed.status_code == 409
    in_use = await client.delete("/api/admin/skus/1", headers=staff)
    assert (in_use.status_code, in_use.json()["error"]["code"]) == (409, "sku_in_use")
    no_product = await client.post("/api/admin/skus", json={"product_id": 99, "package_size": "1", "unit_type": "x",
                                                             "base_price": "1.00"}, headers=staff)
    assert no_product.status_code == 404


@pytest.mark.parametrize("change", [
    {"base_price": "-0.01"}, {"base_price": "1.234"}, {"reorder_level": -1}, {"sku_code": "has space"},
    {"sku_code": None}, {"package_size": ""}, {"is_active": "maybe"},
])
async def test_bad_sku_edits_are_refused_and_change_nothing(client, staff, conn, change):
    response = await client.patch("/api/admin/skus/1", json=change, headers=staff)
    assert response.status_code == 422
    row = conn.execute("SELECT sku_code, base_price, reorder_level FROM Product_SKUs WHERE sku_id = 1").fetchone()
    assert (row["sku_code"], str(row["base_price"]), row["reorder_level"]) == ("AMOX-1", "10.00", 10)


# --- orders --------------------------------------------------------------------------------

async def test_staff_see_every_order_with_cost_and_profit(client, staff, conn):
    cust1, cust2 = await bearer(client, "cust_1"), await bearer(client, "cust_2")
    first = (await client.post("/api/orders", json={"sku_id": 1, "quantity": 7}, headers=cust1)).json()
    second = (await client.post("/api/orders", json={"sku_id": 2, "quantity": 2}, headers=cust2)).json()
    page = (await client.get("/api/admin/orders", headers=staff)).json()
    assert [o["order_id"] for o in page["items"]] == [second["order_id"], first["order_id"]]
    summary = page["items"][1]
    # 5 from A-SOON at 6.00 and 2 from A-LATER at 7.00, sold at 8.00 (customer 1's 20 %)
    assert (summary["customer_name"], summary["total_amount"], summary["total_cost"], summary["profit"]) == \
        ("First Pharmacy", "56.00", "44.00", "12.00")
    detail = (await client.get(f"/api/admin/orders/{first['order_id']}", headers=staff)).json()
    assert [(i["batch_no"], i["unit_cost"], i["line_profit"]) for i in detail["items"]] == [
        ("A-SOON", "6.00", "10.00"), ("A-LATER", "7.00", "2.00")]
    assert (detail["total_cost"], detail["profit"]) == ("44.00", "12.00")
    only = (await client.get("/api/admin/orders", params={"customer_id": 2}, headers=staff)).json()
    assert [o["order_id"] for o in only["items"]] == [second["order_id"]]
    today = (await client.get("/api/admin/orders", params={"date_from": first["order_date"][:10],
                                                            "date_to": first["order_date"][:10]}, headers=staff)).json()
    assert today["total_items"] == 2
    none = (await client.get("/api/admin/orders", params={"date_to": "2000-01-01"}, headers=staff)).json()
    assert none["total_items"] == 0
    for bad in ({"status": "lost"}, {"date_from": "2026-13-01"}, {"date_from": "2026-02-01", "date_to": "2026-01-01"}):
        assert (await client.get("/api/admin/orders", params=bad, headers=staff)).status_code == 422


async def test_order_lifecycle_transitions(client, staff, conn, world):
    cust1 = await bearer(client, "cust_1")
    order_id = (await client.post("/api/orders", json={"sku_id": 2, "quantity": 4}, headers=cust1)).json()["order_id"]

    async def move(status):
        return await client.post(f"/api/admin/orders/{order_id}/status", json={"status": status}, headers=staff)

    assert (await move("shipped")).status_code == 409  # pending cannot skip processing
    processed = await move("processed")
    assert processed.json()["status"] == "processed"
    assert processed.json()["allowed_transitions"] == ["cancelled", "shipped"]
    assert (await move("pending")).status_code == 409
    cancelled = await move("cancelled")  # staff may cancel a processed order; it restocks
    assert cancelled.json()["status"] == "cancelled"
    assert stock(conn, world["b"]) == 30
    conflict = await move("shipped")
    assert conflict.status_code == 409
    assert conflict.json()["error"]["details"] == {"from": "cancelled", "to": "shipped", "allowed": []}
    assert (await client.post("/api/admin/orders/99999/status", json={"status": "processed"},
                              headers=staff)).status_code == 404
    assert (await move("lost")).status_code == 422
    assert {r.name for r in check_invariants(conn) if not r.holds} == set()


async def test_shipping_is_one_way(client, staff):
    cust1 = await bearer(client, "cust_1")
    order_id = (await client.post("/api/orders", json={"sku_id": 3, "quantity": 1}, headers=cust1)).json()["order_id"]
    for status in ("processed", "shipped"):
        assert (await client.post(f"/api/admin/orders/{order_id}/status", json={"status": status},
                                  headers=staff)).status_code == 200
    for status in ("cancelled", "processed", "pending", "shipped"):
        assert (await client.post(f"/api/admin/orders/{order_id}/status", json={"status": status},
                                  headers=staff)).status_code == 409


async def test_concurrent_status_changes_apply_once(client, staff, conn, world):
    cust1 = await bearer(client, "cust_1")
    order_id = (await client.post("/api/orders", json={"sku_id": 2, "quantity": 4}, headers=cust1)).json()["order_id"]
    responses = await asyncio.gather(
        *(client.post(f"/api/admin/orders/{order_id}/status", json={"status": "cancelled"}, headers=staff)
          for _ in range(3)),
        *(client.post(f"/api/my-orders/{order_id}/cancel", headers=cust1) for _ in range(3)))
    assert sorted(r.status_code for r in responses) == [200, 409, 409, 409, 409, 409]
    assert stock(conn, world["b"]) == 30


# --- roles ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/admin/products"), ("POST", "/api/admin/products"), ("GET", "/api/admin/products/1"),
    ("PATCH", "/api/admin/products/1"), ("DELETE", "/api/admin/products/1"), ("GET", "/api/admin/skus"),
    ("POST", "/api/admin/skus"), ("GET", "/api/admin/skus/1"), ("PATCH", "/api/admin/skus/1"),
    ("DELETE", "/api/admin/skus/1"), ("GET", "/api/admin/orders"), ("GET", "/api/admin/orders/1"),
    ("POST", "/api/admin/orders/1/status"),
])
async def test_management_routes_are_for_staff_only(client, world, method, path):
    assert (await client.request(method, path, json={})).status_code == 401
    customer = await bearer(client, "cust_1")
    assert (await client.request(method, path, json={}, headers=customer)).status_code == 403
