-- PharmAssist's clients (stockline/compat/pharmassist.py): look-ups only; every write goes
-- through the services.

-- name: cart_id
SELECT cart_id FROM Carts WHERE user_id = %(user_id)s;

-- name: sku_by_name
-- PharmAssist's free-text SKU: exactly "<product name> <package_size>", ignoring case.
SELECT s.sku_id FROM Product_SKUs AS s JOIN Products AS p USING (product_id)
WHERE lower(p.name || ' ' || s.package_size) = lower(%(name)s)
ORDER BY s.sku_id LIMIT 1;

-- name: receipt_defaults
-- The cost a PharmAssist receipt without one gets: the batch's own (a top-up keeps its cost),
-- else 60 % of the SKU's base price, as PharmAssist did.
SELECT s.sku_id, round(s.base_price * 0.6, 2) AS default_cost, b.cost_price AS batch_cost
FROM Product_SKUs AS s
LEFT JOIN Inventory_Batches AS b ON b.sku_id = s.sku_id AND b.batch_no = %(batch_no)s
WHERE s.sku_id = %(sku_id)s OR s.sku_code = %(sku_code)s
ORDER BY s.sku_id LIMIT 1;
