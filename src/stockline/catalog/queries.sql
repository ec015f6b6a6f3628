-- Queries of the catalog. Filters are written once each as "(%(x)s IS NULL OR ...)";
-- search patterns arrive escaped and wrapped in %...% (every pattern must match one of
-- name, manufacturer, package size, unit type or SKU code).
-- "Sellable" batches: stock > 0 and expiry_date > %(sellable_after)s (today + shelf life).

-- name: page_by_product
-- The common listing (sort by product or name, no stock filter): the page is chosen first,
-- then only its rows get stock figures and prices. Always one row: the total, and the page
-- rows' columns (NULL when the page is past the end).
WITH matching AS NOT MATERIALIZED (
    SELECT s.sku_id, p.product_id, lower(p.name) AS name_key
    FROM Product_SKUs AS s
    JOIN Products AS p USING (product_id)
    WHERE s.is_active AND p.is_active
      AND (%(manufacturer)s::text IS NULL OR lower(p.manufacturer) = lower(%(manufacturer)s::text))
      AND (cardinality(%(patterns)s::text[]) = 0 OR NOT EXISTS (
          SELECT 1 FROM unnest(%(patterns)s::text[]) AS t (pattern)
          WHERE (p.name ILIKE t.pattern OR p.manufacturer ILIKE t.pattern OR s.package_size ILIKE t.pattern
                     OR s.unit_type ILIKE t.pattern OR s.sku_code ILIKE t.pattern) IS NOT TRUE))
), page AS (
    SELECT sku_id, row_number() OVER (ORDER BY sort_key, product_id, sku_id) AS position
    FROM (
        SELECT sku_id, product_id, CASE WHEN %(sort)s::text = 'name' THEN name_key END AS sort_key
        FROM matching
        ORDER BY sort_key, product_id, sku_id
        LIMIT %(limit)s OFFSET %(offset)s
    ) AS ordered
)
SELECT (SELECT count(*) FROM matching)::int AS total_items, item.*
FROM (SELECT 1) AS one
LEFT JOIN (
    SELECT page.position, p.product_id, p.name AS product_name, p.manufacturer, p.description, s.sku_id,
           s.sku_code, s.package_size, s.unit_type, s.base_price, s.reorder_level,
           coalesce(stock.total_on_hand, 0) AS total_on_hand, stock.earliest_expiry,
           price.discount_percentage, price.unit_price, price.line_total, price.rule_id,
           price.next_tier_min_quantity, price.next_tier_discount
    FROM page
    JOIN Product_SKUs AS s USING (sku_id)
    JOIN Products AS p USING (product_id)
    LEFT JOIN LATERAL (
        SELECT sum(b.quantity_on_hand)::int AS total_on_hand, min(b.expiry_date) AS earliest_expiry
        FROM Inventory_Batches AS b
        WHERE b.sku_id = s.sku_id AND b.quantity_on_hand > 0 AND b.expiry_date > %(sellable_after)s
    ) AS stock ON true
    CROSS JOIN LATERAL stockline_price(s.sku_id, %(customer_id)s, %(quantity)s, %(today)s, s.base_price) AS price
) AS item ON true
ORDER BY item.position;

-- name: page_by_stock_or_price
-- Listings that filter or sort on stock or price: stock and price for every matching SKU
-- first, then the page. Same output as page_by_product.
WITH stock AS (
    SELECT b.sku_id, sum(b.quantity_on_hand)::int AS total_on_hand, min(b.expiry_date) AS earliest_expiry
    FROM Inventory_Batches AS b
    WHERE b.quantity_on_hand > 0 AND b.expiry_date > %(sellable_after)s
    GROUP BY b.sku_id
), matching AS (
    SELECT p.product_id, p.name AS product_name, p.manufacturer, p.description, s.sku_id, s.sku_code,
           s.package_size, s.unit_type, s.base_price, s.reorder_level,
           coalesce(stock.total_on_hand, 0) AS total_on_hand, stock.earliest_expiry
    FROM Product_SKUs AS s
    JOIN Products AS p USING (product_id)
    LEFT JOIN stock USING (sku_id)
    WHERE s.is_active AND p.is_active
      AND (%(manufacturer)s::text IS NULL OR lower(p.manufacturer) = lower(%(manufacturer)s::text))
      AND (cardinality(%(patterns)s::text[]) = 0 OR NOT EXISTS (
          SELECT 1 FROM unnest(%(patterns)s::text[]) AS t (pattern)
          WHERE (p.name ILIKE t.pattern OR p.manufacturer ILIKE t.pattern OR s.package_size ILIKE t.pattern
                     OR s.unit_type ILIKE t.pattern OR s.sku_code ILIKE t.pattern) IS NOT TRUE))
      AND (%(in_stock)s::boolean IS NULL OR (coalesce(stock.total_on_hand, 0) > 0) = %(in_stock)s::boolean)
      AND (%(low_stock)s::boolean IS NULL
           OR (coalesce(stock.total_on_hand, 0) < s.reorder_level) = %(low_stock)s::boolean)
), priced AS (
    SELECT m.*, price.discount_percentage, price.unit_price, price.line_total, price.rule_id,
           price.next_tier_min_quantity, price.next_tier_discount,
           row_number() OVER (ORDER BY
               CASE WHEN %(sort)s::text = 'name' THEN lower(m.product_name) END,
               CASE WHEN %(sort)s::text = 'price' THEN price.unit_price END,
               CASE WHEN %(sort)s::text = 'expiry' THEN m.earliest_expiry END NULLS LAST,
               CASE WHEN %(sort)s::text = 'availability' THEN m.total_on_hand END DESC,
               m.product_id, m.sku_id) AS position
    FROM matching AS m
    CROSS JOIN LATERAL stockline_price(m.sku_id, %(customer_id)s, %(quantity)s, %(today)s, m.base_price) AS price
)
SELECT (SELECT count(*) FROM matching)::int AS total_items, item.*
FROM (SELECT 1) AS one
LEFT JOIN (
    SELECT position, product_id, product_name, manufacturer, description, sku_id, sku_code, package_size,
           unit_type, base_price, reorder_level, total_on_hand, earliest_expiry, discount_percentage,
           unit_price, line_total, rule_id, next_tier_min_quantity, next_tier_discount
    FROM priced
    ORDER BY position
    LIMIT %(limit)s OFFSET %(offset)s
) AS item ON true
ORDER BY item.position;

-- name: sku_detail
-- One active SKU with its product, stock figures and price for a quantity.
SELECT p.product_id, p.name AS product_name, p.manufacturer, p.description, p.category, s.sku_id,
       s.sku_code, s.package_size, s.unit_type, s.base_price, s.reorder_level,
       coalesce(stock.total_on_hand, 0) AS total_on_hand, stock.earliest_expiry,
       price.discount_percentage, price.unit_price, price.line_total, price.rule_id,
       price.next_tier_min_quantity, price.next_tier_discount
FROM Product_SKUs AS s
JOIN Products AS p USING (product_id)
LEFT JOIN LATERAL (
    SELECT sum(b.quantity_on_hand)::int AS total_on_hand, min(b.expiry_date) AS earliest_expiry
    FROM Inventory_Batches AS b
    WHERE b.sku_id = s.sku_id AND b.quantity_on_hand > 0 AND b.expiry_date > %(sellable_after)s
) AS stock ON true
CROSS JOIN LATERAL stockline_price(s.sku_id, %(customer_id)s, %(quantity)s, %(today)s, s.base_price) AS price
WHERE s.sku_id = %(sku_id)s AND s.is_active AND p.is_active;

-- name: sellable_batches
-- A SKU's sellable batches in FEFO order: what the next order would draw from.
SELECT batch_no, expiry_date, quantity_on_hand
FROM Inventory_Batches
WHERE sku_id = %(sku_id)s AND quantity_on_hand > 0 AND expiry_date > %(sellable_after)s
ORDER BY expiry_date, batch_id;

-- name: customer_exists
SELECT EXISTS (SELECT 1 FROM Customers WHERE customer_id = %(customer_id)s) AS found;

-- name: catalog_version
-- The latest catalog version: part of every catalog cache key (see catalog/version.py).
SELECT last_value AS version FROM catalog_version;

-- name: bump_catalog_version
-- After a committed change to stock, prices, rules or products: a new version, announced
-- to every worker.
SELECT pg_notify('stockline_catalog', v::text), v AS version
FROM nextval('catalog_version') AS v;
