-- Queries of returns and credit notes.
-- "Already returned" units of an order item are those of its returns that are requested or
-- approved: a rejected return frees its units.

-- name: lock_order_for_return
-- The order a return is asked for, locked so that two requests for the same units run one
-- after the other (customer-scoped when customer_id is set), with its invoice if it has one.
SELECT o.order_id, o.customer_id, o.status,
       (SELECT i.invoice_id FROM Invoices AS i WHERE i.order_id = o.order_id) AS invoice_id
FROM Orders AS o
WHERE o.order_id = %(order_id)s
  AND (%(customer_id)s::int IS NULL OR o.customer_id = %(customer_id)s::int)
FOR UPDATE OF o;

-- name: order_for_return
-- lock_order_for_return without the lock, for showing what may be returned.
SELECT o.order_id, o.customer_id, o.status,
       (SELECT i.invoice_id FROM Invoices AS i WHERE i.order_id = o.order_id) AS invoice_id
FROM Orders AS o
WHERE o.order_id = %(order_id)s
  AND (%(customer_id)s::int IS NULL OR o.customer_id = %(customer_id)s::int);

-- name: returnable_items
-- Every item (one per batch drawn from) of an order: what was delivered, what is already
-- asked back or taken back, and what it is.
SELECT oi.order_item_id, oi.sku_id, s.sku_code, p.name AS product_name, s.package_size, s.unit_type,
       oi.batch_id, b.batch_no, b.expiry_date, oi.quantity_ordered AS delivered, oi.sale_price,
       coalesce(taken.units, 0)::int AS already_returned
FROM Order_Items AS oi
JOIN Product_SKUs AS s USING (sku_id)
JOIN Products AS p USING (product_id)
JOIN Inventory_Batches AS b USING (batch_id)
LEFT JOIN LATERAL (
    SELECT sum(rl.quantity) AS units
    FROM Return_Lines AS rl
    JOIN Returns AS r USING (return_id)
    WHERE rl.order_item_id = oi.order_item_id AND r.status <> 'rejected'
) AS taken ON true
WHERE oi.order_id = %(order_id)s
ORDER BY oi.sku_id, b.expiry_date, oi.batch_id;

-- name: insert_return
-- A requested return and its lines, in one statement.
WITH created AS (
    INSERT INTO Returns (order_id, customer_id, requested_by, request_note)
    VALUES (%(order_id)s, %(customer_id)s, %(user_id)s, %(note)s)
    RETURNING return_id
), lines AS (
    INSERT INTO Return_Lines (return_id, order_item_id, quantity, reason)
    SELECT created.return_id, l.order_item_id, l.quantity, l.reason
    FROM created, unnest(%(order_item_ids)s::bigint[], %(quantities)s::int[], %(reasons)s::text[])
                  AS l (order_item_id, quantity, reason)
)
SELECT return_id FROM created;

-- name: return_header
-- One return, if the caller may see it (customer_id NULL: staff), with who asked and who
-- decided, the invoice of its order, and the credit note its approval issued.
SELECT r.return_id, r.order_id, r.customer_id, c.name AS customer_name, r.status, r.recall_id, r.requested_at,
       r.request_note, r.decided_at, r.decision_note, requester.username AS requested_by,
       decider.username AS decided_by, cn.credit_note_id, cn.credit_note_no, cn.gross_amount AS credit_gross,
       i.invoice_id, i.invoice_no
FROM Returns AS r
JOIN Customers AS c USING (customer_id)
LEFT JOIN Invoices AS i ON i.order_id = r.order_id
LEFT JOIN Users AS requester ON requester.user_id = r.requested_by
LEFT JOIN Users AS decider ON decider.user_id = r.decided_by
LEFT JOIN Credit_Notes AS cn ON cn.return_id = r.return_id
WHERE r.return_id = %(return_id)s
  AND (%(customer_id)s::int IS NULL OR r.customer_id = %(customer_id)s::int);

-- name: return_lines
-- A return's lines with the item each sends back (product, batch, the net price it sold at).
SELECT rl.order_item_id, oi.sku_id, s.sku_code, p.name AS product_name, s.package_size, s.unit_type,
       oi.batch_id, b.batch_no, b.expiry_date, rl.quantity, rl.reason, rl.disposition,
       oi.sale_price AS unit_price, oi.sale_price * rl.quantity AS net_amount
FROM Return_Lines AS rl
JOIN Order_Items AS oi USING (order_item_id)
JOIN Product_SKUs AS s ON s.sku_id = oi.sku_id
JOIN Products AS p USING (product_id)
JOIN Inventory_Batches AS b ON b.batch_id = oi.batch_id
WHERE rl.return_id = %(return_id)s
ORDER BY oi.sku_id, b.expiry_date, oi.batch_id;

-- name: returns_page
-- Returns, filtered by status, customer and order: requested ones first (the work to do),
-- then newest first; always one row with the total (the page's columns NULL past the end).
WITH matching AS (
    SELECT r.return_id, r.order_id, r.customer_id, r.status, r.requested_at, r.decided_at
    FROM Returns AS r
    WHERE (%(status)s::text IS NULL OR r.status = %(status)s::text)
      AND (%(customer_id)s::int IS NULL OR r.customer_id = %(customer_id)s::int)
      AND (%(order_id)s::bigint IS NULL OR r.order_id = %(order_id)s::bigint)
)
SELECT (SELECT count(*) FROM matching)::int AS total_items, page.*
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (
    SELECT m.*, c.name AS customer_name, lines.line_count, lines.units,
           cn.credit_note_id, cn.credit_note_no, cn.gross_amount AS credit_gross
    FROM (SELECT * FROM matching
          ORDER BY status = 'requested' DESC, return_id DESC
          LIMIT %(limit)s OFFSET %(offset)s) AS m
    JOIN Customers AS c USING (customer_id)
    CROSS JOIN LATERAL (
        SELECT count(*)::int AS line_count, coalesce(sum(rl.quantity), 0)::int AS units
        FROM Return_Lines AS rl
        WHERE rl.return_id = m.return_id
    ) AS lines
    LEFT JOIN Credit_Notes AS cn ON cn.return_id = m.return_id
) AS page ON true
ORDER BY page.status = 'requested' DESC, page.return_id DESC;

-- name: lock_return
-- A return about to be decided, locked (two decisions at once: the second waits, then sees
-- the first), with its order's invoice.
SELECT r.return_id, r.order_id, r.customer_id, r.status,
       (SELECT i.invoice_id FROM Invoices AS i WHERE i.order_id = r.order_id) AS invoice_id
FROM Returns AS r
WHERE r.return_id = %(return_id)s
FOR UPDATE OF r;

-- name: lock_returned_order
-- The returned order, locked after its return: approvals of the order's returns run one after
-- the other, so each sees what the ones before credited (the last unit's tax is the rest).
SELECT order_id FROM Orders WHERE order_id = %(order_id)s FOR NO KEY UPDATE;

-- name: approval_lines
-- What approving a return credits, per line: the item sold (its batch, net unit price, rate
-- and tax), the units and tax credit notes already gave back for it, and the invoice line it
-- was billed on (NULL if none).
SELECT rl.order_item_id, rl.quantity, oi.sku_id, oi.batch_id, oi.quantity_ordered, oi.sale_price,
       oi.tax_rate, oi.tax_amount AS item_tax,
       coalesce(credited.units, 0)::int AS credited_units, coalesce(credited.tax, 0) AS credited_tax,
       il.line_no AS invoice_line_no
FROM Return_Lines AS rl
JOIN Order_Items AS oi USING (order_item_id)
JOIN Inventory_Batches AS b ON b.batch_id = oi.batch_id
LEFT JOIN Invoice_Lines AS il ON il.invoice_id = %(invoice_id)s AND il.order_item_id = rl.order_item_id
LEFT JOIN LATERAL (
    SELECT sum(cl.quantity) AS units, sum(cl.tax_amount) AS tax
    FROM Credit_Note_Lines AS cl
    WHERE cl.order_item_id = rl.order_item_id
) AS credited ON true
WHERE rl.return_id = %(return_id)s
ORDER BY oi.sku_id, b.expiry_date, oi.batch_id;

-- name: approve_return
-- Each line's disposition set, and the return approved.
WITH dispositions AS (
    UPDATE Return_Lines AS rl
    SET disposition = d.disposition
    FROM unnest(%(order_item_ids)s::bigint[], %(dispositions)s::text[]) AS d (order_item_id, disposition)
    WHERE rl.return_id = %(return_id)s AND rl.order_item_id = d.order_item_id
)
UPDATE Returns
SET status = 'approved', decided_by = %(user_id)s, decided_at = now(), decision_note = %(note)s
WHERE return_id = %(return_id)s;

-- name: reject_return
UPDATE Returns
SET status = 'rejected', decided_by = %(user_id)s, decided_at = now(), decision_note = %(note)s
WHERE return_id = %(return_id)s;

-- name: issue_credit_note
-- The credit note of an approved return: numbered in the CN series of its issue day's year,
-- against the order's invoice, seller and buyer copied onto it, its lines as given (quantity,
-- unit price, net, rate and tax, computed by the caller) with what the invoice line said of
-- the item; totals are the sums of the lines. The invoice's amount_credited rises by its gross.
WITH numbered AS (
    SELECT * FROM stockline_take_document_number('CN', %(issued_on)s::date)
), given AS (
    SELECT g.order_item_id, g.quantity, g.unit_price, g.net_amount, g.tax_rate, g.tax_amount, g.line_no::int
    FROM unnest(%(order_item_ids)s::bigint[], %(quantities)s::int[], %(unit_prices)s::numeric[],
                %(net_amounts)s::numeric[], %(tax_rates)s::numeric[], %(tax_amounts)s::numeric[])
         WITH ORDINALITY AS g (order_item_id, quantity, unit_price, net_amount, tax_rate, tax_amount, line_no)
), note AS (
    INSERT INTO Credit_Notes (credit_note_no, series_year, series_number, invoice_id, return_id, customer_id,
                              issued_on, seller, buyer, net_amount, tax_amount, gross_amount)
    SELECT n.document_no, n.year, n.number, i.invoice_id,
           %(return_id)s, i.customer_id, %(issued_on)s::date, %(seller)s::jsonb,
           jsonb_build_object('customer_id', c.customer_id, 'name', c.name, 'address', c.address,
                              'email', c.email, 'tax_id', c.tax_id),
           totals.net, totals.tax, totals.net + totals.tax
    FROM numbered AS n,
         (SELECT sum(net_amount) AS net, sum(tax_amount) AS tax FROM given) AS totals,
         Invoices AS i
    JOIN Customers AS c USING (customer_id)
    WHERE i.invoice_id = %(invoice_id)s
    RETURNING credit_note_id, credit_note_no, invoice_id, gross_amount
), lines AS (
    INSERT INTO Credit_Note_Lines (credit_note_id, line_no, order_item_id, sku_code, description, batch_no,
                                   expiry_date, quantity, unit_price, net_amount, tax_rate, tax_amount)
    SELECT note.credit_note_id, g.line_no, g.order_item_id, il.sku_code, il.description, il.batch_no,
           il.expiry_date, g.quantity, g.unit_price, g.net_amount, g.tax_rate, g.tax_amount
    FROM note, given AS g
    JOIN Invoice_Lines AS il ON il.invoice_id = %(invoice_id)s AND il.order_item_id = g.order_item_id
), credited AS (
    UPDATE Invoices AS i
    SET amount_credited = i.amount_credited + note.gross_amount
    FROM note
    WHERE i.invoice_id = note.invoice_id
)
SELECT credit_note_id, credit_note_no, gross_amount FROM note;

-- name: credit_note_header
-- One credit note, if the caller may see it (customer_id NULL: staff), with the invoice it
-- credits and the return and order it comes from.
SELECT cn.credit_note_id, cn.credit_note_no, cn.issued_on, cn.customer_id, cn.invoice_id, i.invoice_no,
       cn.return_id, r.order_id, cn.seller, cn.buyer, cn.net_amount, cn.tax_amount, cn.gross_amount,
       cn.created_at
FROM Credit_Notes AS cn
JOIN Invoices AS i USING (invoice_id)
JOIN Returns AS r ON r.return_id = cn.return_id
WHERE cn.credit_note_id = %(credit_note_id)s
  AND (%(customer_id)s::int IS NULL OR cn.customer_id = %(customer_id)s::int);

-- name: credit_note_lines
SELECT line_no, order_item_id, sku_code, description, batch_no, expiry_date, quantity, unit_price,
       net_amount, tax_rate, tax_amount
FROM Credit_Note_Lines
WHERE credit_note_id = %(credit_note_id)s
ORDER BY line_no;

-- name: credit_notes_page
-- Credit notes, newest first, filtered by customer and issue day (both days included);
-- limit NULL: every one (the CSV). Always one row with the total.
WITH matching AS (
    SELECT cn.credit_note_id, cn.credit_note_no, cn.issued_on, cn.customer_id, cn.invoice_id, cn.return_id,
           cn.net_amount, cn.tax_amount, cn.gross_amount
    FROM Credit_Notes AS cn
    WHERE (%(customer_id)s::int IS NULL OR cn.customer_id = %(customer_id)s::int)
      AND (%(date_from)s::date IS NULL OR cn.issued_on >= %(date_from)s::date)
      AND (%(date_to)s::date IS NULL OR cn.issued_on <= %(date_to)s::date)
)
SELECT (SELECT count(*) FROM matching)::int AS total_items, page.*
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (
    SELECT m.*, c.name AS customer_name, i.invoice_no, r.order_id
    FROM (SELECT * FROM matching ORDER BY issued_on DESC, credit_note_id DESC
          LIMIT %(limit)s OFFSET %(offset)s) AS m
    JOIN Customers AS c USING (customer_id)
    JOIN Invoices AS i USING (invoice_id)
    JOIN Returns AS r USING (return_id)
) AS page ON true
ORDER BY page.issued_on DESC, page.credit_note_id DESC;

-- name: recall_returnable_items
-- returnable_items for a recall return: each item of the order, what was delivered and is
-- already asked back or taken back, and whether its batch is one of the recall's.
SELECT oi.order_item_id, oi.sku_id, oi.batch_id, oi.quantity_ordered AS delivered,
       coalesce(taken.units, 0)::int AS already_returned,
       EXISTS (SELECT 1 FROM Recall_Batches AS rb
               WHERE rb.recall_id = %(recall_id)s AND rb.batch_id = oi.batch_id) AS recalled
FROM Order_Items AS oi
LEFT JOIN LATERAL (
    SELECT sum(rl.quantity) AS units
    FROM Return_Lines AS rl
    JOIN Returns AS r USING (return_id)
    WHERE rl.order_item_id = oi.order_item_id AND r.status <> 'rejected'
) AS taken ON true
WHERE oi.order_id = %(order_id)s;

-- name: insert_recall_return
-- A return under a recall, approved as it is recorded (the goods are in the warehouse): its
-- lines' reason and disposition are 'recall'.
WITH created AS (
    INSERT INTO Returns (order_id, customer_id, status, requested_by, request_note, decided_by, decided_at,
                         decision_note, recall_id)
    VALUES (%(order_id)s, %(customer_id)s, 'approved', %(user_id)s, %(note)s, %(user_id)s, now(), %(note)s,
            %(recall_id)s)
    RETURNING return_id
), lines AS (
    INSERT INTO Return_Lines (return_id, order_item_id, quantity, reason, disposition)
    SELECT created.return_id, l.order_item_id, l.quantity, 'recall', 'recall'
    FROM created, unnest(%(order_item_ids)s::bigint[], %(quantities)s::int[]) AS l (order_item_id, quantity)
)
SELECT return_id FROM created;
