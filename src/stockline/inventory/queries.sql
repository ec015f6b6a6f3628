-- Queries of inventory: SKU locks, sellable batches and the stock ledger.
-- "Sellable" batches: stock > 0 and expiry_date > %(sellable_after)s (see inventory/expiry.py).

-- name: lock_skus
-- Locks SKUs in ascending sku_id order (LockRows runs above the sort, so rows are locked in
-- that order). Every transaction that changes stock takes these locks first, so two of them
-- can never wait on each other in a cycle. NO KEY UPDATE: foreign-key checks of cart and
-- order rows pointing at the SKU do not wait for it.
SELECT s.sku_id, s.is_active AND p.is_active AS is_active, s.sku_code, p.name AS product_name,
       s.package_size, s.unit_type
FROM Product_SKUs AS s
JOIN Products AS p USING (product_id)
WHERE s.sku_id = ANY(%(sku_ids)s::int[])
ORDER BY s.sku_id
FOR NO KEY UPDATE OF s;

-- name: sellable_batches
-- Sellable batches of some SKUs in FEFO order, read under the SKUs' locks.
SELECT batch_id, sku_id, batch_no, expiry_date, quantity_on_hand, cost_price
FROM Inventory_Batches
WHERE sku_id = ANY(%(sku_ids)s::int[]) AND quantity_on_hand > 0 AND expiry_date > %(sellable_after)s
ORDER BY sku_id, expiry_date, batch_id;

-- name: available_stock
-- Available (sellable) units of one SKU, and whether it is on sale at all (no row: no SKU).
SELECT s.sku_id, s.is_active AND p.is_active AS is_active,
       coalesce((SELECT sum(b.quantity_on_hand)::int FROM Inventory_Batches AS b
                 WHERE b.sku_id = s.sku_id AND b.quantity_on_hand > 0
                   AND b.expiry_date > %(sellable_after)s), 0) AS available
FROM Product_SKUs AS s
JOIN Products AS p USING (product_id)
WHERE s.sku_id = %(sku_id)s;

-- name: record_movements
-- The ledger: applies each movement to its batch and writes it, in one statement, so stock
-- and ledger can never disagree. A movement of an unknown batch breaks
-- stock_movements_batch_fk, a result below zero inventory_batches_qty_nonneg: either way the
-- statement fails whole (the update runs even though nothing reads its rows).
WITH moves AS (
    SELECT *
    FROM unnest(%(batch_ids)s::int[], %(deltas)s::int[], %(reasons)s::text[], %(order_ids)s::bigint[],
                %(user_ids)s::int[], %(notes)s::text[])
         AS m (batch_id, quantity_delta, reason, order_id, user_id, note)
), per_batch AS (
    SELECT batch_id, sum(quantity_delta) AS delta FROM moves GROUP BY batch_id
), updated AS (
    UPDATE Inventory_Batches AS b
    SET quantity_on_hand = b.quantity_on_hand + per_batch.delta
    FROM per_batch
    WHERE b.batch_id = per_batch.batch_id
)
INSERT INTO Stock_Movements (batch_id, quantity_delta, reason, order_id, user_id, note)
SELECT m.batch_id, m.quantity_delta, m.reason, m.order_id, m.user_id, m.note
FROM moves AS m;
