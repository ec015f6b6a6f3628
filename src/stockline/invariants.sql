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

-- name: order_tax_mismatch
-- Order lines whose tax is not their net (sale_price x quantity) at their stored rate,
-- rounded half-up (stockline_line_tax), and orders whose tax_amount is not the sum of their
-- lines' tax.
SELECT oi.order_id, oi.order_item_id, oi.tax_rate, oi.tax_amount,
       stockline_line_tax(oi.sale_price * oi.quantity_ordered, oi.tax_rate) AS expected_tax
FROM Order_Items AS oi
WHERE oi.tax_amount <> stockline_line_tax(oi.sale_price * oi.quantity_ordered, oi.tax_rate)
UNION ALL
SELECT o.order_id, NULL, NULL, o.tax_amount, coalesce(i.tax, 0)
FROM Orders AS o
LEFT JOIN (SELECT order_id, sum(tax_amount) AS tax FROM Order_Items GROUP BY order_id) AS i USING (order_id)
WHERE o.tax_amount <> coalesce(i.tax, 0)
ORDER BY 1, 2;

-- name: invoice_total_mismatch
-- Invoices whose net or tax is not the sum of their lines, or not what their order holds
-- (an order's items never change once placed, so the two must agree forever).
SELECT i.invoice_id, i.invoice_no, i.net_amount, i.tax_amount, l.net AS lines_net, l.tax AS lines_tax,
       o.total_amount AS order_net, o.tax_amount AS order_tax
FROM Invoices AS i
JOIN Orders AS o USING (order_id)
LEFT JOIN (SELECT invoice_id, sum(net_amount) AS net, sum(tax_amount) AS tax
           FROM Invoice_Lines GROUP BY invoice_id) AS l USING (invoice_id)
WHERE i.net_amount IS DISTINCT FROM coalesce(l.net, 0) OR i.tax_amount IS DISTINCT FROM coalesce(l.tax, 0)
   OR i.net_amount <> o.total_amount OR i.tax_amount <> o.tax_amount
ORDER BY i.invoice_id;

-- name: invoice_payments_mismatch
-- Invoices whose amount_paid is not the sum of the payments recorded against them.
SELECT i.invoice_id, i.invoice_no, i.amount_paid, coalesce(p.paid, 0) AS payments
FROM Invoices AS i
LEFT JOIN (SELECT invoice_id, sum(amount) AS paid FROM Payments GROUP BY invoice_id) AS p USING (invoice_id)
WHERE i.amount_paid <> coalesce(p.paid, 0)
ORDER BY i.invoice_id;

-- name: document_number_gaps
-- Invoice and credit note series with a gap (numbers of a year not consecutive) or a number
-- beyond the year's counter. (A counter ahead of the documents is not reported: the seed
-- procedure's TRUNCATE empties the documents but leaves the counters.)
SELECT d.series, d.series_year, count(*) AS documents, min(d.series_number) AS first_number,
       max(d.series_number) AS last_number, c.last_number AS counter
FROM (SELECT 'INV' AS series, series_year, series_number FROM Invoices
      UNION ALL
      SELECT 'CN', series_year, series_number FROM Credit_Notes) AS d
LEFT JOIN Document_Counters AS c ON c.series = d.series AND c.year = d.series_year
GROUP BY d.series, d.series_year, c.last_number
HAVING count(*) <> max(d.series_number) - min(d.series_number) + 1
    OR max(d.series_number) > coalesce(c.last_number, 0)
ORDER BY 1, 2;
