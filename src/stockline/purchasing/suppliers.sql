-- Suppliers and which SKUs each supplies at what cost (purchasing/suppliers.py).

-- name: suppliers_page
-- Suppliers by name (active first), with how many SKUs each supplies and its open purchase
-- orders; one row always (the total; page columns NULL past the end).
WITH matching AS (
    SELECT sup.*
    FROM Suppliers AS sup
    WHERE %(active)s::bool IS NULL OR sup.is_active = %(active)s::bool
)
SELECT (SELECT count(*) FROM matching)::int AS total_items, page.*
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (
    SELECT m.*,
           (SELECT count(*) FROM Supplier_SKUs AS ss WHERE ss.supplier_id = m.supplier_id)::int AS sku_count,
           (SELECT count(*) FROM Purchase_Orders AS o
            WHERE o.supplier_id = m.supplier_id AND stockline_po_open(o.status))::int AS open_orders
    FROM matching AS m
    ORDER BY NOT m.is_active, lower(m.name), m.supplier_id
    LIMIT %(limit)s OFFSET %(offset)s
) AS page ON true
ORDER BY NOT page.is_active, lower(page.name), page.supplier_id;

-- name: supplier
-- One supplier with its counts (no row: no such supplier).
SELECT sup.*,
       (SELECT count(*) FROM Supplier_SKUs AS ss WHERE ss.supplier_id = sup.supplier_id)::int AS sku_count,
       (SELECT count(*) FROM Purchase_Orders AS o
        WHERE o.supplier_id = sup.supplier_id AND stockline_po_open(o.status))::int AS open_orders
FROM Suppliers AS sup
WHERE sup.supplier_id = %(supplier_id)s;

-- name: supplier_skus
-- The SKUs a supplier supplies, by SKU code.
SELECT ss.sku_id, s.sku_code, p.name AS product_name, s.package_size, s.unit_type, ss.unit_cost,
       ss.supplier_sku_code, ss.is_preferred
FROM Supplier_SKUs AS ss
JOIN Product_SKUs AS s USING (sku_id)
JOIN Products AS p USING (product_id)
WHERE ss.supplier_id = %(supplier_id)s
ORDER BY s.sku_code, ss.sku_id;

-- name: insert_supplier
INSERT INTO Suppliers (name, contact_name, email, phone, address, lead_time_days, is_active)
VALUES (%(name)s, %(contact_name)s, %(email)s, %(phone)s, %(address)s, %(lead_time_days)s, %(is_active)s)
RETURNING supplier_id, name, contact_name, email, phone, address, lead_time_days, is_active;

-- name: lock_supplier
-- The supplier's audited columns, its row locked until commit (no row: no such supplier).
SELECT supplier_id, name, contact_name, email, phone, address, lead_time_days, is_active
FROM Suppliers
WHERE supplier_id = %(supplier_id)s
FOR NO KEY UPDATE;

-- name: update_supplier
-- Changes only the fields whose set_<field> flag is true (so null can clear a field).
UPDATE Suppliers
SET name = CASE WHEN %(set_name)s::bool THEN %(name)s::text ELSE name END,
    contact_name = CASE WHEN %(set_contact_name)s::bool THEN %(contact_name)s::text ELSE contact_name END,
    email = CASE WHEN %(set_email)s::bool THEN %(email)s::text ELSE email END,
    phone = CASE WHEN %(set_phone)s::bool THEN %(phone)s::text ELSE phone END,
    address = CASE WHEN %(set_address)s::bool THEN %(address)s::text ELSE address END,
    lead_time_days = CASE WHEN %(set_lead_time_days)s::bool THEN %(lead_time_days)s::int ELSE lead_time_days END,
    is_active = CASE WHEN %(set_is_active)s::bool THEN %(is_active)s::bool ELSE is_active END
WHERE supplier_id = %(supplier_id)s
RETURNING supplier_id, name, contact_name, email, phone, address, lead_time_days, is_active;

-- name: name_taken
-- Another supplier with this name, ignoring case (the unique index says the same).
SELECT supplier_id FROM Suppliers
WHERE lower(name) = lower(%(name)s) AND supplier_id IS DISTINCT FROM %(supplier_id)s::int;

-- name: lock_preferred
-- Serialises the writers of one SKU's suppliers until commit, so of two suppliers made
-- preferred at once the second sees the first (and un-prefers it). Advisory key class
-- 0x505346 ("PSF"), then the SKU.
SELECT pg_advisory_xact_lock(x'505346'::int, %(sku_id)s::int);

-- name: sku_exists
SELECT sku_id FROM Product_SKUs WHERE sku_id = %(sku_id)s;

-- name: supplier_sku
-- One supplier's terms for one SKU (no row: it does not supply it).
SELECT supplier_id, sku_id, unit_cost, supplier_sku_code, is_preferred
FROM Supplier_SKUs
WHERE supplier_id = %(supplier_id)s AND sku_id = %(sku_id)s;

-- name: unprefer_others
-- The SKU's other preferred supplier, if any, stops being preferred (their terms as before).
UPDATE Supplier_SKUs
SET is_preferred = false
WHERE sku_id = %(sku_id)s AND supplier_id <> %(supplier_id)s AND is_preferred
RETURNING supplier_id, sku_id, unit_cost, supplier_sku_code;

-- name: upsert_supplier_sku
INSERT INTO Supplier_SKUs (supplier_id, sku_id, unit_cost, supplier_sku_code, is_preferred)
VALUES (%(supplier_id)s, %(sku_id)s, %(unit_cost)s, %(supplier_sku_code)s, %(is_preferred)s)
ON CONFLICT (supplier_id, sku_id) DO UPDATE
SET unit_cost = EXCLUDED.unit_cost, supplier_sku_code = EXCLUDED.supplier_sku_code,
    is_preferred = EXCLUDED.is_preferred
RETURNING supplier_id, sku_id, unit_cost, supplier_sku_code, is_preferred;

-- name: delete_supplier_sku
DELETE FROM Supplier_SKUs
WHERE supplier_id = %(supplier_id)s AND sku_id = %(sku_id)s
RETURNING supplier_id, sku_id, unit_cost, supplier_sku_code, is_preferred;
