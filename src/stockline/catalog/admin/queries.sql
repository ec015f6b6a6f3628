-- Queries of catalog management (products and SKUs, for the back office). Partial updates
-- change only the columns named in %(fields)s. Writes return what the audit log records of
-- the row, as it became.

-- name: products_page
-- Products with their SKU counts, filtered; one row always (the total; page columns NULL past the end).
WITH matching AS (
    SELECT p.*
    FROM Products AS p
    WHERE (%(active)s::boolean IS NULL OR p.is_active = %(active)s::boolean)
      AND (cardinality(%(patterns)s::text[]) = 0 OR NOT EXISTS (
          SELECT 1 FROM unnest(%(patterns)s::text[]) AS t (pattern)
          WHERE (p.name ILIKE t.pattern OR p.manufacturer ILIKE t.pattern OR p.category ILIKE t.pattern) IS NOT TRUE))
)
SELECT (SELECT count(*) FROM matching)::int AS total_items, page.*
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (
    SELECT m.product_id, m.name, m.manufacturer, m.description, m.category, m.is_active, m.created_at,
           (SELECT count(*) FROM Product_SKUs AS s WHERE s.product_id = m.product_id)::int AS sku_count
    FROM (SELECT * FROM matching ORDER BY lower(name), product_id LIMIT %(limit)s OFFSET %(offset)s) AS m
) AS page ON true
ORDER BY lower(page.name), page.product_id;

-- name: product
SELECT product_id, name, manufacturer, description, category, is_active, created_at,
       (SELECT count(*) FROM Product_SKUs AS s WHERE s.product_id = p.product_id)::int AS sku_count
FROM Products AS p
WHERE product_id = %(product_id)s;

-- name: insert_product
INSERT INTO Products (name, manufacturer, description, category)
VALUES (%(name)s, %(manufacturer)s, %(description)s, %(category)s)
RETURNING product_id, name, manufacturer, description, category, is_active;

-- name: lock_product
-- A product about to be edited, locked, as the audit log records it.
SELECT product_id, name, manufacturer, description, category, is_active
FROM Products
WHERE product_id = %(product_id)s
FOR UPDATE;

-- name: update_product
UPDATE Products
SET name = CASE WHEN 'name' = ANY(%(fields)s::text[]) THEN %(name)s ELSE name END,
    manufacturer = CASE WHEN 'manufacturer' = ANY(%(fields)s::text[]) THEN %(manufacturer)s ELSE manufacturer END,
    description = CASE WHEN 'description' = ANY(%(fields)s::text[]) THEN %(description)s ELSE description END,
    category = CASE WHEN 'category' = ANY(%(fields)s::text[]) THEN %(category)s ELSE category END,
    is_active = CASE WHEN 'is_active' = ANY(%(fields)s::text[]) THEN %(is_active)s ELSE is_active END
WHERE product_id = %(product_id)s
RETURNING product_id, name, manufacturer, description, category, is_active;

-- name: delete_product
DELETE FROM Products WHERE product_id = %(product_id)s
RETURNING product_id, name, manufacturer, description, category, is_active;

-- name: skus_page
-- SKUs with their product, sellable stock, low-stock flag and tax class (with its rate in
-- force today), filtered; one row always.
WITH matching AS (
    SELECT s.*, p.name AS product_name, p.manufacturer, p.is_active AS product_active
    FROM Product_SKUs AS s
    JOIN Products AS p USING (product_id)
    WHERE (%(product_id)s::int IS NULL OR s.product_id = %(product_id)s::int)
      AND (%(active)s::boolean IS NULL OR s.is_active = %(active)s::boolean)
      AND (cardinality(%(patterns)s::text[]) = 0 OR NOT EXISTS (
          SELECT 1 FROM unnest(%(patterns)s::text[]) AS t (pattern)
          WHERE (p.name ILIKE t.pattern OR p.manufacturer ILIKE t.pattern OR s.sku_code ILIKE t.pattern
                     OR s.package_size ILIKE t.pattern OR s.unit_type ILIKE t.pattern) IS NOT TRUE))
)
SELECT (SELECT count(*) FROM matching)::int AS total_items, page.*
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (
    SELECT m.*, coalesce(stock.available, 0) AS available,
           stockline_low_stock(m.is_active AND m.product_active, coalesce(stock.available, 0),
                               m.reorder_level) AS low_stock,
           t.name AS tax_class_name, stockline_tax_rate(m.tax_class, %(today)s::date) AS tax_rate
    FROM (SELECT * FROM matching ORDER BY lower(product_name), product_id, sku_id
          LIMIT %(limit)s OFFSET %(offset)s) AS m
    JOIN Tax_Classes AS t USING (tax_class)
    LEFT JOIN LATERAL (
        SELECT sum(b.quantity_on_hand)::int AS available
        FROM Inventory_Batches AS b
        WHERE b.sku_id = m.sku_id AND stockline_sellable(b.quantity_on_hand, b.expiry_date, %(sellable_after)s, b.quarantined)
    ) AS stock ON true
) AS page ON true
ORDER BY lower(page.product_name), page.product_id, page.sku_id;

-- name: sku
SELECT s.*, p.name AS product_name, p.manufacturer, p.is_active AS product_active,
       coalesce((SELECT sum(b.quantity_on_hand)::int FROM Inventory_Batches AS b
                 WHERE b.sku_id = s.sku_id
                   AND stockline_sellable(b.quantity_on_hand, b.expiry_date, %(sellable_after)s, b.quarantined)), 0) AS available,
       t.name AS tax_class_name, stockline_tax_rate(s.tax_class, %(today)s::date) AS tax_rate
FROM Product_SKUs AS s
JOIN Products AS p USING (product_id)
JOIN Tax_Classes AS t USING (tax_class)
WHERE s.sku_id = %(sku_id)s;

-- name: insert_sku
INSERT INTO Product_SKUs (product_id, sku_code, package_size, unit_type, base_price, reorder_level, tax_class)
VALUES (%(product_id)s, %(sku_code)s, %(package_size)s, %(unit_type)s, %(base_price)s, %(reorder_level)s,
        %(tax_class)s)
RETURNING sku_id, product_id, sku_code, package_size, unit_type, base_price, reorder_level, is_active, tax_class;

-- name: lock_sku
-- A SKU about to be edited, locked, as the audit log records it.
SELECT sku_id, product_id, sku_code, package_size, unit_type, base_price, reorder_level, is_active, tax_class
FROM Product_SKUs
WHERE sku_id = %(sku_id)s
FOR UPDATE;

-- name: update_sku
UPDATE Product_SKUs
SET sku_code = CASE WHEN 'sku_code' = ANY(%(fields)s::text[]) THEN %(sku_code)s ELSE sku_code END,
    package_size = CASE WHEN 'package_size' = ANY(%(fields)s::text[]) THEN %(package_size)s ELSE package_size END,
    unit_type = CASE WHEN 'unit_type' = ANY(%(fields)s::text[]) THEN %(unit_type)s ELSE unit_type END,
    base_price = CASE WHEN 'base_price' = ANY(%(fields)s::text[]) THEN %(base_price)s ELSE base_price END,
    reorder_level = CASE WHEN 'reorder_level' = ANY(%(fields)s::text[]) THEN %(reorder_level)s
                         ELSE reorder_level END,
    is_active = CASE WHEN 'is_active' = ANY(%(fields)s::text[]) THEN %(is_active)s ELSE is_active END,
    -- a new class taxes orders placed from now on; orders keep the rate and tax they stored
    tax_class = CASE WHEN 'tax_class' = ANY(%(fields)s::text[]) THEN %(tax_class)s ELSE tax_class END
WHERE sku_id = %(sku_id)s
RETURNING sku_id, product_id, sku_code, package_size, unit_type, base_price, reorder_level, is_active, tax_class;

-- name: delete_sku
DELETE FROM Product_SKUs WHERE sku_id = %(sku_id)s
RETURNING sku_id, product_id, sku_code, package_size, unit_type, base_price, reorder_level, is_active, tax_class;
