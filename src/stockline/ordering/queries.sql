-- Queries of ordering: carts, orders and their items.
-- "Sellable": stockline_sellable() in db/schema.sql; a SKU's available stock is the sum of
-- its sellable batches' stock.

-- name: cart_lines
-- A user's cart, each line priced for its own quantity by the one pricing function, with
-- the SKU's available stock. No rows: an empty (or never created) cart.
SELECT ci.sku_id, ci.quantity, s.sku_code, p.product_id, p.name AS product_name, p.manufacturer,
       s.package_size, s.unit_type, s.base_price, s.is_active AND p.is_active AS is_active,
       coalesce(stock.available, 0) AS available, stock.earliest_expiry,
       price.discount_percentage, price.unit_price, price.line_total, price.rule_id,
       price.next_tier_min_quantity, price.next_tier_discount
FROM Carts AS c
JOIN Cart_Items AS ci USING (cart_id)
JOIN Product_SKUs AS s USING (sku_id)
JOIN Products AS p USING (product_id)
LEFT JOIN LATERAL (
    SELECT sum(b.quantity_on_hand)::int AS available, min(b.expiry_date) AS earliest_expiry
    FROM Inventory_Batches AS b
    WHERE b.sku_id = s.sku_id AND stockline_sellable(b.quantity_on_hand, b.expiry_date, %(sellable_after)s, b.quarantined)
) AS stock ON true
CROSS JOIN LATERAL stockline_price(s.sku_id, %(customer_id)s, ci.quantity, %(today)s, s.base_price) AS price
WHERE c.user_id = %(user_id)s
ORDER BY ci.added_at, ci.sku_id;

-- name: ensure_cart
-- The user's cart, created on first use; race-free when two requests create it at once.
INSERT INTO Carts AS c (user_id) VALUES (%(user_id)s)
ON CONFLICT (user_id) DO UPDATE SET updated_at = now()
RETURNING c.cart_id;

-- name: set_cart_line
-- Sets a line's quantity (not adds to it: a repeated request changes nothing more).
INSERT INTO Cart_Items (cart_id, sku_id, quantity) VALUES (%(cart_id)s, %(sku_id)s, %(quantity)s)
ON CONFLICT (cart_id, sku_id) DO UPDATE SET quantity = EXCLUDED.quantity;

-- name: remove_cart_line
DELETE FROM Cart_Items AS ci
USING Carts AS c
WHERE ci.cart_id = c.cart_id AND c.user_id = %(user_id)s AND ci.sku_id = %(sku_id)s;

-- name: clear_cart
DELETE FROM Cart_Items AS ci
USING Carts AS c
WHERE ci.cart_id = c.cart_id AND c.user_id = %(user_id)s;

-- name: place_order
-- An order placed whole (stockline_place_order in db/schema.sql): %(skus)s and
-- %(quantities)s NULL check out the user's cart. Its outcome as JSON text, so the money in it
-- is read exactly (as Decimal).
SELECT stockline_place_order(%(user_id)s, %(customer_id)s, %(skus)s::int[], %(quantities)s::int[], %(key)s,
                             %(today)s, %(sellable_after)s)::text AS outcome;

-- name: place_batch_order
-- A direct order of one line from one batch (%(batch_id)s): stockline_place_order's 8-argument form.
SELECT stockline_place_order(%(user_id)s, %(customer_id)s, %(skus)s::int[], %(quantities)s::int[], %(key)s,
                             %(today)s, %(sellable_after)s, %(batch_id)s::int)::text AS outcome;

-- name: batch_sku
SELECT sku_id FROM Inventory_Batches WHERE batch_id = %(batch_id)s;

-- name: order_header
-- One order, if the caller may see it (%(customer_id)s NULL: staff, who see every order).
SELECT o.order_id, o.customer_id, c.name AS customer_name, o.user_id, u.username, o.order_date, o.status,
       o.total_amount, o.tax_amount, o.updated_at,
       (SELECT i.invoice_id FROM Invoices AS i WHERE i.order_id = o.order_id) AS invoice_id
FROM Orders AS o
JOIN Customers AS c USING (customer_id)
LEFT JOIN Users AS u ON u.user_id = o.user_id
WHERE o.order_id = %(order_id)s
  AND (%(customer_id)s::int IS NULL OR o.customer_id = %(customer_id)s::int);

-- name: order_items
-- An order's allocations with what recall tracing needs: product, package, batch and expiry,
-- and the recall of the batch if it was recalled (an open one first, else the latest).
SELECT oi.order_item_id, oi.sku_id, s.sku_code, p.name AS product_name, s.package_size, s.unit_type,
       oi.batch_id, b.batch_no, b.expiry_date, oi.quantity_ordered AS quantity, oi.base_price,
       oi.discount_percentage, oi.sale_price, oi.sale_price * oi.quantity_ordered AS line_total,
       oi.unit_cost, oi.pricing_rule_id, oi.tax_rate, oi.tax_amount,
       recall.recall_id, recall.recall_no, recall.recall_class, recall.reason AS recall_reason,
       recall.status AS recall_status
FROM Order_Items AS oi
JOIN Product_SKUs AS s USING (sku_id)
JOIN Products AS p USING (product_id)
JOIN Inventory_Batches AS b USING (batch_id)
LEFT JOIN LATERAL (
    SELECT r.recall_id, r.recall_no, r.recall_class, r.reason, r.status
    FROM Recall_Batches AS rb
    JOIN Recalls AS r USING (recall_id)
    WHERE rb.batch_id = oi.batch_id
    ORDER BY r.status = 'open' DESC, r.recall_id DESC
    LIMIT 1
) AS recall ON true
WHERE oi.order_id = %(order_id)s
ORDER BY oi.sku_id, b.expiry_date, oi.batch_id;

-- name: customer_orders_page
-- A customer's orders, newest first, with their line and unit counts; always one row with
-- the total (the page's columns NULL past the end).
WITH matching AS (
    SELECT order_id, order_date, status, total_amount, updated_at
    FROM Orders
    WHERE customer_id = %(customer_id)s
      AND (%(status)s::text IS NULL OR status = %(status)s::text)
)
SELECT (SELECT count(*) FROM matching)::int AS total_items, page.*
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (
    SELECT m.order_id, m.order_date, m.status, m.total_amount, m.updated_at, items.line_count, items.units,
           items.recalled
    FROM (SELECT * FROM matching ORDER BY order_date DESC, order_id DESC
          LIMIT %(limit)s OFFSET %(offset)s) AS m
    CROSS JOIN LATERAL (
        SELECT count(DISTINCT oi.sku_id)::int AS line_count, coalesce(sum(oi.quantity_ordered), 0)::int AS units,
               -- an item drawn from a recalled batch
               coalesce(bool_or(EXISTS (SELECT 1 FROM Recall_Batches AS rb WHERE rb.batch_id = oi.batch_id)),
                        false) AS recalled
        FROM Order_Items AS oi
        WHERE oi.order_id = m.order_id
    ) AS items
) AS page ON true
ORDER BY page.order_date DESC, page.order_id DESC;

-- name: lock_order
-- Locks an order whose status is about to change (customer-scoped when %(customer_id)s is set).
SELECT order_id, customer_id, status
FROM Orders
WHERE order_id = %(order_id)s
  AND (%(customer_id)s::int IS NULL OR customer_id = %(customer_id)s::int)
FOR UPDATE;

-- name: order_batches_on_hold
-- The batches an order about to ship was filled from, share-locked: a quarantine (an UPDATE of
-- the batch) waits for the shipment to commit, and a shipment waits for a quarantine in flight
-- and then reads the batch as it left it. So an order never ships units put on hold.
SELECT b.batch_id, b.batch_no, b.quarantined
FROM Inventory_Batches AS b
WHERE b.batch_id IN (SELECT oi.batch_id FROM Order_Items AS oi WHERE oi.order_id = %(order_id)s)
ORDER BY b.batch_id
FOR SHARE OF b;

-- name: set_order_status
UPDATE Orders SET status = %(status)s, updated_at = now() WHERE order_id = %(order_id)s;

-- name: admin_orders_page
-- Every customer's orders for staff, newest first, filtered by status, customer and order
-- date range, with the customer's name, totals, cost and profit; one row always.
WITH matching AS (
    SELECT o.order_id, o.customer_id, o.user_id, o.order_date, o.status, o.total_amount, o.updated_at
    FROM Orders AS o
    WHERE (%(status)s::text IS NULL OR o.status = %(status)s::text)
      AND (%(customer_id)s::int IS NULL OR o.customer_id = %(customer_id)s::int)
      AND (%(date_from)s::date IS NULL OR o.order_date >= (%(date_from)s::date)::timestamp AT TIME ZONE 'UTC')
      AND (%(date_to)s::date IS NULL
           OR o.order_date < (%(date_to)s::date + 1)::timestamp AT TIME ZONE 'UTC')
)
SELECT (SELECT count(*) FROM matching)::int AS total_items, page.*
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (
    SELECT m.*, c.name AS customer_name, u.username, items.line_count, items.units, items.cost
    FROM (SELECT * FROM matching ORDER BY order_date DESC, order_id DESC
          LIMIT %(limit)s OFFSET %(offset)s) AS m
    JOIN Customers AS c USING (customer_id)
    LEFT JOIN Users AS u ON u.user_id = m.user_id
    CROSS JOIN LATERAL (
        SELECT count(DISTINCT oi.sku_id)::int AS line_count, coalesce(sum(oi.quantity_ordered), 0)::int AS units,
               coalesce(sum(oi.unit_cost * oi.quantity_ordered), 0) AS cost
        FROM Order_Items AS oi
        WHERE oi.order_id = m.order_id
    ) AS items
) AS page ON true
ORDER BY page.order_date DESC, page.order_id DESC;

-- name: cart_additions
-- For adding units to a user's cart: each wanted SKU that exists, whether it is on sale, its
-- available stock and how many units the cart already holds of it (run after ensure_cart,
-- which locks the cart).
SELECT s.sku_id, s.sku_code, p.name AS product_name, s.is_active AND p.is_active AS is_active,
       coalesce(ci.quantity, 0) AS in_cart,
       coalesce((SELECT sum(b.quantity_on_hand)::int FROM Inventory_Batches AS b
                 WHERE b.sku_id = s.sku_id
                   AND stockline_sellable(b.quantity_on_hand, b.expiry_date, %(sellable_after)s, b.quarantined)), 0) AS available
FROM Product_SKUs AS s
JOIN Products AS p USING (product_id)
LEFT JOIN Cart_Items AS ci ON ci.cart_id = %(cart_id)s AND ci.sku_id = s.sku_id
WHERE s.sku_id = ANY(%(sku_ids)s::int[]);

-- name: set_cart_lines
-- Sets several lines' quantities at once (set_cart_line for many).
INSERT INTO Cart_Items (cart_id, sku_id, quantity)
SELECT %(cart_id)s, w.sku_id, w.quantity
FROM unnest(%(sku_ids)s::int[], %(quantities)s::int[]) AS w (sku_id, quantity)
ON CONFLICT (cart_id, sku_id) DO UPDATE SET quantity = EXCLUDED.quantity;

-- name: skus_by_code
-- SKUs whose code is one of %(codes)s, compared in lower case (quick order), on sale or not,
-- with their product's name and available stock.
SELECT s.sku_id, s.sku_code, lower(s.sku_code) AS code_key, p.name AS product_name, s.package_size,
       s.unit_type, s.is_active AND p.is_active AS is_active,
       coalesce((SELECT sum(b.quantity_on_hand)::int FROM Inventory_Batches AS b
                 WHERE b.sku_id = s.sku_id
                   AND stockline_sellable(b.quantity_on_hand, b.expiry_date, %(sellable_after)s, b.quarantined)), 0) AS available
FROM Product_SKUs AS s
JOIN Products AS p USING (product_id)
WHERE lower(s.sku_code) = ANY(%(codes)s::text[]);
