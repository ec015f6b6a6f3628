-- Data invariants that `stockline check` verifies. Each query returns the offending rows,
-- so an empty result means the invariant holds. Read-only; safe on a live system.

-- name: ledger_mismatch
-- Batches whose quantity_on_hand differs from the sum of their stock movements.
SELECT b.batch_id, b.batch_no, b.quantity_on_hand,
       COALESCE(m.ledger_quantity, 0) AS ledger_quantity
FROM Inventory_Batches AS b
LEFT JOIN (
    SELECT batch_id, sum(quantity_delta) AS ledger_quantity
    FROM Stock_Movements
    GROUP BY batch_id
) AS m USING (batch_id)
WHERE b.quantity_on_hand <> COALESCE(m.ledger_quantity, 0)
ORDER BY b.batch_id;

-- name: negative_stock
-- Batches holding less than nothing (the check constraint forbids it; this proves it held).
SELECT batch_id, batch_no, quantity_on_hand
FROM Inventory_Batches
WHERE quantity_on_hand < 0
ORDER BY batch_id;
