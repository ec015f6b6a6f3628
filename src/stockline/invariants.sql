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
-- Invoice, credit note and recall series with a gap (numbers of a year not consecutive) or a number
-- beyond the year's counter. (A counter ahead of the documents is not reported: the seed
-- procedure's TRUNCATE empties the documents but leaves the counters.)
SELECT d.series, d.series_year, count(*) AS documents, min(d.series_number) AS first_number,
       max(d.series_number) AS last_number, c.last_number AS counter
FROM (SELECT 'INV' AS series, series_year, series_number FROM Invoices
      UNION ALL
      SELECT 'CN', series_year, series_number FROM Credit_Notes
      UNION ALL  -- recall numbers are printed RCL-<year>-NNNNNN
      SELECT 'RCL', split_part(recall_no, '-', 2)::int, split_part(recall_no, '-', 3)::int FROM Recalls) AS d
LEFT JOIN Document_Counters AS c ON c.series = d.series AND c.year = d.series_year
GROUP BY d.series, d.series_year, c.last_number
HAVING count(*) <> max(d.series_number) - min(d.series_number) + 1
    OR max(d.series_number) > coalesce(c.last_number, 0)
ORDER BY 1, 2;

-- name: returned_beyond_delivered
-- Order items whose requested and approved return units exceed what was delivered, returns
-- of an order that is not shipped (only delivered orders are returned), and return lines
-- naming an item of another order than their return's.
SELECT oi.order_item_id, oi.order_id, o.status AS order_status, oi.quantity_ordered AS delivered,
       coalesce(sum(rl.quantity) FILTER (WHERE r.status <> 'rejected'), 0) AS returned,
       bool_or(r.order_id <> oi.order_id) AS on_another_orders_return
FROM Return_Lines AS rl
JOIN Returns AS r USING (return_id)
JOIN Order_Items AS oi USING (order_item_id)
JOIN Orders AS o ON o.order_id = oi.order_id
GROUP BY oi.order_item_id, oi.order_id, o.status, oi.quantity_ordered
HAVING coalesce(sum(rl.quantity) FILTER (WHERE r.status <> 'rejected'), 0) > oi.quantity_ordered
    OR o.status <> 'shipped' OR bool_or(r.order_id <> oi.order_id)
ORDER BY oi.order_item_id;

-- name: return_decision_mismatch
-- Returns decided halfway: an approved one needs a disposition on every line and its credit
-- note (a return under a recall of an order shipped before invoices existed has none to
-- credit); a requested or rejected one has neither. A return without lines is broken too.
SELECT r.return_id, r.status, count(rl.order_item_id) AS lines,
       count(rl.disposition) AS lines_with_disposition, cn.credit_note_id
FROM Returns AS r
LEFT JOIN Return_Lines AS rl USING (return_id)
LEFT JOIN Credit_Notes AS cn ON cn.return_id = r.return_id
GROUP BY r.return_id, r.status, r.recall_id, r.order_id, cn.credit_note_id
HAVING count(rl.order_item_id) = 0
    OR CASE WHEN r.status = 'approved'
            THEN count(rl.disposition) <> count(rl.order_item_id)
                 OR (cn.credit_note_id IS NULL
                     AND (r.recall_id IS NULL OR EXISTS (SELECT 1 FROM Invoices AS i WHERE i.order_id = r.order_id)))
            ELSE count(rl.disposition) > 0 OR cn.credit_note_id IS NOT NULL END
ORDER BY r.return_id;

-- name: return_ledger_mismatch
-- Per order and batch, the ledger must show every approved returned unit coming back
-- (`return` movements, `recall_return` for units sent back under a recall) and every one written off on return leaving again (`write_off`
-- movements naming the order); anything else is a unit lost or counted twice.
WITH approved AS (
    SELECT oi.order_id, oi.batch_id, sum(rl.quantity) AS returned,
           coalesce(sum(rl.quantity) FILTER (WHERE rl.disposition = 'write_off'), 0) AS written_off
    FROM Return_Lines AS rl
    JOIN Returns AS r USING (return_id)
    JOIN Order_Items AS oi USING (order_item_id)
    WHERE r.status = 'approved'
    GROUP BY oi.order_id, oi.batch_id
), moves AS (
    SELECT order_id, batch_id,
           coalesce(sum(quantity_delta) FILTER (WHERE reason IN ('return', 'recall_return')), 0) AS returned,
           coalesce(-sum(quantity_delta) FILTER (WHERE reason = 'write_off'), 0) AS written_off
    FROM Stock_Movements
    WHERE order_id IS NOT NULL AND reason IN ('return', 'recall_return', 'write_off')
    GROUP BY order_id, batch_id
)
SELECT coalesce(a.order_id, m.order_id) AS order_id, coalesce(a.batch_id, m.batch_id) AS batch_id,
       coalesce(a.returned, 0) AS approved_units, coalesce(m.returned, 0) AS return_movements,
       coalesce(a.written_off, 0) AS written_off_units, coalesce(m.written_off, 0) AS write_off_movements
FROM approved AS a
FULL JOIN moves AS m ON m.order_id = a.order_id AND m.batch_id = a.batch_id
WHERE coalesce(a.returned, 0) <> coalesce(m.returned, 0)
   OR coalesce(a.written_off, 0) <> coalesce(m.written_off, 0)
ORDER BY 1, 2;

-- name: credit_note_total_mismatch
-- Credit notes whose net or tax is not the sum of their lines (a note without lines
-- included), or whose gross is not net + tax, and lines whose net is not unit price x
-- quantity.
SELECT cn.credit_note_id, cn.credit_note_no, NULL::integer AS line_no, cn.net_amount, cn.tax_amount,
       cn.gross_amount, l.net AS lines_net, l.tax AS lines_tax
FROM Credit_Notes AS cn
LEFT JOIN (SELECT credit_note_id, sum(net_amount) AS net, sum(tax_amount) AS tax
           FROM Credit_Note_Lines GROUP BY credit_note_id) AS l USING (credit_note_id)
WHERE cn.net_amount IS DISTINCT FROM l.net OR cn.tax_amount IS DISTINCT FROM l.tax
   OR cn.gross_amount <> cn.net_amount + cn.tax_amount
UNION ALL
SELECT cl.credit_note_id, cn.credit_note_no, cl.line_no, cl.net_amount, cl.tax_amount, NULL,
       cl.unit_price * cl.quantity, NULL
FROM Credit_Note_Lines AS cl
JOIN Credit_Notes AS cn USING (credit_note_id)
WHERE cl.net_amount <> cl.unit_price * cl.quantity
ORDER BY 1, 3 NULLS FIRST;

-- name: credit_beyond_invoiced
-- Per order item, what credit notes credit must be the units approved on its returns, at
-- most what was sold, and never more tax than was charged for it (rounding included).
WITH approved AS (
    SELECT rl.order_item_id, sum(rl.quantity) AS units
    FROM Return_Lines AS rl
    JOIN Returns AS r USING (return_id)
    WHERE r.status = 'approved'
      -- a return under a recall of an order shipped before invoices existed credits nothing
      AND (r.recall_id IS NULL OR EXISTS (SELECT 1 FROM Invoices AS i WHERE i.order_id = r.order_id))
    GROUP BY rl.order_item_id
), credited AS (
    SELECT order_item_id, sum(quantity) AS units, sum(net_amount) AS net, sum(tax_amount) AS tax
    FROM Credit_Note_Lines
    GROUP BY order_item_id
)
SELECT oi.order_item_id, oi.order_id, oi.quantity_ordered, coalesce(a.units, 0) AS approved_units,
       coalesce(c.units, 0) AS credited_units, oi.sale_price * oi.quantity_ordered AS item_net,
       coalesce(c.net, 0) AS credited_net, oi.tax_amount AS item_tax, coalesce(c.tax, 0) AS credited_tax
FROM Order_Items AS oi
LEFT JOIN approved AS a USING (order_item_id)
LEFT JOIN credited AS c USING (order_item_id)
WHERE (a.units IS NOT NULL OR c.units IS NOT NULL)
  AND (coalesce(a.units, 0) <> coalesce(c.units, 0) OR coalesce(c.units, 0) > oi.quantity_ordered
       OR coalesce(c.net, 0) > oi.sale_price * oi.quantity_ordered OR coalesce(c.tax, 0) > oi.tax_amount)
ORDER BY oi.order_item_id;

-- name: invoice_credited_mismatch
-- Invoices whose amount_credited is not the sum of the gross of their credit notes.
SELECT i.invoice_id, i.invoice_no, i.amount_credited, coalesce(c.credited, 0) AS credit_notes
FROM Invoices AS i
LEFT JOIN (SELECT invoice_id, sum(gross_amount) AS credited FROM Credit_Notes GROUP BY invoice_id) AS c
    USING (invoice_id)
WHERE i.amount_credited <> coalesce(c.credited, 0)
ORDER BY i.invoice_id;

-- name: po_received_mismatch
-- Purchase order lines whose quantity_received differs from the `receipt` movements naming
-- them: a unit received twice or not at all.
SELECT l.po_line_id, l.po_id, l.quantity_received, coalesce(m.received, 0) AS receipt_movements
FROM Purchase_Order_Lines AS l
LEFT JOIN (
    SELECT po_line_id, sum(quantity_delta) AS received
    FROM Stock_Movements
    WHERE po_line_id IS NOT NULL
    GROUP BY po_line_id
) AS m USING (po_line_id)
WHERE l.quantity_received <> coalesce(m.received, 0)
ORDER BY l.po_line_id;

-- name: po_status_mismatch
-- Purchase orders whose status does not say what their lines received: draft, sent and
-- cancelled ones received nothing; a partly received one received something and is short
-- somewhere; a received one got every line in full, or was closed short.
SELECT o.po_id, o.status, o.closed_short, count(*) AS lines,
       count(*) FILTER (WHERE l.quantity_received > 0) AS lines_with_receipts,
       count(*) FILTER (WHERE l.quantity_received < l.quantity_ordered) AS lines_short
FROM Purchase_Orders AS o
JOIN Purchase_Order_Lines AS l USING (po_id)
GROUP BY o.po_id, o.status, o.closed_short
HAVING CASE o.status
    WHEN 'partly_received' THEN count(*) FILTER (WHERE l.quantity_received > 0) = 0
                                OR count(*) FILTER (WHERE l.quantity_received < l.quantity_ordered) = 0
    WHEN 'received' THEN NOT o.closed_short AND count(*) FILTER (WHERE l.quantity_received < l.quantity_ordered) > 0
    ELSE count(*) FILTER (WHERE l.quantity_received > 0) > 0
END OR (o.closed_short AND o.status <> 'received')
ORDER BY o.po_id;

-- name: batch_status_mismatch
-- Batches whose quarantined flag is not their latest status change (no change: not
-- quarantined).
SELECT b.batch_id, b.batch_no, b.quarantined, last.quarantined AS latest_change
FROM Inventory_Batches AS b
LEFT JOIN LATERAL (
    SELECT c.quarantined FROM Batch_Status_Changes AS c
    WHERE c.batch_id = b.batch_id ORDER BY c.change_id DESC LIMIT 1
) AS last ON true
WHERE b.quarantined <> coalesce(last.quarantined, false)
ORDER BY b.batch_id;

-- name: sale_while_quarantined
-- Sales of a batch made while it was on hold: the latest status change before the sale in
-- the batch's ledger (each change records the batch's latest movement_id when it was made,
-- under the SKU lock every sale takes too) was a quarantine.
SELECT m.movement_id, m.batch_id, m.order_id, c.change_id AS quarantine_change_id
FROM Stock_Movements AS m
JOIN LATERAL (
    SELECT c.change_id, c.quarantined FROM Batch_Status_Changes AS c
    WHERE c.batch_id = m.batch_id AND c.ledger_position < m.movement_id
    ORDER BY c.change_id DESC LIMIT 1
) AS c ON c.quarantined
WHERE m.reason = 'sale'
ORDER BY m.movement_id;

-- name: recalled_batch_not_quarantined
-- Batches of an open recall that are not on hold: recalled stock could be sold.
SELECT r.recall_id, r.recall_no, b.batch_id, b.batch_no
FROM Open_Recall_Batches AS r
JOIN Inventory_Batches AS b USING (batch_id)
WHERE NOT b.quarantined
ORDER BY r.recall_id, b.batch_id;

-- name: recall_movement_outside_recall
-- Movements naming a recall (units returned or destroyed under it) of a batch that recall
-- does not cover.
SELECT m.movement_id, m.recall_id, m.batch_id, m.reason, m.quantity_delta
FROM Stock_Movements AS m
WHERE m.recall_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM Recall_Batches AS rb WHERE rb.recall_id = m.recall_id AND rb.batch_id = m.batch_id)
ORDER BY m.movement_id;

-- name: closed_recall_holding_stock
-- Closed recalls whose batches still hold units: recalled stock is destroyed before a
-- recall is closed.
SELECT r.recall_id, r.recall_no, b.batch_id, b.batch_no, b.quantity_on_hand
FROM Recalls AS r
JOIN Recall_Batches AS rb USING (recall_id)
JOIN Inventory_Batches AS b USING (batch_id)
WHERE r.status = 'closed' AND b.quantity_on_hand > 0
ORDER BY r.recall_id, b.batch_id;

-- name: recall_destroyed_beyond_held
-- Per recall and batch, units destroyed under the recall beyond what the batch held when it
-- was recalled plus every unit that came into it since (recall returns, cancelled orders'
-- units, ordinary returns): a unit destroyed that was never there.
WITH recalled AS (
    SELECT rb.recall_id, rb.batch_id, rb.on_hand_at_recall,
           (SELECT min(c.ledger_position) FROM Batch_Status_Changes AS c
            WHERE c.batch_id = rb.batch_id AND c.recall_id = rb.recall_id) AS since
    FROM Recall_Batches AS rb
)
SELECT r.recall_id, r.batch_id, r.on_hand_at_recall, coalesce(came.units, 0) AS came_in,
       coalesce(gone.units, 0) AS destroyed
FROM recalled AS r
LEFT JOIN LATERAL (
    SELECT sum(m.quantity_delta) AS units FROM Stock_Movements AS m
    WHERE m.batch_id = r.batch_id AND m.quantity_delta > 0 AND m.movement_id > coalesce(r.since, 0)
) AS came ON true
LEFT JOIN LATERAL (
    SELECT -sum(m.quantity_delta) AS units FROM Stock_Movements AS m
    WHERE m.batch_id = r.batch_id AND m.recall_id = r.recall_id AND m.reason = 'write_off'
) AS gone ON true
WHERE coalesce(gone.units, 0) > r.on_hand_at_recall + coalesce(came.units, 0)
ORDER BY 1, 2;

-- name: receipt_on_closed_po
-- Receipts naming a line of a draft or cancelled purchase order: goods taken in against an
-- order that was never sent, or was called off.
SELECT m.movement_id, m.po_line_id, l.po_id, o.status
FROM Stock_Movements AS m
JOIN Purchase_Order_Lines AS l ON l.po_line_id = m.po_line_id
JOIN Purchase_Orders AS o ON o.po_id = l.po_id
WHERE m.reason = 'receipt' AND o.status IN ('draft', 'cancelled')
ORDER BY m.movement_id;
