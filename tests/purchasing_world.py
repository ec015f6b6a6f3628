"""Purchasing's world: the ordering world (tests/ordering_world.py) plus helpers that add
suppliers, their SKUs and purchase orders through the API, and read them back."""

from __future__ import annotations

from datetime import timedelta

from tests.ordering_world import TODAY, bearer


def later(days: int = 365) -> str:
    return (TODAY + timedelta(days=days)).isoformat()


async def staff(client) -> dict[str, str]:
    return await bearer(client, "staffer")


async def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


async def supplier(client, headers, name: str = "Alpha Pharma", lead_time_days: int = 7, **fields) -> dict:
    return await ok(await client.post("/api/admin/suppliers", json={"name": name, "lead_time_days": lead_time_days,
                                                                     **fields}, headers=headers), 201)


async def supplies(client, headers, supplier_id: int, sku_id: int, unit_cost: str, preferred: bool = False) -> dict:
    return await ok(await client.put(f"/api/admin/suppliers/{supplier_id}/skus/{sku_id}",
                                     json={"unit_cost": unit_cost, "is_preferred": preferred}, headers=headers))


async def purchase_order(client, headers, supplier_id: int, lines: dict[int, int], **extra) -> dict:
    body = {"supplier_id": supplier_id, "lines": [{"sku_id": s, "quantity": q} for s, q in lines.items()], **extra}
    return await ok(await client.post("/api/admin/purchase-orders", json=body, headers=headers), 201)


async def sent_order(client, headers, supplier_id: int, lines: dict[int, int]) -> dict:
    order = await purchase_order(client, headers, supplier_id, lines)
    return await ok(await client.post(f"/api/admin/purchase-orders/{order['po_id']}/send", headers=headers))


def receipt(lines: list[tuple[int, str, int]], days: int = 365, **extra) -> dict:
    """A receiving body: (po_line_id, batch_no, quantity) per line, expiring in `days`."""
    return {"lines": [{"po_line_id": line, "batch_no": batch_no, "expiry_date": later(days), "quantity": quantity}
                      for line, batch_no, quantity in lines], **extra}


def line_ids(order: dict) -> dict[int, int]:
    """The order's po_line_id by sku_id."""
    return {line["sku_id"]: line["po_line_id"] for line in order["lines"]}
