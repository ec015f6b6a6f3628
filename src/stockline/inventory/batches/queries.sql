-- Queries of batch management (the ledger's own queries are in inventory/queries.sql).
-- "Expired": stockline_expired() in db/schema.sql.

-- name: find_sku
-- A SKU by id or by code (whichever is given).
SELECT sku_id, sku_code
FROM Product_SKUs
WHERE (%(sku_id)s::int IS NOT NULL AND sku_id = %(sku_id)s::int)
   OR (%(sku_id)s::int IS NULL AND sku_code = %(sku_code)s::text);

-- name: batch_by_number
-- A batch by its number, with the open recall it is in (if any: no stock is received into it).
SELECT b.batch_id, b.sku_id, b.batch_no, b.expiry_date, b.quantity_on_hand, b.cost_price, b.quarantined,
       recall.recall_id AS open_recall_id, recall.recall_no AS open_recall_no
FROM Inventory_Batches AS b
LEFT JOIN Open_Recall_Batches AS recall USING (batch_id)
WHERE b.sku_id = %(sku_id)s AND b.batch_no = %(batch_no)s;

-- name: batch_by_id
-- A batch, with the open recall it is in (if any: only the recall's destruction moves it).
SELECT b.batch_id, b.sku_id, b.batch_no, b.expiry_date, b.quantity_on_hand, b.cost_price, b.quarantined,
       recall.recall_id AS open_recall_id, recall.recall_no AS open_recall_no
FROM Inventory_Batches AS b
LEFT JOIN Open_Recall_Batches AS recall USING (batch_id)
WHERE b.batch_id = %(batch_id)s;

-- name: insert_batch
-- A new batch, empty: its stock arrives through the ledger's receipt movement.
INSERT INTO Inventory_Batches (sku_id, batch_no, expiry_date, quantity_on_hand, cost_price)
VALUES (%(sku_id)s, %(batch_no)s, %(expiry_date)s, 0, %(cost_price)s)
RETURNING batch_id, sku_id, batch_no, expiry_date, quantity_on_hand, cost_price;

-- name: set_batch_cost
UPDATE Inventory_Batches SET cost_price = %(cost_price)s WHERE batch_id = %(batch_id)s;

-- name: set_batch_expiry
UPDATE Inventory_Batches SET expiry_date = %(expiry_date)s WHERE batch_id = %(batch_id)s;

-- name: record_batch_edit
INSERT INTO Batch_Edits (batch_id, field, old_value, new_value, user_id, note)
VALUES (%(batch_id)s, %(field)s, %(old_value)s, %(new_value)s, %(user_id)s, %(note)s);

-- name: last_sale_day
-- The latest UTC day this batch was sold on (an expiry may not move to or before it).
SELECT max((o.order_date AT TIME ZONE 'UTC')::date) AS day
FROM Order_Items AS oi
JOIN Orders AS o USING (order_id)
WHERE oi.batch_id = %(batch_id)s;

-- name: batch_history
-- What a batch has been through: movements other than its opening receipt, sales, and
-- quarantines and releases.
SELECT (SELECT count(*) FROM Order_Items WHERE batch_id = %(batch_id)s)::int AS items,
       (SELECT count(*) FROM Stock_Movements WHERE batch_id = %(batch_id)s AND reason <> 'receipt')::int AS moves,
       (SELECT count(*) FROM Stock_Movements WHERE batch_id = %(batch_id)s AND reason = 'receipt')::int AS receipts,
       (SELECT count(*) FROM Batch_Status_Changes WHERE batch_id = %(batch_id)s)::int AS status_changes;

-- name: delete_batch
-- An untouched batch and its receipts (a receipt entered by mistake, taken back whole).
WITH gone_moves AS (
    DELETE FROM Stock_Movements WHERE batch_id = %(batch_id)s
)
DELETE FROM Inventory_Batches WHERE batch_id = %(batch_id)s;

-- name: expired_with_stock
-- Batches already expired (not sellable) that still hold stock, for the bulk write-off; not
-- those of an open recall, whose units the recall destroys (and so accounts for).
SELECT b.batch_id, b.sku_id, b.batch_no, b.expiry_date, b.quantity_on_hand, b.cost_price
FROM Inventory_Batches AS b
WHERE b.quantity_on_hand > 0 AND stockline_expired(b.expiry_date, %(today)s)
  AND NOT EXISTS (SELECT 1 FROM Open_Recall_Batches AS recall WHERE recall.batch_id = b.batch_id)
ORDER BY b.sku_id, b.batch_id;

-- name: batch_views
-- Batches as the inventory view shows them (a batch page, what a write answers), with the
-- open recall each is in, if any.
SELECT b.batch_id, b.batch_no, b.expiry_date, b.quantity_on_hand, b.cost_price, b.received_at, b.quarantined,
       s.sku_id, s.sku_code, s.package_size, s.unit_type, s.reorder_level, p.product_id, p.name AS product_name,
       p.manufacturer, recall.recall_id AS open_recall_id, recall.recall_no AS open_recall_no
FROM Inventory_Batches AS b
JOIN Product_SKUs AS s USING (sku_id)
JOIN Products AS p USING (product_id)
LEFT JOIN Open_Recall_Batches AS recall USING (batch_id)
WHERE b.batch_id = ANY(%(batch_ids)s::int[]);

-- name: batch_edit_history
-- A batch's recorded edits of cost and expiry, newest first, with who made them and the count of all.
SELECT e.field, e.old_value, e.new_value, e.note, e.created_at, u.username, count(*) OVER ()::int AS total_items
FROM Batch_Edits AS e
LEFT JOIN Users AS u USING (user_id)
WHERE e.batch_id = %(batch_id)s
ORDER BY e.edit_id DESC
LIMIT %(limit)s;

-- name: expired_stock_summary
-- What the bulk write-off would take now: the batches of expired_with_stock, counted.
SELECT count(*)::int AS batches, coalesce(sum(b.quantity_on_hand), 0)::int AS units,
       coalesce(sum(b.quantity_on_hand * b.cost_price), 0)::numeric(14, 2) AS value
FROM Inventory_Batches AS b
WHERE b.quantity_on_hand > 0 AND stockline_expired(b.expiry_date, %(today)s)
  AND NOT EXISTS (SELECT 1 FROM Open_Recall_Batches AS recall WHERE recall.batch_id = b.batch_id);
