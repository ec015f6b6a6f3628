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

-- name: order_total_mismatch
-- Orders whose total_amount differs from the sum of their items (sale_price x quantity).
SELECT o.order_id, o.total_amount, coalesce(i.items_total, 0) AS items_total
FROM Orders AS o
LEFT JOIN (
    SELECT order_id, sum(sale_price * quantity_ordered) AS items_total
    FROM Order_Items
    GROUP BY order_id
) AS i USING (order_id)
WHERE o.total_amount <> coalesce(i.items_total, 0)
ORDER BY o.order_id;

-- name: sold_after_expiry
-- Allocations from a batch that had expired on the order's day (stockline_expired; days are
-- UTC calendar days).
SELECT oi.order_item_id, oi.order_id, oi.batch_id, b.batch_no, b.expiry_date,
       (o.order_date AT TIME ZONE 'UTC')::date AS order_day
FROM Order_Items AS oi
JOIN Orders AS o USING (order_id)
JOIN Inventory_Batches AS b USING (batch_id)
WHERE stockline_expired(b.expiry_date, (o.order_date AT TIME ZONE 'UTC')::date)
ORDER BY oi.order_item_id;

-- name: order_ledger_mismatch
-- Per order and batch, the ledger must show the units sold leaving (sale movements equal to
-- the items) and, for a cancelled order, every one of them back (cancel movements); anything
-- else is a unit lost or counted twice.
WITH items AS (
    SELECT order_id, batch_id, sum(quantity_ordered) AS sold
    FROM Order_Items
    GROUP BY order_id, batch_id
), moves AS (
    SELECT order_id, batch_id,
           -sum(quantity_delta) FILTER (WHERE reason = 'sale') AS sold,
           sum(quantity_delta) FILTER (WHERE reason = 'cancel') AS returned
    FROM Stock_Movements
    WHERE order_id IS NOT NULL
    GROUP BY order_id, batch_id
)
SELECT coalesce(i.order_id, m.order_id) AS order_id, coalesce(i.batch_id, m.batch_id) AS batch_id,
       o.status, coalesce(i.sold, 0) AS items_quantity, coalesce(m.sold, 0) AS sale_movements,
       coalesce(m.returned, 0) AS cancel_movements
FROM items AS i
FULL JOIN moves AS m ON m.order_id = i.order_id AND m.batch_id = i.batch_id
JOIN Orders AS o ON o.order_id = coalesce(i.order_id, m.order_id)
WHERE coalesce(i.sold, 0) <> coalesce(m.sold, 0)
   OR coalesce(m.returned, 0) <> CASE WHEN o.status = 'cancelled' THEN coalesce(i.sold, 0) ELSE 0 END
ORDER BY 1, 2;
