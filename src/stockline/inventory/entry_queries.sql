-- Queries of the natural-language stock entry (stockline.inventory.entry_service). Read only.

-- name: entry_candidates
-- The active SKUs worth scoring for each line of a stock entry, in one statement for every
-- line: those whose product name or manufacturer contains one of the line's patterns
-- (escaped and wrapped in %...%; the pairs arrive as two arrays, pattern_lines[i] owning
-- patterns[i]) and those whose sku_code equals one of the line's tokens (lower case; the
-- pairs code_lines[i], codes[i]). Each distinct pattern is tried once per product however
-- many lines share it. At most per_line SKUs per line: code matches first, then those
-- matching the most patterns. One row per SKU with the lines it is a candidate for.
WITH wanted AS (
    SELECT w.line_no, w.pattern
    FROM unnest(%(pattern_lines)s::int[], %(patterns)s::text[]) AS w (line_no, pattern)
), named AS (
    SELECT t.pattern, p.product_id
    FROM (SELECT DISTINCT pattern FROM wanted) AS t
    JOIN Products AS p ON p.name ILIKE t.pattern OR p.manufacturer ILIKE t.pattern
    WHERE p.is_active
), hits AS (
    SELECT w.line_no, s.sku_id, count(*)::int AS hits
    FROM wanted AS w
    JOIN named AS n USING (pattern)
    JOIN Product_SKUs AS s ON s.product_id = n.product_id AND s.is_active
    GROUP BY w.line_no, s.sku_id
    UNION ALL
    SELECT c.line_no, s.sku_id, 1000 AS hits
    FROM unnest(%(code_lines)s::int[], %(codes)s::text[]) AS c (line_no, code)
    JOIN Product_SKUs AS s ON lower(s.sku_code) = c.code AND s.is_active
    JOIN Products AS p ON p.product_id = s.product_id AND p.is_active
), ranked AS (
    SELECT line_no, sku_id,
           row_number() OVER (PARTITION BY line_no ORDER BY sum(hits) DESC, sku_id) AS position
    FROM hits
    GROUP BY line_no, sku_id
)
SELECT s.sku_id, s.sku_code, s.package_size, s.unit_type, p.name AS product_name, p.manufacturer,
       array_agg(r.line_no ORDER BY r.line_no) AS line_nos
FROM ranked AS r
JOIN Product_SKUs AS s ON s.sku_id = r.sku_id
JOIN Products AS p ON p.product_id = s.product_id
WHERE r.position <= %(per_line)s
GROUP BY s.sku_id, p.product_id
ORDER BY s.sku_id;
