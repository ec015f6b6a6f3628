-- Queries of inventory: SKU locks, sellable batches and the stock ledger.
-- "Sellable" batches: stock > 0 and expiry_date > %(sellable_after)s (see kernel/expiry.py).

-- name: lock_skus
-- Locks SKUs in ascending sku_id order until commit (the rule is stockline_lock_skus() in
-- db/schema.sql, which placing an order uses too).
SELECT * FROM stockline_lock_skus(%(sku_ids)s::int[]);

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
-- The ledger: movements applied to their batches and written, in one statement (the rule is
-- stockline_record_movements() in db/schema.sql, which placing an order uses too).
SELECT stockline_record_movements(%(batch_ids)s::int[], %(deltas)s::int[], %(reasons)s::text[],
                                  %(order_ids)s::bigint[], %(user_ids)s::int[], %(notes)s::text[]);
