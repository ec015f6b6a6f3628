-- Queries of inventory: SKU locks, available stock and the stock ledger.
-- "Sellable": stockline_sellable() in db/schema.sql.

-- name: lock_skus
-- Locks SKUs in ascending sku_id order until commit (the rule is stockline_lock_skus() in
-- db/schema.sql, which placing an order uses too).
SELECT * FROM stockline_lock_skus(%(sku_ids)s::int[]);

-- name: available_stock
-- Available (sellable) units of one SKU, and whether it is on sale at all (no row: no SKU).
SELECT s.sku_id, s.is_active AND p.is_active AS is_active,
       coalesce((SELECT sum(b.quantity_on_hand)::int FROM Inventory_Batches AS b
                 WHERE b.sku_id = s.sku_id
                   AND stockline_sellable(b.quantity_on_hand, b.expiry_date, %(sellable_after)s, b.quarantined)), 0) AS available
FROM Product_SKUs AS s
JOIN Products AS p USING (product_id)
WHERE s.sku_id = %(sku_id)s;

-- name: record_movements
-- The ledger: movements applied to their batches and written, in one statement (the rule is
-- stockline_record_movements() in db/schema.sql, which placing an order uses too).
SELECT stockline_record_movements(%(batch_ids)s::int[], %(deltas)s::int[], %(reasons)s::text[],
                                  %(order_ids)s::bigint[], %(user_ids)s::int[], %(notes)s::text[],
                                  %(po_line_ids)s::int[], %(recall_ids)s::int[]);

-- name: order_allocations
-- The units an order took from each batch (what a cancellation gives back).
SELECT oi.batch_id, oi.sku_id, sum(oi.quantity_ordered)::int AS quantity
FROM Order_Items AS oi
WHERE oi.order_id = %(order_id)s
GROUP BY oi.batch_id, oi.sku_id
ORDER BY oi.batch_id;

-- name: record_opening_receipts
-- The receipts of batches created with their opening stock (quantity_on_hand counts it
-- already), under reserved movement ids where given.
INSERT INTO Stock_Movements (movement_id, batch_id, quantity_delta, reason, note, created_at)
SELECT coalesce(r.movement_id, nextval(pg_get_serial_sequence('stock_movements', 'movement_id'))),
       b.batch_id, b.quantity_on_hand, 'receipt', %(note)s, b.received_at
FROM unnest(%(batch_ids)s::int[], %(movement_ids)s::bigint[]) AS r (batch_id, movement_id)
JOIN Inventory_Batches AS b USING (batch_id)
WHERE b.quantity_on_hand > 0;

-- name: create_movement_stage
CREATE TEMP TABLE IF NOT EXISTS ledger_movement_stage (
    batch_id integer, quantity_delta integer, reason text, order_id bigint, user_id integer, note text,
    created_at timestamptz
) ON COMMIT DELETE ROWS;

-- name: apply_staged_movements
-- The staged movements written and applied to their batches in one statement, emptying the
-- stage (as stockline_record_movements does for a transaction's own movements).
WITH moves AS (
    DELETE FROM ledger_movement_stage RETURNING *
), per_batch AS (
    SELECT batch_id, sum(quantity_delta)::int AS delta FROM moves GROUP BY batch_id
), updated AS (
    UPDATE Inventory_Batches AS b
    SET quantity_on_hand = b.quantity_on_hand + per_batch.delta
    FROM per_batch
    WHERE b.batch_id = per_batch.batch_id
)
INSERT INTO Stock_Movements (batch_id, quantity_delta, reason, order_id, user_id, note, created_at)
SELECT batch_id, quantity_delta, reason, order_id, user_id, note, created_at
FROM moves;
