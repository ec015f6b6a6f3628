-- Purchase orders and their lines (purchasing/purchase_orders.py, purchasing/receiving.py).
-- Every change of an order or its lines locks the order's row first (lock_order), so its
-- lines' received quantities only move under that lock.

-- name: orders_page
-- Purchase orders, newest first, filtered; one row always (the total; page columns NULL past
-- the end).
WITH matching AS (
    SELECT o.po_id
    FROM Purchase_Orders AS o
    WHERE (%(status)s::text IS NULL OR o.status = %(status)s::text)
      AND (%(supplier_id)s::int IS NULL OR o.supplier_id = %(supplier_id)s::int)
)
SELECT (SELECT count(*) FROM matching)::int AS total_items, page.*
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (
    SELECT o.po_id, o.supplier_id, sup.name AS supplier_name, o.status, o.closed_short, o.created_at,
           o.sent_at, o.expected_on, totals.line_count, totals.units_ordered, totals.units_received,
           totals.total_cost
    FROM (SELECT po_id FROM matching ORDER BY po_id DESC LIMIT %(limit)s OFFSET %(offset)s) AS m
    JOIN Purchase_Orders AS o USING (po_id)
    JOIN Suppliers AS sup USING (supplier_id)
    CROSS JOIN LATERAL (
        SELECT count(*)::int AS line_count, coalesce(sum(l.quantity_ordered), 0)::int AS units_ordered,
               coalesce(sum(l.quantity_received), 0)::int AS units_received,
               coalesce(sum(l.quantity_ordered * l.unit_cost), 0) AS total_cost
        FROM Purchase_Order_Lines AS l WHERE l.po_id = o.po_id
    ) AS totals
) AS page ON true
ORDER BY page.po_id DESC;

-- name: order_summaries
-- The given purchase orders as the list shows them, by po_id.
SELECT o.po_id, o.supplier_id, sup.name AS supplier_name, o.status, o.closed_short, o.created_at,
       o.sent_at, o.expected_on, count(l.po_line_id)::int AS line_count,
       coalesce(sum(l.quantity_ordered), 0)::int AS units_ordered,
       coalesce(sum(l.quantity_received), 0)::int AS units_received,
       coalesce(sum(l.quantity_ordered * l.unit_cost), 0) AS total_cost
FROM Purchase_Orders AS o
JOIN Suppliers AS sup USING (supplier_id)
LEFT JOIN Purchase_Order_Lines AS l USING (po_id)
WHERE o.po_id = ANY(%(po_ids)s::int[])
GROUP BY o.po_id, sup.name
ORDER BY o.po_id;

-- name: order_header
-- One purchase order (no row: no such order).
SELECT o.po_id, o.supplier_id, sup.name AS supplier_name, o.status, o.closed_short, o.note, o.created_at,
       o.sent_at, o.expected_on, o.closed_at, u.username AS created_by
FROM Purchase_Orders AS o
JOIN Suppliers AS sup USING (supplier_id)
LEFT JOIN Users AS u ON u.user_id = o.created_by
WHERE o.po_id = %(po_id)s;

-- name: order_lines
-- A purchase order's lines, in the order they were written, with the supplier's own code.
SELECT l.po_line_id, l.sku_id, s.sku_code, p.name AS product_name, s.package_size, s.unit_type,
       ss.supplier_sku_code, l.unit_cost, l.quantity_ordered, l.quantity_received
FROM Purchase_Order_Lines AS l
JOIN Purchase_Orders AS o USING (po_id)
JOIN Product_SKUs AS s ON s.sku_id = l.sku_id
JOIN Products AS p ON p.product_id = s.product_id
LEFT JOIN Supplier_SKUs AS ss ON ss.supplier_id = o.supplier_id AND ss.sku_id = l.sku_id
WHERE l.po_id = %(po_id)s
ORDER BY l.po_line_id;

-- name: lock_supplier_for_order
-- The supplier a new order is for, locked against deactivation until commit (no row: none).
SELECT supplier_id, name, is_active, lead_time_days
FROM Suppliers
WHERE supplier_id = %(supplier_id)s
FOR SHARE;

-- name: line_terms
-- For each SKU asked for: whether it exists and what this supplier charges for it.
SELECT wanted.sku_id, s.sku_id IS NOT NULL AS sku_exists, ss.unit_cost AS supplier_cost
FROM unnest(%(sku_ids)s::int[]) AS wanted (sku_id)
LEFT JOIN Product_SKUs AS s ON s.sku_id = wanted.sku_id
LEFT JOIN Supplier_SKUs AS ss ON ss.sku_id = wanted.sku_id AND ss.supplier_id = %(supplier_id)s;

-- name: insert_order
INSERT INTO Purchase_Orders (supplier_id, note, created_by)
VALUES (%(supplier_id)s, %(note)s, %(user_id)s)
RETURNING po_id;

-- name: insert_lines
INSERT INTO Purchase_Order_Lines (po_id, sku_id, quantity_ordered, unit_cost)
SELECT %(po_id)s, line.sku_id, line.quantity, line.unit_cost
FROM unnest(%(sku_ids)s::int[], %(quantities)s::int[], %(unit_costs)s::numeric[])
     WITH ORDINALITY AS line (sku_id, quantity, unit_cost, n)
ORDER BY line.n;

-- name: lock_order
-- The purchase order's row, locked until commit (no row: no such order), with its supplier.
SELECT o.po_id, o.supplier_id, o.status, o.note, o.closed_short, sup.is_active AS supplier_active,
       sup.lead_time_days, sup.name AS supplier_name
FROM Purchase_Orders AS o
JOIN Suppliers AS sup USING (supplier_id)
WHERE o.po_id = %(po_id)s
FOR UPDATE OF o;

-- name: locked_lines
-- The lines of an order whose row this transaction locked: their received quantities are
-- the truth until commit.
SELECT po_line_id, sku_id, quantity_ordered, quantity_received, unit_cost
FROM Purchase_Order_Lines
WHERE po_id = %(po_id)s
ORDER BY po_line_id;

-- name: delete_lines
DELETE FROM Purchase_Order_Lines WHERE po_id = %(po_id)s;

-- name: set_note
UPDATE Purchase_Orders SET note = %(note)s, updated_at = now() WHERE po_id = %(po_id)s;

-- name: send_order
UPDATE Purchase_Orders
SET status = 'sent', sent_at = now(), expected_on = %(expected_on)s, updated_at = now()
WHERE po_id = %(po_id)s;

-- name: cancel_order
UPDATE Purchase_Orders
SET status = 'cancelled', closed_at = now(), note = nullif(concat_ws(E'\n', note, %(note)s::text), ''), updated_at = now()
WHERE po_id = %(po_id)s;

-- name: close_short
-- The supplier will not deliver the rest: received, closed short; what is outstanding stops
-- being incoming stock (stockline_po_open).
UPDATE Purchase_Orders
SET status = 'received', closed_short = true, closed_at = now(), note = nullif(concat_ws(E'\n', note, %(note)s::text), ''),
    updated_at = now()
WHERE po_id = %(po_id)s;

-- name: add_received
-- Received units onto their lines (a line may be named more than once: several batches).
UPDATE Purchase_Order_Lines AS l
SET quantity_received = l.quantity_received + arrived.quantity
FROM (SELECT po_line_id, sum(quantity)::int AS quantity
      FROM unnest(%(po_line_ids)s::int[], %(quantities)s::int[]) AS a (po_line_id, quantity)
      GROUP BY po_line_id) AS arrived
WHERE l.po_line_id = arrived.po_line_id AND l.po_id = %(po_id)s;

-- name: settle_status
-- After a receipt: received once every line has at least what it ordered, else partly
-- received. Answers the new status.
UPDATE Purchase_Orders AS o
SET status = CASE WHEN complete THEN 'received' ELSE 'partly_received' END,
    closed_at = CASE WHEN complete THEN coalesce(o.closed_at, now()) END,
    updated_at = now()
FROM (SELECT bool_and(quantity_received >= quantity_ordered) AS complete
      FROM Purchase_Order_Lines WHERE po_id = %(po_id)s) AS lines
WHERE o.po_id = %(po_id)s
RETURNING o.status;
