-- Queries of pricing-rule administration and the price preview. The rule itself is not
-- here: it is stockline.pricing.rules (Python) and stockline_price() (db/schema.sql).

-- name: rules_page
-- Rules matching every filter given (NULL: no filter; active_on: valid on that day), by
-- rule_id, with the SKU's and customer's names; always one row with the total (page columns
-- NULL past the end).
WITH matching AS (
    SELECT rule_id
    FROM Pricing_Rules
    WHERE (%(sku_id)s::int IS NULL OR sku_id = %(sku_id)s::int)
      AND (%(customer_id)s::int IS NULL OR customer_id = %(customer_id)s::int)
      AND (%(active_on)s::date IS NULL
           OR ((valid_from IS NULL OR valid_from <= %(active_on)s::date)
               AND (valid_to IS NULL OR %(active_on)s::date <= valid_to)))
)
SELECT (SELECT count(*) FROM matching)::int AS total_items, page.*
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (
    SELECT r.rule_id, r.sku_id, s.sku_code, p.name AS product_name, r.customer_id, c.name AS customer_name,
           r.min_quantity, r.discount_percentage, r.valid_from, r.valid_to, r.created_at
    FROM (SELECT rule_id FROM matching ORDER BY rule_id LIMIT %(limit)s OFFSET %(offset)s) AS m
    JOIN Pricing_Rules AS r USING (rule_id)
    LEFT JOIN Product_SKUs AS s ON s.sku_id = r.sku_id
    LEFT JOIN Products AS p ON p.product_id = s.product_id
    LEFT JOIN Customers AS c ON c.customer_id = r.customer_id
) AS page ON true
ORDER BY page.rule_id;

-- name: rule
-- One rule with the SKU's and customer's names.
SELECT r.rule_id, r.sku_id, s.sku_code, p.name AS product_name, r.customer_id, c.name AS customer_name,
       r.min_quantity, r.discount_percentage, r.valid_from, r.valid_to, r.created_at
FROM Pricing_Rules AS r
LEFT JOIN Product_SKUs AS s ON s.sku_id = r.sku_id
LEFT JOIN Products AS p ON p.product_id = s.product_id
LEFT JOIN Customers AS c ON c.customer_id = r.customer_id
WHERE r.rule_id = %(rule_id)s;

-- name: lock_rule
-- A rule about to be edited, locked (its columns as the audit log records them).
SELECT rule_id, sku_id, customer_id, min_quantity, discount_percentage, valid_from, valid_to
FROM Pricing_Rules
WHERE rule_id = %(rule_id)s
FOR UPDATE;

-- name: references_exist
-- Whether a rule's SKU and customer exist (NULL, "any", always does).
SELECT (%(sku_id)s::int IS NULL
        OR EXISTS (SELECT 1 FROM Product_SKUs WHERE sku_id = %(sku_id)s::int)) AS sku_found,
       (%(customer_id)s::int IS NULL
        OR EXISTS (SELECT 1 FROM Customers WHERE customer_id = %(customer_id)s::int)) AS customer_found;

-- name: lock_rule_key
-- Serialises writers of one (sku_id, customer_id, min_quantity) key until commit, so the
-- overlap check that follows sees every rule committed for that key before it (NULL is its own
-- value here, "any"). Two-integer advisory keys: class 0x50524C ("PRL"), then a hash of the key.
SELECT pg_advisory_xact_lock(
    x'50524C'::int,
    hashtext(concat_ws(':', coalesce(%(sku_id)s::int::text, 'any'),
                       coalesce(%(customer_id)s::int::text, 'any'),
                       %(min_quantity)s::int::text)));

-- name: overlapping_rule
-- The first other rule with the same key (NULLs equal) whose validity window overlaps
-- [valid_from, valid_to] (a NULL end is open).
SELECT rule_id, valid_from, valid_to
FROM Pricing_Rules
WHERE sku_id IS NOT DISTINCT FROM %(sku_id)s::int
  AND customer_id IS NOT DISTINCT FROM %(customer_id)s::int
  AND min_quantity = %(min_quantity)s::int
  AND rule_id IS DISTINCT FROM %(rule_id)s::int
  AND daterange(valid_from, valid_to, '[]') && daterange(%(valid_from)s::date, %(valid_to)s::date, '[]')
ORDER BY rule_id
LIMIT 1;

-- name: insert_rule
INSERT INTO Pricing_Rules (sku_id, customer_id, min_quantity, discount_percentage, valid_from, valid_to)
VALUES (%(sku_id)s, %(customer_id)s, %(min_quantity)s, %(discount_percentage)s, %(valid_from)s, %(valid_to)s)
RETURNING rule_id, sku_id, customer_id, min_quantity, discount_percentage, valid_from, valid_to;

-- name: update_rule
UPDATE Pricing_Rules
SET sku_id = %(sku_id)s, customer_id = %(customer_id)s, min_quantity = %(min_quantity)s,
    discount_percentage = %(discount_percentage)s, valid_from = %(valid_from)s, valid_to = %(valid_to)s
WHERE rule_id = %(rule_id)s
RETURNING rule_id, sku_id, customer_id, min_quantity, discount_percentage, valid_from, valid_to;

-- name: delete_rule
-- Orders priced by the rule keep their prices; their pricing_rule_id becomes NULL.
DELETE FROM Pricing_Rules WHERE rule_id = %(rule_id)s
RETURNING rule_id, sku_id, customer_id, min_quantity, discount_percentage, valid_from, valid_to;

-- name: preview_subject
-- The SKU being priced (any, on sale or not) and, when given, the customer; one row always.
SELECT s.sku_id, s.sku_code, p.name AS product_name, s.base_price, s.is_active AND p.is_active AS on_sale,
       c.customer_id, c.name AS customer_name
FROM (SELECT 1) AS one
LEFT JOIN Product_SKUs AS s ON s.sku_id = %(sku_id)s
LEFT JOIN Products AS p ON p.product_id = s.product_id
LEFT JOIN Customers AS c ON c.customer_id = %(customer_id)s::int;
