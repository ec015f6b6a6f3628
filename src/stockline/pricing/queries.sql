-- Pricing in SQL: the rule itself is the stockline_price() function of db/schema.sql.

-- name: applicable_rules
-- Every rule that could apply to a customer on a day for these SKUs, whatever the quantity
-- (the Python form prices from these; the catalog's price ladder lists them).
SELECT rule_id, sku_id, customer_id, min_quantity, discount_percentage, valid_from, valid_to
FROM Pricing_Rules
WHERE (sku_id IS NULL OR sku_id = ANY(%(sku_ids)s::int[]))
  AND (customer_id IS NULL OR customer_id = %(customer_id)s)
  AND (valid_from IS NULL OR valid_from <= %(on)s)
  AND (valid_to IS NULL OR %(on)s <= valid_to)
ORDER BY rule_id;

-- name: price_lines
-- Prices lines of (SKU, quantity) for a customer and a day: the cart and checkout use this,
-- so the price a cart shows is the price checkout charges.
SELECT w.sku_id, w.quantity, s.base_price, p.*
FROM unnest(%(sku_ids)s::int[], %(quantities)s::int[]) AS w (sku_id, quantity)
JOIN Product_SKUs AS s USING (sku_id)
CROSS JOIN LATERAL stockline_price(s.sku_id, %(customer_id)s, w.quantity, %(on)s, s.base_price) AS p
ORDER BY w.sku_id;
