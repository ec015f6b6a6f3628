-- Queries of billing: issuing invoices, reading them, payments and balances.

-- name: issue_invoice
-- The invoice of a shipped order (its row locked by the caller), numbered in the year of its
-- issue day, due the customer's payment terms later; seller, buyer and every line copied
-- onto it. Its lines are the order's items in the order an order shows them.
WITH numbered AS (
    SELECT * FROM stockline_take_document_number('INV', %(issued_on)s::date)
), invoice AS (
    INSERT INTO Invoices (invoice_no, series_year, series_number, order_id, customer_id, issued_on, due_on,
                          seller, buyer, net_amount, tax_amount, gross_amount)
    SELECT n.document_no, n.year, n.number, o.order_id, o.customer_id,
           %(issued_on)s::date, %(issued_on)s::date + c.payment_terms_days, %(seller)s::jsonb,
           jsonb_build_object('customer_id', c.customer_id, 'name', c.name, 'address', c.address,
                              'email', c.email, 'tax_id', c.tax_id),
           o.total_amount, o.tax_amount, o.total_amount + o.tax_amount
    FROM numbered AS n, Orders AS o
    JOIN Customers AS c USING (customer_id)
    WHERE o.order_id = %(order_id)s
    RETURNING invoice_id, invoice_no
), lines AS (
    INSERT INTO Invoice_Lines (invoice_id, line_no, order_item_id, sku_code, description, batch_no, expiry_date,
                               quantity, unit_price, net_amount, tax_rate, tax_amount)
    SELECT invoice.invoice_id,
           row_number() OVER (ORDER BY oi.sku_id, b.expiry_date, oi.batch_id),
           oi.order_item_id, s.sku_code,
           p.name || ' ' || s.package_size || ' ' || s.unit_type, b.batch_no, b.expiry_date,
           oi.quantity_ordered, oi.sale_price, oi.sale_price * oi.quantity_ordered, oi.tax_rate, oi.tax_amount
    FROM invoice, Order_Items AS oi
    JOIN Product_SKUs AS s USING (sku_id)
    JOIN Products AS p USING (product_id)
    JOIN Inventory_Batches AS b USING (batch_id)
    WHERE oi.order_id = %(order_id)s
)
SELECT invoice_id, invoice_no FROM invoice;

-- name: invoices_page
-- Invoices newest first, with their balance and status on %(today)s, filtered by customer
-- (a customer's own, or staff's filter), status, issue days and number; always one row with
-- the total (the page's columns NULL past the end). %(limit)s NULL: every row (a CSV export).
WITH matching AS (
    SELECT i.invoice_id, i.invoice_no, i.order_id, i.customer_id, i.buyer ->> 'name' AS customer_name,
           i.issued_on, i.due_on, i.net_amount, i.tax_amount, i.gross_amount, i.amount_paid, i.amount_credited,
           i.gross_amount - i.amount_paid - i.amount_credited AS balance,
           stockline_invoice_status(i.gross_amount, i.amount_paid, i.amount_credited, i.due_on,
                                    %(today)s::date) AS status
    FROM Invoices AS i
    WHERE (%(customer_id)s::int IS NULL OR i.customer_id = %(customer_id)s::int)
      AND (%(date_from)s::date IS NULL OR i.issued_on >= %(date_from)s::date)
      AND (%(date_to)s::date IS NULL OR i.issued_on <= %(date_to)s::date)
      AND (%(pattern)s::text IS NULL OR i.invoice_no ILIKE %(pattern)s::text)
), chosen AS (
    SELECT * FROM matching WHERE %(status)s::text IS NULL OR status = %(status)s::text
)
SELECT (SELECT count(*) FROM chosen)::int AS total_items, page.*
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (
    SELECT * FROM chosen ORDER BY issued_on DESC, invoice_id DESC
    LIMIT %(limit)s OFFSET %(offset)s
) AS page ON true
ORDER BY page.issued_on DESC, page.invoice_id DESC;

-- name: invoice_header
-- One invoice with its balance and status on %(today)s, if the caller may see it
-- (%(customer_id)s NULL: staff, who see every invoice).
SELECT i.invoice_id, i.invoice_no, i.order_id, i.customer_id, i.buyer ->> 'name' AS customer_name,
       i.issued_on, i.due_on, i.seller, i.buyer, i.net_amount, i.tax_amount, i.gross_amount,
       i.amount_paid, i.amount_credited, i.gross_amount - i.amount_paid - i.amount_credited AS balance,
       stockline_invoice_status(i.gross_amount, i.amount_paid, i.amount_credited, i.due_on,
                                %(today)s::date) AS status
FROM Invoices AS i
WHERE i.invoice_id = %(invoice_id)s
  AND (%(customer_id)s::int IS NULL OR i.customer_id = %(customer_id)s::int);

-- name: invoice_lines
-- An invoice's lines as issued, in their printed order.
SELECT line_no, sku_code, description, batch_no, expiry_date, quantity, unit_price, net_amount, tax_rate,
       tax_amount
FROM Invoice_Lines
WHERE invoice_id = %(invoice_id)s
ORDER BY line_no;

-- name: invoice_payments
-- The payments against an invoice, in the order they arrived, with who recorded each.
SELECT p.payment_id, p.amount, p.paid_on, p.reference, p.recorded_at, u.username AS recorded_by
FROM Payments AS p
LEFT JOIN Users AS u ON u.user_id = p.recorded_by
WHERE p.invoice_id = %(invoice_id)s
ORDER BY p.paid_on, p.payment_id;

-- name: invoice_credit_notes
-- The credit notes issued against an invoice (approved returns of its order).
SELECT credit_note_id, credit_note_no, issued_on, return_id, net_amount, tax_amount, gross_amount
FROM Credit_Notes
WHERE invoice_id = %(invoice_id)s
ORDER BY issued_on, credit_note_id;

-- name: lock_invoice
-- Locks an invoice whose paid amount is about to change: payments on it queue here, so
-- each adds to what the one before left.
SELECT invoice_id, invoice_no, customer_id, issued_on, gross_amount, amount_paid, amount_credited
FROM Invoices
WHERE invoice_id = %(invoice_id)s
FOR NO KEY UPDATE;

-- name: insert_payment
-- A payment, unless this invoice already has one with the same bank reference (no row then).
INSERT INTO Payments (invoice_id, customer_id, amount, paid_on, reference, recorded_by)
VALUES (%(invoice_id)s, %(customer_id)s, %(amount)s, %(paid_on)s, %(reference)s, %(recorded_by)s)
ON CONFLICT ON CONSTRAINT payments_reference_key DO NOTHING
RETURNING payment_id, amount, paid_on, reference;

-- name: payment_by_reference
-- The payment an invoice already has under a bank reference.
SELECT p.payment_id, p.amount, p.paid_on, p.reference, p.recorded_at, u.username AS recorded_by
FROM Payments AS p
LEFT JOIN Users AS u ON u.user_id = p.recorded_by
WHERE p.invoice_id = %(invoice_id)s AND p.reference = %(reference)s;

-- name: add_to_amount_paid
-- What a payment adds to its invoice (the only columns of an issued invoice that move).
UPDATE Invoices SET amount_paid = amount_paid + %(amount)s
WHERE invoice_id = %(invoice_id)s
RETURNING amount_paid;
