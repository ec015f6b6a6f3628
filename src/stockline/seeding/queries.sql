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

-- name: reserve_batch_and_movement_ids
-- Draws ids for a chunk of batches and for their opening receipts from the identity
-- sequences, so rows keep the same ids whichever writer connection commits first.
SELECT ARRAY(SELECT nextval(pg_get_serial_sequence('inventory_batches', 'batch_id'))::int
             FROM generate_series(1, %(batches)s)) AS batch_ids,
       ARRAY(SELECT nextval(pg_get_serial_sequence('stock_movements', 'movement_id'))
             FROM generate_series(1, %(receipts)s)) AS movement_ids;

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
-- New batches from the stage (duplicates of (sku_id, batch_no) skipped); their ids, for
-- their opening receipts in the ledger.
INSERT INTO Inventory_Batches (sku_id, batch_no, expiry_date, quantity_on_hand, cost_price, received_at)
SELECT sku_id, batch_no, expiry_date, quantity_on_hand, cost_price, received_at
FROM seed_batch_stage
ON CONFLICT (sku_id, batch_no) DO NOTHING
RETURNING batch_id;

-- name: reserve_order_ids
-- Draws order_ids from the identity sequence, so items and ledger rows can name their order.
SELECT nextval(pg_get_serial_sequence('orders', 'order_id')) AS order_id
FROM generate_series(1, %(count)s);

-- name: pricing_rule_keys
-- Existing rules' (sku_id, customer_id, min_quantity), so generated rules never duplicate one.
SELECT sku_id, customer_id, min_quantity FROM Pricing_Rules;

-- name: all_pricing_rules
SELECT rule_id, sku_id, customer_id, min_quantity, discount_percentage, valid_from, valid_to
FROM Pricing_Rules;

-- name: customers_with_login
-- Every customer with one of its users (NULL while it has none), for order history.
SELECT c.customer_id, min(u.user_id) AS user_id
FROM Customers AS c
LEFT JOIN Users AS u ON u.customer_id = c.customer_id AND u.role = 'customer'
GROUP BY c.customer_id
ORDER BY c.customer_id;

-- name: batches_with_stock
-- Stock that order history may draw from, in FEFO order per SKU.
SELECT b.batch_id, b.sku_id, b.expiry_date, b.quantity_on_hand, b.cost_price, b.received_at,
       s.base_price
FROM Inventory_Batches AS b
JOIN Product_SKUs AS s USING (sku_id)
WHERE b.quantity_on_hand > 0
ORDER BY b.sku_id, b.expiry_date, b.batch_id;

-- name: history_counts
SELECT (SELECT count(*) FROM Pricing_Rules)::int AS pricing_rules,
       (SELECT count(*) FROM Orders)::int AS orders;

-- name: all_sku_ids
SELECT sku_id FROM Product_SKUs ORDER BY sku_id;

-- name: all_customer_ids
SELECT customer_id FROM Customers ORDER BY customer_id;
