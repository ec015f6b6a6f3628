-- Queries of tax-class administration. The rate of a class on a day is stockline_tax_rate()
-- and the tax of a line stockline_line_tax() (db/schema.sql); nothing here computes either.
-- A class's first rate runs from '-infinity' ("since always"), which Python dates cannot
-- hold: it is read as NULL.

-- name: classes_page
-- Tax classes by code (only the one named when tax_class is given), each with its rate in
-- force today, every rate by valid_from with its state (superseded, current or scheduled)
-- and how many SKUs are in it; always one row with the total (page columns NULL past the end).
WITH matching AS (
    SELECT c.*
    FROM Tax_Classes AS c
    WHERE %(tax_class)s::text IS NULL OR c.tax_class = %(tax_class)s::text
)
SELECT (SELECT count(*) FROM matching)::int AS total_items, page.*
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (
    SELECT m.tax_class, m.tax_class_id, m.name, m.created_at,
           stockline_tax_rate(m.tax_class, %(today)s::date) AS current_rate,
           skus.sku_count, rates.valid_froms, rates.rates, rates.states
    FROM (SELECT * FROM matching ORDER BY tax_class LIMIT %(limit)s OFFSET %(offset)s) AS m
    CROSS JOIN LATERAL (
        SELECT count(*)::int AS sku_count FROM Product_SKUs AS s WHERE s.tax_class = m.tax_class
    ) AS skus
    CROSS JOIN LATERAL (
        SELECT array_agg(nullif(r.valid_from, '-infinity') ORDER BY r.valid_from) AS valid_froms,
               array_agg(r.rate ORDER BY r.valid_from) AS rates,
               array_agg(CASE WHEN r.valid_from > %(today)s::date THEN 'scheduled'
                              WHEN r.valid_from = in_force.since THEN 'current'
                              ELSE 'superseded' END ORDER BY r.valid_from) AS states
        FROM Tax_Rates AS r
        CROSS JOIN (SELECT max(f.valid_from) AS since FROM Tax_Rates AS f
                    WHERE f.tax_class = m.tax_class AND f.valid_from <= %(today)s::date) AS in_force
        WHERE r.tax_class = m.tax_class
    ) AS rates
) AS page ON true
ORDER BY page.tax_class;

-- name: lock_class
-- A class about to change (or lose rates), locked: its writers run one after another, and a
-- SKU being put in it (whose foreign-key check shares this row's lock) waits or is counted.
SELECT tax_class, tax_class_id, name
FROM Tax_Classes
WHERE tax_class = %(tax_class)s
FOR UPDATE;

-- name: insert_class
-- A new class and its rate since always, in one statement.
WITH created AS (
    INSERT INTO Tax_Classes (tax_class, name)
    VALUES (%(tax_class)s, %(name)s)
    ON CONFLICT (tax_class) DO NOTHING
    RETURNING tax_class, tax_class_id, name
), first_rate AS (
    INSERT INTO Tax_Rates (tax_class, valid_from, rate)
    SELECT tax_class, '-infinity', %(rate)s FROM created
    RETURNING rate
)
SELECT created.tax_class, created.tax_class_id, created.name, first_rate.rate
FROM created CROSS JOIN first_rate;

-- name: update_class
UPDATE Tax_Classes
SET name = %(name)s
WHERE tax_class = %(tax_class)s
RETURNING tax_class, tax_class_id, name;

-- name: class_sku_count
-- How many SKUs are in a class (run after lock_class, so none joins it meanwhile).
SELECT count(*)::int AS sku_count FROM Product_SKUs WHERE tax_class = %(tax_class)s;

-- name: class_rates
-- Every rate of a class by valid_from (NULL: since always), as the audit log records them.
SELECT nullif(valid_from, '-infinity') AS valid_from, rate
FROM Tax_Rates
WHERE tax_class = %(tax_class)s
ORDER BY Tax_Rates.valid_from;

-- name: delete_class
-- Its rates go with it (ON DELETE CASCADE); orders keep the rates they stored.
DELETE FROM Tax_Classes WHERE tax_class = %(tax_class)s
RETURNING tax_class, tax_class_id, name;

-- name: insert_rate
-- A rate from a day; nothing when the class already has one from that day.
INSERT INTO Tax_Rates (tax_class, valid_from, rate)
VALUES (%(tax_class)s, %(valid_from)s, %(rate)s)
ON CONFLICT (tax_class, valid_from) DO NOTHING
RETURNING tax_class, valid_from, rate;

-- name: rate
-- One rate of a class, from a (real) day.
SELECT tax_class, valid_from, rate
FROM Tax_Rates
WHERE tax_class = %(tax_class)s AND valid_from = %(valid_from)s::date;

-- name: delete_rate
DELETE FROM Tax_Rates
WHERE tax_class = %(tax_class)s AND valid_from = %(valid_from)s::date
RETURNING tax_class, valid_from, rate;

-- name: class_choices
-- Every class with its rate in force today, by name: the choices of a SKU's tax class.
SELECT tax_class, name, stockline_tax_rate(tax_class, %(today)s::date) AS current_rate
FROM Tax_Classes
ORDER BY lower(name), tax_class;
