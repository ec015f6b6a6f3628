-- Queries of the scale-data generator. Rows themselves arrive by COPY.

-- name: reserve_sku_ids
-- Draws sku_ids from the identity sequence, so SKU codes can be derived from them in COPY.
SELECT nextval(pg_get_serial_sequence('product_skus', 'sku_id'))::int AS sku_id
FROM generate_series(1, %(count)s);

-- name: products_with_sku_counts
-- Every product with how many SKUs it has, so new SKUs continue each product's pack list.
SELECT p.product_id, p.name, count(s.sku_id)::int AS sku_count
FROM Products AS p
LEFT JOIN Product_SKUs AS s USING (product_id)
GROUP BY p.product_id
ORDER BY p.product_id;

-- name: reserve_batch_and_movement_ids
-- Draws ids for a chunk of batches and for their opening receipts from the identity
-- sequences, so rows keep the same ids whichever writer connection commits first.
SELECT ARRAY(SELECT nextval(pg_get_serial_sequence('inventory_batches', 'batch_id'))::int
             FROM generate_series(1, %(batches)s)) AS batch_ids,
       ARRAY(SELECT nextval(pg_get_serial_sequence('stock_movements', 'movement_id'))
             FROM generate_series(1, %(receipts)s)) AS movement_ids;

-- name: skus_for_batches
-- What a new batch needs to know about each SKU.
SELECT s.sku_id, s.base_price, p.name AS product_name
FROM Product_SKUs AS s
JOIN Products AS p USING (product_id)
ORDER BY s.sku_id;

-- name: create_batch_stage
-- Session-local staging table: COPY lands here, then moves with ON CONFLICT DO NOTHING.
CREATE TEMP TABLE IF NOT EXISTS seed_batch_stage (
    sku_id integer, batch_no text, expiry_date date, quantity_on_hand integer,
    cost_price numeric(12, 2), received_at timestamptz
) ON COMMIT DELETE ROWS;

-- name: move_staged_batches
-- New batches from the stage (duplicates of (sku_id, batch_no) skipped); their ids, for
-- their opening receipts in the ledger.
INSERT INTO Inventory_Batches (sku_id, batch_no, expiry_date, quantity_on_hand, cost_price, received_at)
SELECT sku_id, batch_no, expiry_date, quantity_on_hand, cost_price, received_at
FROM seed_batch_stage
ON CONFLICT (sku_id, batch_no) DO NOTHING
RETURNING batch_id;

-- name: reserve_order_ids
-- Draws order_ids from the identity sequence, so items and ledger rows can name their order.
SELECT nextval(pg_get_serial_sequence('orders', 'order_id')) AS order_id
FROM generate_series(1, %(count)s);

-- name: pricing_rule_keys
-- Existing rules' (sku_id, customer_id, min_quantity), so generated rules never duplicate one.
SELECT sku_id, customer_id, min_quantity FROM Pricing_Rules;

-- name: all_pricing_rules
SELECT rule_id, sku_id, customer_id, min_quantity, discount_percentage, valid_from, valid_to
FROM Pricing_Rules;

-- name: customers_with_login
-- Every customer with one of its users (NULL while it has none), for order history.
SELECT c.customer_id, min(u.user_id) AS user_id
FROM Customers AS c
LEFT JOIN Users AS u ON u.customer_id = c.customer_id AND u.role = 'customer'
GROUP BY c.customer_id
ORDER BY c.customer_id;

-- name: batches_with_stock
-- Stock that order history may draw from, in FEFO order per SKU.
SELECT b.batch_id, b.sku_id, b.expiry_date, b.quantity_on_hand, b.cost_price, b.received_at,
       s.base_price
FROM Inventory_Batches AS b
JOIN Product_SKUs AS s USING (sku_id)
WHERE b.quantity_on_hand > 0
ORDER BY b.sku_id, b.expiry_date, b.batch_id;

-- name: history_counts
SELECT (SELECT count(*) FROM Pricing_Rules)::int AS pricing_rules,
       (SELECT count(*) FROM Orders)::int AS orders;

-- name: all_sku_ids
SELECT sku_id FROM Product_SKUs ORDER BY sku_id;

-- name: all_customer_ids
SELECT customer_id FROM Customers ORDER BY customer_id;

-- name: demo_tax_class
-- One of the demo's tax classes with its rate since always (demo data only).
WITH class AS (
    INSERT INTO Tax_Classes (tax_class, name)
    SELECT %(tax_class)s, %(name)s WHERE NOT EXISTS (SELECT 1 FROM Tax_Classes WHERE tax_class = %(tax_class)s)
)
INSERT INTO Tax_Rates (tax_class, valid_from, rate) VALUES (%(tax_class)s, '-infinity', %(rate)s)
ON CONFLICT DO NOTHING;

-- name: demo_assign_tax_classes
-- Every SKU in a demo class: products of the %(standard_categories)s categories standard, the
-- rest (medicines) reduced.
UPDATE Product_SKUs AS s
SET tax_class = CASE WHEN p.category = ANY(%(standard_categories)s::text[]) THEN 'standard' ELSE 'reduced' END
FROM Products AS p
WHERE p.product_id = s.product_id;

-- name: demo_tax_order_items
-- The simulated order lines taxed as stockline_place_order() taxes a sale on the order's (UTC)
-- day: the SKU's class's rate of that day, stockline_line_tax per line.
UPDATE Order_Items AS oi
SET tax_rate = day_rate.rate,
    tax_amount = stockline_line_tax(oi.sale_price * oi.quantity_ordered, day_rate.rate)
FROM Orders AS o, Product_SKUs AS s,
     LATERAL (SELECT stockline_tax_rate(s.tax_class, (o.order_date AT TIME ZONE 'UTC')::date) AS rate) AS day_rate
WHERE o.order_id = oi.order_id AND s.sku_id = oi.sku_id;

-- name: demo_tax_orders
-- Each simulated order's tax: the sum of its lines'.
UPDATE Orders AS o SET tax_amount = t.tax
FROM (SELECT order_id, sum(tax_amount) AS tax FROM Order_Items GROUP BY order_id) AS t
WHERE t.order_id = o.order_id;

-- name: demo_shipped_orders
-- The simulated history's shipped orders, in the order they were placed, with the (UTC) day
-- each shipped: the day after it was placed, or today if that is still to come.
SELECT order_id, least((order_date AT TIME ZONE 'UTC')::date + 1, %(today)s::date) AS shipped_on
FROM Orders
WHERE status = 'shipped'
ORDER BY order_date, order_id;

-- name: demo_payments
-- Payments of the demo's invoices as a customer base pays: most in full a few days before
-- they fall due, every fifth in part, every seventh not at all (so some are overdue); only
-- invoices due by %(today)s + 10 days, each paid no later than %(today)s. Then each invoice's
-- amount_paid is the sum of its payments, as recording them would leave it.
WITH paid AS (
    INSERT INTO Payments (invoice_id, customer_id, amount, paid_on, reference)
    SELECT i.invoice_id, i.customer_id,
           CASE WHEN i.series_number %% 5 = 0 THEN round(i.gross_amount / 2, 2) ELSE i.gross_amount END,
           greatest(i.issued_on, least(i.due_on - (i.series_number %% 9), %(today)s::date)),
           'DEMO-' || i.invoice_no
    FROM Invoices AS i
    WHERE i.series_number %% 7 <> 0 AND i.due_on <= %(today)s::date + 10 AND i.gross_amount > 0
    RETURNING invoice_id, amount
)
UPDATE Invoices AS i SET amount_paid = i.amount_paid + paid.amount
FROM paid
WHERE paid.invoice_id = i.invoice_id;

-- name: demo_suppliers
-- The demo's suppliers (wholesalers), each with its lead time (demo data only).
INSERT INTO Suppliers (name, contact_name, email, phone, lead_time_days)
SELECT s.name, s.contact, s.email, s.phone, s.lead_time
FROM (VALUES ('Northbridge Pharma Wholesale', 'Ana Reyes', 'orders@northbridge.example', '+44 20 7946 0101', 3),
             ('Alpine Medical Supply', 'Jonas Weber', 'purchasing@alpine-medical.example', '+41 44 555 0102', 7),
             ('Coastal Generics Ltd', 'Priya Nair', 'sales@coastal-generics.example', '+44 161 496 0103', 5),
             ('Meridian Health Distribution', 'Tom Clarke', 'trade@meridian-health.example', '+44 113 496 0104', 10),
             ('Greenleaf Nutrition Trade', 'Sofia Rossi', 'b2b@greenleaf.example', '+39 02 5550 0105', 14))
     AS s (name, contact, email, phone, lead_time)
WHERE NOT EXISTS (SELECT 1 FROM Suppliers AS x WHERE lower(x.name) = lower(s.name));

-- name: demo_supplier_skus
-- Every SKU supplied by two of the demo's suppliers, the first preferred: at its average batch
-- cost, and 4 percent more from the second.
WITH suppliers AS (
    SELECT supplier_id, row_number() OVER (ORDER BY supplier_id) - 1 AS n, count(*) OVER () AS total
    FROM Suppliers
), skus AS (
    SELECT s.sku_id, coalesce((SELECT round(avg(b.cost_price), 2) FROM Inventory_Batches AS b
                               WHERE b.sku_id = s.sku_id), round(s.base_price * 0.6, 2)) AS cost
    FROM Product_SKUs AS s
)
INSERT INTO Supplier_SKUs (supplier_id, sku_id, unit_cost, supplier_sku_code, is_preferred)
SELECT sup.supplier_id, k.sku_id, CASE WHEN pick.rank = 0 THEN k.cost ELSE round(k.cost * 1.04, 2) END,
       'S' || sup.supplier_id || '-' || lpad(k.sku_id::text, 6, '0'), pick.rank = 0
FROM skus AS k
CROSS JOIN (VALUES (0), (1)) AS pick (rank)
JOIN suppliers AS sup ON sup.n = mod(k.sku_id + pick.rank * 2, sup.total)
ON CONFLICT DO NOTHING;

-- name: demo_purchase_orders
-- Two purchase orders of the demo, from the preferred supplier of the SKUs lowest on stock:
-- one sent three days ago (due by its lead time), one still a draft.
WITH low AS (
    SELECT s.sku_id, ss.supplier_id, ss.unit_cost, greatest(s.reorder_level * 3, 20) AS quantity,
           row_number() OVER (ORDER BY coalesce(sum(b.quantity_on_hand), 0), s.sku_id) AS rank
    FROM Product_SKUs AS s
    JOIN Supplier_SKUs AS ss ON ss.sku_id = s.sku_id AND ss.is_preferred
    LEFT JOIN Inventory_Batches AS b ON b.sku_id = s.sku_id
    GROUP BY s.sku_id, ss.supplier_id, ss.unit_cost, s.reorder_level
), chosen AS (
    -- the supplier of the lowest SKU gets the sent order, the next supplier the draft
    SELECT supplier_id, row_number() OVER (ORDER BY min(rank)) AS n FROM low GROUP BY supplier_id
), orders AS (
    INSERT INTO Purchase_Orders (supplier_id, status, note, sent_at, expected_on, created_by)
    SELECT c.supplier_id, CASE c.n WHEN 1 THEN 'sent' ELSE 'draft' END, 'demo: restocking the lowest SKUs',
           CASE c.n WHEN 1 THEN now() - interval '3 days' END,
           CASE c.n WHEN 1 THEN %(today)s::date - 3 + sup.lead_time_days END, %(user_id)s
    FROM chosen AS c JOIN Suppliers AS sup USING (supplier_id)
    WHERE c.n <= 2
    RETURNING po_id, supplier_id
)
INSERT INTO Purchase_Order_Lines (po_id, sku_id, quantity_ordered, unit_cost)
SELECT o.po_id, l.sku_id, l.quantity, l.unit_cost
FROM orders AS o
JOIN LATERAL (SELECT * FROM low WHERE low.supplier_id = o.supplier_id ORDER BY rank LIMIT 6) AS l ON true;
