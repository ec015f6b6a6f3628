-- Queries of the catalog. Filters are written once each as "(%(x)s IS NULL OR ...)";
-- search patterns arrive escaped and wrapped in %...% (every pattern must match one of
-- name, manufacturer, package size, unit type or SKU code).
-- "Sellable" batches: stock > 0 and expiry_date > %(sellable_after)s (today + shelf life).
--
-- Catalog items are rendered as JSON here, not in Python: the listing sends one JSON array
-- per page, which the service wraps in its envelope without parsing it. The item's shape is
-- the `item` block, written alike in page_by_stock_or_price and sku_detail, and split in
-- two around the stock figures in page_by_product (keep the three in step): fields in API order, money as text with two places (what
-- stockline.pricing.rules.money prints; every amount here has two places at most, so
-- round() only fixes the scale), dates as ISO 8601 (row_to_json's format whatever DateStyle);
-- next_tier's effective_price is the net unit price at that tier's discount, rounded half up
-- to the cent as stockline_price() rounds.

-- name: page_by_product
-- The common listing (sort by product or name, no stock filter), without its stock figures:
-- the total and the page's items, each rendered as the `item` block renders it but in two
-- parts, `head` (the fields before total_on_hand, without the closing brace) and `tail`
-- (the fields after low_stock, without the opening brace), with the SKU and its reorder
-- level; service.py splices the stock figures (page_stock) in between per request. Nothing
-- here depends on stock, so the result is cached per listing version (see version.py).
-- One row; empty arrays past the end.
WITH matching AS NOT MATERIALIZED (
    SELECT p.product_id, p.name AS product_name, p.manufacturer, p.description, s.sku_id, s.sku_code,
           s.package_size, s.unit_type, s.base_price, s.reorder_level
    FROM Product_SKUs AS s
    JOIN Products AS p USING (product_id)
    WHERE s.is_active AND p.is_active
      AND (%(manufacturer)s::text IS NULL OR lower(p.manufacturer) = lower(%(manufacturer)s::text))
      AND (cardinality(%(patterns)s::text[]) = 0 OR NOT EXISTS (
          SELECT 1 FROM unnest(%(patterns)s::text[]) AS t (pattern)
          WHERE (p.name ILIKE t.pattern OR p.manufacturer ILIKE t.pattern OR s.package_size ILIKE t.pattern
                     OR s.unit_type ILIKE t.pattern OR s.sku_code ILIKE t.pattern) IS NOT TRUE))
), page AS (
    -- one branch per sort order, and only one runs: so the generic plan of the prepared
    -- statement still reads the page in index order and stops at its end
    (SELECT * FROM matching WHERE %(sort)s::text <> 'name'
     ORDER BY product_id, sku_id LIMIT %(limit)s OFFSET %(offset)s)
    UNION ALL
    (SELECT * FROM matching WHERE %(sort)s::text = 'name'
     ORDER BY lower(product_name), product_id, sku_id LIMIT %(limit)s OFFSET %(offset)s)
), priced AS (
    SELECT page.*, price.discount_percentage, price.unit_price, price.line_total, price.rule_id,
           price.next_tier_min_quantity, price.next_tier_discount,
           CASE WHEN %(sort)s::text = 'name' THEN lower(page.product_name) END AS name_order
    FROM page
    CROSS JOIN LATERAL stockline_price(page.sku_id, %(customer_id)s, %(quantity)s, %(today)s,
                                       page.base_price) AS price
), parts AS (
    SELECT priced.name_order, priced.product_id, priced.sku_id, priced.reorder_level,
           left(row_to_json(head)::text, -1) AS head, substr(row_to_json(tail)::text, 2) AS tail
    FROM priced
    CROSS JOIN LATERAL (
        SELECT priced.product_id, priced.product_name, priced.manufacturer, priced.description,
               priced.sku_id, priced.sku_code, priced.package_size, priced.unit_type,
               round(priced.base_price, 2)::text AS base_price
    ) AS head
    CROSS JOIN LATERAL (
        SELECT round(priced.unit_price, 2)::text AS effective_price,
               round(priced.line_total, 2)::text AS line_total,
               round(priced.discount_percentage, 2)::text AS discount_percentage,
               priced.rule_id AS applied_rule_id,
               (SELECT row_to_json(tier) FROM (
                    SELECT priced.next_tier_min_quantity AS min_quantity,
                           round(priced.next_tier_discount, 2)::text AS discount_percentage,
                           round(priced.base_price * (100 - priced.next_tier_discount) / 100, 2)::text
                               AS effective_price
                ) AS tier WHERE priced.next_tier_min_quantity IS NOT NULL) AS next_tier
    ) AS tail
)
SELECT (SELECT count(*) FROM matching)::int AS total_items,
       coalesce(array_agg(parts.sku_id ORDER BY parts.name_order, parts.product_id, parts.sku_id),
                '{}') AS sku_ids,
       coalesce(array_agg(parts.reorder_level ORDER BY parts.name_order, parts.product_id, parts.sku_id),
                '{}') AS reorder_levels,
       coalesce(array_agg(parts.head ORDER BY parts.name_order, parts.product_id, parts.sku_id),
                '{}') AS heads,
       coalesce(array_agg(parts.tail ORDER BY parts.name_order, parts.product_id, parts.sku_id),
                '{}') AS tails
FROM parts;

-- name: page_stock
-- The stock figures of a page's SKUs (SKUs without sellable stock have no row):
-- total_on_hand, and earliest_expiry as JSON (what row_to_json prints), from the FEFO
-- index alone.
SELECT b.sku_id, sum(b.quantity_on_hand)::int AS total_on_hand,
       to_json(min(b.expiry_date))::text AS earliest_expiry
FROM Inventory_Batches AS b
WHERE b.sku_id = ANY(%(sku_ids)s::int[]) AND b.quantity_on_hand > 0 AND b.expiry_date > %(sellable_after)s
GROUP BY b.sku_id;

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
), ranked AS (
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
), priced AS (
    SELECT * FROM ranked ORDER BY position LIMIT %(limit)s OFFSET %(offset)s
)
SELECT (SELECT count(*) FROM matching)::int AS total_items,
       (SELECT '[' || coalesce(string_agg(row_to_json(item)::text, ',' ORDER BY priced.position), '') || ']'
        FROM priced
        CROSS JOIN LATERAL (
            SELECT priced.product_id, priced.product_name, priced.manufacturer, priced.description,
                   priced.sku_id, priced.sku_code, priced.package_size, priced.unit_type,
                   round(priced.base_price, 2)::text AS base_price, priced.total_on_hand,
                   priced.earliest_expiry, priced.total_on_hand < priced.reorder_level AS low_stock,
                   round(priced.unit_price, 2)::text AS effective_price,
                   round(priced.line_total, 2)::text AS line_total,
                   round(priced.discount_percentage, 2)::text AS discount_percentage,
                   priced.rule_id AS applied_rule_id,
                   (SELECT row_to_json(tier) FROM (
                        SELECT priced.next_tier_min_quantity AS min_quantity,
                               round(priced.next_tier_discount, 2)::text AS discount_percentage,
                               round(priced.base_price * (100 - priced.next_tier_discount) / 100, 2)::text
                                   AS effective_price
                    ) AS tier WHERE priced.next_tier_min_quantity IS NOT NULL) AS next_tier
        ) AS item) AS items;

-- name: sku_detail
-- One active SKU: the catalog item as JSON (the listing's shape), plus what the detail page
-- adds and the base price its price ladder starts from.
SELECT priced.base_price, priced.category, priced.reorder_level, row_to_json(item)::text AS item
FROM (
    SELECT p.product_id, p.name AS product_name, p.manufacturer, p.description, p.category, s.sku_id,
           s.sku_code, s.package_size, s.unit_type, s.base_price, s.reorder_level,
           coalesce(stock.total_on_hand, 0) AS total_on_hand, stock.earliest_expiry,
           price.discount_percentage, price.unit_price, price.line_total, price.rule_id,
           price.next_tier_min_quantity, price.next_tier_discount
    FROM Product_SKUs AS s
    JOIN Products AS p USING (product_id)
    CROSS JOIN LATERAL (
        SELECT sum(b.quantity_on_hand)::int AS total_on_hand, min(b.expiry_date) AS earliest_expiry
        FROM Inventory_Batches AS b
        WHERE b.sku_id = s.sku_id AND b.quantity_on_hand > 0 AND b.expiry_date > %(sellable_after)s
    ) AS stock
    CROSS JOIN LATERAL stockline_price(s.sku_id, %(customer_id)s, %(quantity)s, %(today)s, s.base_price) AS price
    WHERE s.sku_id = %(sku_id)s AND s.is_active AND p.is_active
) AS priced
CROSS JOIN LATERAL (
    SELECT priced.product_id, priced.product_name, priced.manufacturer, priced.description,
           priced.sku_id, priced.sku_code, priced.package_size, priced.unit_type,
           round(priced.base_price, 2)::text AS base_price, priced.total_on_hand,
           priced.earliest_expiry, priced.total_on_hand < priced.reorder_level AS low_stock,
           round(priced.unit_price, 2)::text AS effective_price,
           round(priced.line_total, 2)::text AS line_total,
           round(priced.discount_percentage, 2)::text AS discount_percentage,
           priced.rule_id AS applied_rule_id,
           (SELECT row_to_json(tier) FROM (
                SELECT priced.next_tier_min_quantity AS min_quantity,
                       round(priced.next_tier_discount, 2)::text AS discount_percentage,
                       round(priced.base_price * (100 - priced.next_tier_discount) / 100, 2)::text
                           AS effective_price
            ) AS tier WHERE priced.next_tier_min_quantity IS NOT NULL) AS next_tier
) AS item;

-- name: sellable_batches
-- A SKU's sellable batches in FEFO order: what the next order would draw from.
SELECT batch_no, expiry_date, quantity_on_hand
FROM Inventory_Batches
WHERE sku_id = %(sku_id)s AND quantity_on_hand > 0 AND expiry_date > %(sellable_after)s
ORDER BY expiry_date, batch_id;

-- name: customer_exists
SELECT EXISTS (SELECT 1 FROM Customers WHERE customer_id = %(customer_id)s) AS found;

-- name: manufacturers
-- Manufacturers of the products on sale (with an active SKU), for the catalog's filter.
SELECT DISTINCT p.manufacturer
FROM Products AS p
WHERE p.is_active AND p.manufacturer IS NOT NULL
  AND EXISTS (SELECT 1 FROM Product_SKUs AS s WHERE s.product_id = p.product_id AND s.is_active)
ORDER BY p.manufacturer;
