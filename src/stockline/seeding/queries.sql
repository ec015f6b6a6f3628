-- Queries of the scale-data generator. Rows themselves arrive by COPY.

-- name: reserve_sku_ids
-- Draws sku_ids from the identity sequence, so SKU codes can be derived from them in COPY.
SELECT nextval(pg_get_serial_sequence('product_skus', 'sku_id'))::int AS sku_id
FROM generate_series(1, %(count)s);

-- name: products_with_sku_counts
-- Every product with how many SKUs it has, so new SKUs continue each product's pack list.
SELECT p.product_id, p.name, count(s.sku_id)::int AS sku_count
FROM Products AS p
LEFT JOIN Product_SKUs AS s USING (product_id)
GROUP BY p.product_id
ORDER BY p.product_id;

-- name: skus_for_batches
-- What a new batch needs to know about each SKU.
SELECT s.sku_id, s.base_price, p.name AS product_name
FROM Product_SKUs AS s
JOIN Products AS p USING (product_id)
ORDER BY s.sku_id;

-- name: create_batch_stage
-- Session-local staging table: COPY lands here, then moves with ON CONFLICT DO NOTHING.
CREATE TEMP TABLE IF NOT EXISTS seed_batch_stage (
    sku_id integer, batch_no text, expiry_date date, quantity_on_hand integer,
    cost_price numeric(12, 2), received_at timestamptz
) ON COMMIT DELETE ROWS;

-- name: move_staged_batches
-- New batches from the stage (duplicates of (sku_id, batch_no) skipped), each batch with
-- stock getting its opening receipt in the ledger. Returns how many batches were added.
WITH inserted AS (
    INSERT INTO Inventory_Batches (sku_id, batch_no, expiry_date, quantity_on_hand, cost_price, received_at)
    SELECT sku_id, batch_no, expiry_date, quantity_on_hand, cost_price, received_at
    FROM seed_batch_stage
    ON CONFLICT (sku_id, batch_no) DO NOTHING
    RETURNING batch_id, quantity_on_hand, received_at
), receipts AS (
    INSERT INTO Stock_Movements (batch_id, quantity_delta, reason, note, created_at)
    SELECT batch_id, quantity_on_hand, 'receipt', 'opening stock (seed)', received_at
    FROM inserted
    WHERE quantity_on_hand > 0
)
SELECT count(*)::int AS added FROM inserted;
