-- A batch's traceability, from the ledger (Stock_Movements) joined outward: backward to the
-- purchase order lines and suppliers its receipts name, forward to the orders and customers
-- its units went to and came back from, and the recalls it is in.

-- name: snapshot
-- The trace reads every part of it from one snapshot (the first statement of its transaction).
SET LOCAL transaction_isolation = 'repeatable read';

-- name: receipts
-- The batch's receipts, oldest first: who, when, how many, and the purchase order line each
-- was for (with its order, supplier and cost), if any; with the count of all.
SELECT m.movement_id, m.created_at, m.quantity_delta AS quantity, m.note, m.user_id, u.username,
       m.po_line_id, l.po_id, po.status AS po_status, l.quantity_ordered, l.unit_cost,
       po.supplier_id, s.name AS supplier_name, count(*) OVER ()::int AS total_items
FROM Stock_Movements AS m
LEFT JOIN Users AS u ON u.user_id = m.user_id
LEFT JOIN Purchase_Order_Lines AS l ON l.po_line_id = m.po_line_id
LEFT JOIN Purchase_Orders AS po ON po.po_id = l.po_id
LEFT JOIN Suppliers AS s ON s.supplier_id = po.supplier_id
WHERE m.batch_id = %(batch_id)s AND m.reason = 'receipt'
ORDER BY m.movement_id
LIMIT %(limit)s;

-- name: movements
-- The batch's whole ledger, oldest first, with the units it held after each movement, the
-- order and customer a movement names (sale, cancel, return, recall_return, a write-off on
-- return), its recall and its purchase order; a page of it (NULL limit: all of it). One row
-- always: the count of all, and the page's columns NULL past the end. Movements of one batch
-- are written under its SKU's lock, so their ids run in the order they were committed and
-- the running balance is what the batch really held.
WITH ledger AS (
    SELECT m.movement_id, m.created_at, m.reason, m.quantity_delta, m.order_id, m.recall_id, m.po_line_id,
           m.user_id, m.note,
           sum(m.quantity_delta) OVER (ORDER BY m.movement_id)::int AS balance
    FROM Stock_Movements AS m
    WHERE m.batch_id = %(batch_id)s
)
SELECT (SELECT count(*) FROM ledger)::int AS total_items, page.*
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (
    SELECT l.movement_id, l.created_at, l.reason, l.quantity_delta, l.balance, l.order_id,
           o.order_date, o.status AS order_status, o.customer_id, c.name AS customer_name,
           l.recall_id, r.recall_no, l.po_line_id, pl.po_id, l.user_id, u.username, l.note
    FROM (SELECT * FROM ledger ORDER BY movement_id LIMIT %(limit)s OFFSET %(offset)s) AS l
    LEFT JOIN Orders AS o ON o.order_id = l.order_id
    LEFT JOIN Customers AS c ON c.customer_id = o.customer_id
    LEFT JOIN Recalls AS r ON r.recall_id = l.recall_id
    LEFT JOIN Purchase_Order_Lines AS pl ON pl.po_line_id = l.po_line_id
    LEFT JOIN Users AS u ON u.user_id = l.user_id
) AS page ON true
ORDER BY page.movement_id;

-- name: customers
-- Per customer who was sold units of the batch: their orders, units sold, cancelled,
-- returned (a plain return) and returned under a recall, and so units they hold
-- (sold - cancelled - returned); the most held first.
WITH per_customer AS (
    SELECT o.customer_id,
           count(DISTINCT m.order_id) FILTER (WHERE m.reason = 'sale')::int AS orders,
           coalesce(-sum(m.quantity_delta) FILTER (WHERE m.reason = 'sale'), 0)::int AS sold,
           coalesce(sum(m.quantity_delta) FILTER (WHERE m.reason = 'cancel'), 0)::int AS cancelled,
           coalesce(sum(m.quantity_delta) FILTER (WHERE m.reason = 'return'), 0)::int AS returned,
           coalesce(sum(m.quantity_delta) FILTER (WHERE m.reason = 'recall_return'), 0)::int AS recall_returned,
           max(o.order_date) FILTER (WHERE m.reason = 'sale') AS last_order_date
    FROM Stock_Movements AS m
    JOIN Orders AS o ON o.order_id = m.order_id
    WHERE m.batch_id = %(batch_id)s
    GROUP BY o.customer_id
)
SELECT p.*, c.name AS customer_name, p.sold - p.cancelled - p.returned - p.recall_returned AS units_held
FROM per_customer AS p
JOIN Customers AS c USING (customer_id)
ORDER BY units_held DESC, p.customer_id;

-- name: totals
-- The batch's movements summed by reason.
SELECT coalesce(sum(quantity_delta) FILTER (WHERE reason = 'receipt'), 0)::int AS received,
       coalesce(-sum(quantity_delta) FILTER (WHERE reason = 'sale'), 0)::int AS sold,
       coalesce(sum(quantity_delta) FILTER (WHERE reason = 'cancel'), 0)::int AS cancelled,
       coalesce(sum(quantity_delta) FILTER (WHERE reason = 'return'), 0)::int AS returned,
       coalesce(sum(quantity_delta) FILTER (WHERE reason = 'recall_return'), 0)::int AS recall_returned,
       coalesce(-sum(quantity_delta) FILTER (WHERE reason = 'write_off'), 0)::int AS written_off,
       coalesce(sum(quantity_delta) FILTER (WHERE reason = 'adjustment'), 0)::int AS adjusted
FROM Stock_Movements
WHERE batch_id = %(batch_id)s;

-- name: recalls
-- The recalls the batch is (or was) in, oldest first, with what the warehouse held when each began.
SELECT r.recall_id, r.recall_no, r.recall_class, r.reason, r.status, r.initiated_at, r.closed_at,
       rb.on_hand_at_recall
FROM Recall_Batches AS rb
JOIN Recalls AS r USING (recall_id)
WHERE rb.batch_id = %(batch_id)s
ORDER BY r.recall_id;

-- name: batch_exists
SELECT EXISTS (SELECT 1 FROM Inventory_Batches WHERE batch_id = %(batch_id)s) AS found;
