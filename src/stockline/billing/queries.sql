-- Queries of billing: issuing invoices, reading them, payments and balances.

-- name: issue_invoice
-- The invoice of a shipped order (its row locked by the caller), numbered in the year of its
-- issue day, due the customer's payment terms later; seller, buyer and every line copied
-- onto it. Its lines are the order's items in the order an order shows them.
WITH numbered AS (
    SELECT extract(year FROM %(issued_on)s::date)::int AS year,
           stockline_next_document_number('INV', extract(year FROM %(issued_on)s::date)::int) AS number
), invoice AS (
    INSERT INTO Invoices (invoice_no, series_year, series_number, order_id, customer_id, issued_on, due_on,
                          seller, buyer, net_amount, tax_amount, gross_amount)
    SELECT 'INV-' || n.year || '-' || lpad(n.number::text, 6, '0'), n.year, n.number, o.order_id, o.customer_id,
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
