-- Queries of recalls. A recall's progress is read from the ledger: units returned under it are
-- its `recall_return` movements, units destroyed its `write_off` movements (both name the
-- recall); delivered units are the items of shipped orders drawn from its batches.

-- name: create_recall
-- A recall, numbered RCL-<year>-NNNNNN in its own gapless series (the number is held until
-- commit: a rollback gives it back).
WITH numbered AS (
    SELECT * FROM stockline_take_document_number('RCL', %(day)s::date)
)
INSERT INTO Recalls (recall_no, recall_class, reason, initiated_by)
SELECT document_no, %(recall_class)s, %(reason)s, %(user_id)s FROM numbered
RETURNING recall_id, recall_no;

-- name: insert_recall_batches
-- The recalled batches with what the warehouse held of each (read under the SKU locks).
INSERT INTO Recall_Batches (recall_id, batch_id, on_hand_at_recall)
SELECT %(recall_id)s, b.batch_id, b.on_hand
FROM unnest(%(batch_ids)s::int[], %(on_hand)s::int[]) AS b (batch_id, on_hand);

-- name: lock_recall
-- A recall, locked: FOR SHARE by a return or a destruction (they run side by side), FOR
-- UPDATE by closing, so a recall is never closed while one of them is being written.
SELECT recall_id, recall_no, status FROM Recalls WHERE recall_id = %(recall_id)s FOR SHARE;

-- name: lock_recall_to_close
SELECT recall_id, recall_no, status FROM Recalls WHERE recall_id = %(recall_id)s FOR UPDATE;

-- name: recall_header
SELECT r.recall_id, r.recall_no, r.recall_class, r.reason, r.status, r.initiated_at, r.closed_at,
       r.close_note, starter.username AS initiated_by, closer.username AS closed_by
FROM Recalls AS r
LEFT JOIN Users AS starter ON starter.user_id = r.initiated_by
LEFT JOIN Users AS closer ON closer.user_id = r.closed_by
WHERE r.recall_id = %(recall_id)s;

-- name: recall_batches
-- Each recalled batch: what it held when recalled and holds now, and what came back and was
-- destroyed under the recall, from the ledger.
SELECT rb.batch_id, b.batch_no, b.sku_id, s.sku_code, p.name AS product_name, s.package_size, s.unit_type,
       b.expiry_date, b.quarantined, rb.on_hand_at_recall, b.quantity_on_hand AS on_hand,
       coalesce(moved.returned, 0)::int AS returned, coalesce(moved.destroyed, 0)::int AS destroyed
FROM Recall_Batches AS rb
JOIN Inventory_Batches AS b USING (batch_id)
JOIN Product_SKUs AS s ON s.sku_id = b.sku_id
JOIN Products AS p USING (product_id)
LEFT JOIN LATERAL (
    SELECT sum(m.quantity_delta) FILTER (WHERE m.reason = 'recall_return') AS returned,
           -sum(m.quantity_delta) FILTER (WHERE m.reason = 'write_off') AS destroyed
    FROM Stock_Movements AS m
    WHERE m.recall_id = rb.recall_id AND m.batch_id = rb.batch_id
) AS moved ON true
WHERE rb.recall_id = %(recall_id)s
ORDER BY s.sku_code, b.expiry_date, rb.batch_id;

-- name: recall_items
-- The trace: every order item drawn from the recall's batches (a customer's only, when
-- customer_id is set), cancelled orders' too, with the units returned under this recall (its
-- recall_return movements for the order and batch) and by approved ordinary returns.
SELECT oi.order_item_id, oi.order_id, o.order_date, o.status, o.customer_id, c.name AS customer_name,
       oi.sku_id, s.sku_code, p.name AS product_name, s.package_size, s.unit_type, oi.batch_id, b.batch_no,
       b.expiry_date, oi.quantity_ordered AS quantity,
       coalesce(under_recall.units, 0)::int AS returned, coalesce(otherwise.units, 0)::int AS returned_otherwise
FROM Recall_Batches AS rb
JOIN Order_Items AS oi ON oi.batch_id = rb.batch_id
JOIN Orders AS o ON o.order_id = oi.order_id
JOIN Customers AS c ON c.customer_id = o.customer_id
JOIN Product_SKUs AS s ON s.sku_id = oi.sku_id
JOIN Products AS p USING (product_id)
JOIN Inventory_Batches AS b ON b.batch_id = oi.batch_id
LEFT JOIN LATERAL (
    SELECT sum(m.quantity_delta) AS units
    FROM Stock_Movements AS m
    WHERE m.order_id = oi.order_id AND m.batch_id = oi.batch_id AND m.recall_id = rb.recall_id
      AND m.reason = 'recall_return'
) AS under_recall ON true
LEFT JOIN LATERAL (
    SELECT sum(rl.quantity) AS units
    FROM Return_Lines AS rl
    JOIN Returns AS r USING (return_id)
    WHERE rl.order_item_id = oi.order_item_id AND r.status = 'approved'
      AND r.recall_id IS DISTINCT FROM rb.recall_id
) AS otherwise ON true
WHERE rb.recall_id = %(recall_id)s
  AND (%(customer_id)s::int IS NULL OR o.customer_id = %(customer_id)s::int)
ORDER BY c.name, o.customer_id, o.order_date, oi.order_id, oi.batch_id;

-- name: recalls_page
-- Recalls, open ones first, then newest first, with how far each has come: customers
-- concerned, units delivered and still outstanding (delivered minus approved returns of any
-- kind); always one row with the total.
WITH matching AS (
    SELECT recall_id, recall_no, recall_class, reason, status, initiated_at, closed_at
    FROM Recalls
    WHERE (%(status)s::text IS NULL OR status = %(status)s::text)
)
SELECT (SELECT count(*) FROM matching)::int AS total_items, page.*
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (
    SELECT m.*, batches.batch_count, coalesce(sold.customers, 0)::int AS customers,
           coalesce(sold.delivered, 0)::int AS delivered,
           (coalesce(sold.delivered, 0) - coalesce(back.units, 0))::int AS outstanding
    FROM (SELECT * FROM matching ORDER BY status = 'open' DESC, recall_id DESC
          LIMIT %(limit)s OFFSET %(offset)s) AS m
    CROSS JOIN LATERAL (
        SELECT count(*)::int AS batch_count FROM Recall_Batches AS rb WHERE rb.recall_id = m.recall_id
    ) AS batches
    LEFT JOIN LATERAL (
        SELECT count(DISTINCT o.customer_id) FILTER (WHERE o.status <> 'cancelled') AS customers,
               sum(oi.quantity_ordered) FILTER (WHERE o.status = 'shipped') AS delivered
        FROM Recall_Batches AS rb
        JOIN Order_Items AS oi ON oi.batch_id = rb.batch_id
        JOIN Orders AS o ON o.order_id = oi.order_id
        WHERE rb.recall_id = m.recall_id
    ) AS sold ON true
    LEFT JOIN LATERAL (
        SELECT sum(rl.quantity) AS units
        FROM Recall_Batches AS rb
        JOIN Order_Items AS oi ON oi.batch_id = rb.batch_id
        JOIN Return_Lines AS rl ON rl.order_item_id = oi.order_item_id
        JOIN Returns AS r ON r.return_id = rl.return_id
        WHERE rb.recall_id = m.recall_id AND r.status = 'approved'
    ) AS back ON true
) AS page ON true
ORDER BY page.status = 'open' DESC, page.recall_id DESC;

-- name: customer_recall_items
-- A customer's order items (not of cancelled orders) drawn from any recalled batch, with the
-- recall and what came back of each item (any approved return).
SELECT r.recall_id, r.recall_no, r.recall_class, r.reason, r.status AS recall_status, r.initiated_at,
       r.closed_at, oi.order_item_id, oi.order_id, o.order_date, o.status, s.sku_code, p.name AS product_name,
       s.package_size, s.unit_type, b.batch_no, b.expiry_date, oi.quantity_ordered AS quantity,
       coalesce(back.units, 0)::int AS returned
FROM Orders AS o
JOIN Order_Items AS oi USING (order_id)
JOIN Recall_Batches AS rb ON rb.batch_id = oi.batch_id
JOIN Recalls AS r ON r.recall_id = rb.recall_id
JOIN Product_SKUs AS s ON s.sku_id = oi.sku_id
JOIN Products AS p USING (product_id)
JOIN Inventory_Batches AS b ON b.batch_id = oi.batch_id
LEFT JOIN LATERAL (
    SELECT sum(rl.quantity) AS units
    FROM Return_Lines AS rl
    JOIN Returns AS ret USING (return_id)
    WHERE rl.order_item_id = oi.order_item_id AND ret.status = 'approved'
) AS back ON true
WHERE o.customer_id = %(customer_id)s AND o.status <> 'cancelled'
  AND (%(recall_id)s::int IS NULL OR r.recall_id = %(recall_id)s::int)
ORDER BY r.status = 'open' DESC, r.recall_id DESC, o.order_date, oi.order_id, b.batch_no;

-- name: notice_customer
SELECT customer_id, name, address, email, phone FROM Customers WHERE customer_id = %(customer_id)s;

-- name: recall_batch_for_destruction
-- A batch of the recall (none: not recalled under it) with its SKU, to lock before the count.
SELECT rb.batch_id, b.sku_id, b.batch_no
FROM Recall_Batches AS rb
JOIN Inventory_Batches AS b USING (batch_id)
WHERE rb.recall_id = %(recall_id)s AND rb.batch_id = %(batch_id)s;

-- name: batch_on_hand
-- Read after the SKU lock: the truth until commit.
SELECT quantity_on_hand FROM Inventory_Batches WHERE batch_id = %(batch_id)s;

-- name: close_recall
UPDATE Recalls SET status = 'closed', closed_by = %(user_id)s, closed_at = now(), close_note = %(note)s
WHERE recall_id = %(recall_id)s;
