-- Queries of the catalog. Filters are written once each as "(%(x)s IS NULL OR ...)";
-- search patterns arrive escaped and wrapped in %...% (every pattern must match one of
-- name, manufacturer, package size, unit type or SKU code).
-- The stock rules (stockline_sellable, stockline_low_stock) are SQL functions in
-- db/schema.sql; every SKU a customer sees is on sale, hence stockline_low_stock(true, ...).
--
-- Catalog items are rendered as JSON here, not in Python: the listing sends one JSON array
-- per page, which the service wraps in its envelope without parsing it. The item's shape is
-- stockline_catalog_item_head / _stock / _tail in db/schema.sql, its one definition.

-- name: page_by_product
-- The common listing (sort by product or name, no stock filter), without its stock figures:
-- the total and the page's items, each as its head and tail JSON parts, with the SKU and its
-- reorder level; service.py joins the stock part (page_stock) in between per request.
-- Nothing here depends on stock, so the result is cached per listing version (see
-- kernel/catalog_version.py). One row; empty arrays past the end.
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
           stockline_catalog_item_head(priced.product_id, priced.product_name, priced.manufacturer,
                                       priced.description, priced.sku_id, priced.sku_code,
                                       priced.package_size, priced.unit_type, priced.base_price) AS head,
           stockline_catalog_item_tail(priced.base_price, priced.unit_price, priced.line_total,
                                       priced.discount_percentage, priced.rule_id,
                                       priced.next_tier_min_quantity, priced.next_tier_discount) AS tail
    FROM priced
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
-- The stock part of each of a page's items (%(sku_ids)s with their %(reorder_levels)s; all
-- on sale, as the listing shows only those), from the FEFO index alone, SKU by SKU.
SELECT k.sku_id,
       stockline_catalog_item_stock(coalesce(stock.total_on_hand, 0), stock.earliest_expiry,
                                    stockline_low_stock(true, coalesce(stock.total_on_hand, 0),
                                                        k.reorder_level)) AS stock
FROM unnest(%(sku_ids)s::int[], %(reorder_levels)s::int[]) AS k (sku_id, reorder_level)
CROSS JOIN LATERAL (
    SELECT sum(b.quantity_on_hand)::int AS total_on_hand, min(b.expiry_date) AS earliest_expiry
    FROM Inventory_Batches AS b
    WHERE b.sku_id = k.sku_id AND stockline_sellable(b.quantity_on_hand, b.expiry_date, %(sellable_after)s, b.quarantined)
) AS stock;

-- name: page_by_stock_or_price
-- Listings that filter or sort on stock or price: stock and price for every matching SKU
-- first, then the page. Same output as page_by_product.
WITH stock AS (
    SELECT b.sku_id, sum(b.quantity_on_hand)::int AS total_on_hand, min(b.expiry_date) AS earliest_expiry
    FROM Inventory_Batches AS b
    WHERE stockline_sellable(b.quantity_on_hand, b.expiry_date, %(sellable_after)s, b.quarantined)
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
           OR stockline_low_stock(true, coalesce(stock.total_on_hand, 0), s.reorder_level)
              = %(low_stock)s::boolean)
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
       (SELECT '[' || coalesce(string_agg(
                   stockline_catalog_item_head(priced.product_id, priced.product_name, priced.manufacturer,
                                               priced.description, priced.sku_id, priced.sku_code,
                                               priced.package_size, priced.unit_type, priced.base_price)
                   || stockline_catalog_item_stock(priced.total_on_hand, priced.earliest_expiry,
                                                   stockline_low_stock(true, priced.total_on_hand,
                                                                       priced.reorder_level))
                   || stockline_catalog_item_tail(priced.base_price, priced.unit_price, priced.line_total,
                                                  priced.discount_percentage, priced.rule_id,
                                                  priced.next_tier_min_quantity, priced.next_tier_discount),
                   ',' ORDER BY priced.position), '') || ']'
        FROM priced) AS items;

-- name: sku_detail
-- One active SKU: the catalog item as JSON (the listing's shape), plus what the detail page
-- adds and the base price its price ladder starts from.
SELECT priced.base_price, priced.category, priced.reorder_level,
       stockline_catalog_item_head(priced.product_id, priced.product_name, priced.manufacturer,
                                   priced.description, priced.sku_id, priced.sku_code,
                                   priced.package_size, priced.unit_type, priced.base_price)
       || stockline_catalog_item_stock(priced.total_on_hand, priced.earliest_expiry,
                                       stockline_low_stock(true, priced.total_on_hand, priced.reorder_level))
       || stockline_catalog_item_tail(priced.base_price, priced.unit_price, priced.line_total,
                                      priced.discount_percentage, priced.rule_id,
                                      priced.next_tier_min_quantity, priced.next_tier_discount) AS item
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
        WHERE b.sku_id = s.sku_id AND stockline_sellable(b.quantity_on_hand, b.expiry_date, %(sellable_after)s, b.quarantined)
    ) AS stock
    CROSS JOIN LATERAL stockline_price(s.sku_id, %(customer_id)s, %(quantity)s, %(today)s, s.base_price) AS price
    WHERE s.sku_id = %(sku_id)s AND s.is_active AND p.is_active
) AS priced;

-- name: sellable_batches
-- A SKU's sellable batches in FEFO order: what the next order would draw from.
SELECT batch_no, expiry_date, quantity_on_hand
FROM Inventory_Batches
WHERE sku_id = %(sku_id)s AND stockline_sellable(quantity_on_hand, expiry_date, %(sellable_after)s, quarantined)
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
