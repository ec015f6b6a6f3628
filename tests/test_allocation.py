"""The two forms of first-expiry-first-out agree: `allocation.fefo` (the seed's simulated
history) takes the very units `stockline_place_order()` takes, on the same batches."""

from __future__ import annotations

from datetime import timedelta

import pytest

from stockline.inventory.allocation import fefo
from stockline.kernel.expiry import sellable
from tests.ordering_world import TODAY, build_world, receive

SHELF_LIFE_DAYS = 3
# (days to expiry, units): expired, inside the shelf life, empty, ties on expiry (batch_id
# decides), and plenty later.
LAYOUT = [(40, 6), (-2, 9), (2, 8), (12, 0), (12, 5), (12, 4), (3, 7), (4, 3), (90, 30)]


def place(conn, sku_id: int, quantity: int, key: str) -> dict:
    return conn.execute(
        "SELECT stockline_place_order(1, 1, ARRAY[%s], ARRAY[%s], %s, %s, %s) AS outcome",
        (sku_id, quantity, key, TODAY, TODAY + timedelta(days=SHELF_LIFE_DAYS))).fetchone()["outcome"]


def batches_in_fefo_order(conn, sku_id: int) -> list[dict]:
    return conn.execute("SELECT batch_id, expiry_date, quantity_on_hand FROM Inventory_Batches "
                        "WHERE sku_id = %s ORDER BY expiry_date, batch_id", (sku_id,)).fetchall()


@pytest.mark.parametrize("wanted", [1, 4, 5, 9, 18, 30, 48])
def test_in_memory_fefo_takes_what_the_placement_takes(conn, wanted: int) -> None:
    build_world(conn)
    conn.execute("INSERT INTO Product_SKUs (sku_id, product_id, sku_code, package_size, unit_type, base_price) "
                 "VALUES (9, 1, 'AMOX-9', '10', 'capsule', 5.00)")
    for number, (days, units) in enumerate(LAYOUT):
        receive(conn, 9, f"L-{number}", days, units)
    after = TODAY + timedelta(days=SHELF_LIFE_DAYS)
    rows = batches_in_fefo_order(conn, 9)
    expected = {row["batch_id"]: units for row, units in fefo(
        [(row, row["quantity_on_hand"]) for row in rows
         if sellable(row["quantity_on_hand"], row["expiry_date"], after)], wanted)}
    available = sum(expected.values())

    outcome = place(conn, 9, wanted, f"alloc-{wanted}")

    if available < wanted:
        assert outcome["outcome"] == "short"
        return
    assert outcome["outcome"] == "placed"
    taken = {row["batch_id"]: row["units"] for row in conn.execute(
        "SELECT batch_id, sum(quantity_ordered)::int AS units FROM Order_Items WHERE sku_id = 9 "
        "GROUP BY batch_id").fetchall()}
    assert taken == expected
