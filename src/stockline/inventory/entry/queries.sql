-- Queries of the natural-language stock entry (stockline.inventory.entry.service). Read only.

-- name: entry_candidates
-- The active SKUs worth scoring for each line of a stock entry, for every line in one
-- statement. A line sends stems (stem_lines[i] owns stems[i]): word stems (word_stems[i]
-- true: the first letters of its words, lower case) and detail stems (strengths as a name
-- spells them, "500 mg", and form stems). A product is a candidate for a line when its
-- name holds one of the line's word stems; candidates rank by the word stems found in the
-- name or manufacturer plus the detail stems found in the name, and the SKUs of the best
-- products_per_line products are returned. Each distinct word stem is compared with each
-- product once however many lines share it (strpos on lower case: no pg_trgm needed).
-- SKUs whose sku_code equals a token of the line (code_lines[i], codes[i]; as written,
-- upper or lower case, by the unique index) are candidates too. One row per SKU, with the
-- lines it is a candidate for.
WITH wanted AS (
    SELECT w.line_no, w.stem, w.is_word
    FROM unnest(%(stem_lines)s::int[], %(stems)s::text[], %(word_stems)s::boolean[]) AS w (line_no, stem, is_word)
), product_keys AS MATERIALIZED (
    SELECT product_id, lower(name) AS name_key, lower(coalesce(manufacturer, '')) AS maker_key
    FROM Products
    WHERE is_active
), word_matches AS (
    SELECT t.stem, k.product_id, strpos(k.name_key, t.stem) > 0 AS in_name
    FROM (SELECT DISTINCT stem FROM wanted WHERE is_word) AS t
    JOIN product_keys AS k ON strpos(k.name_key, t.stem) > 0 OR strpos(k.maker_key, t.stem) > 0
), named AS (
    SELECT w.line_no, m.product_id, count(*) AS word_hits
    FROM wanted AS w
    JOIN word_matches AS m ON m.stem = w.stem
    WHERE w.is_word
    GROUP BY w.line_no, m.product_id
    HAVING bool_or(m.in_name)
), ranked AS (
    SELECT n.line_no, n.product_id,
           row_number() OVER (PARTITION BY n.line_no
                              ORDER BY n.word_hits + count(d.stem) DESC, n.product_id) AS position
    FROM named AS n
    JOIN product_keys AS k ON k.product_id = n.product_id
    LEFT JOIN wanted AS d ON d.line_no = n.line_no AND NOT d.is_word AND strpos(k.name_key, d.stem) > 0
    GROUP BY n.line_no, n.product_id, n.word_hits
), candidates AS (
    SELECT r.line_no, s.sku_id
    FROM ranked AS r
    JOIN Product_SKUs AS s ON s.product_id = r.product_id AND s.is_active
    WHERE r.position <= %(products_per_line)s
    UNION
    SELECT c.line_no, s.sku_id
    FROM unnest(%(code_lines)s::int[], %(codes)s::text[]) AS c (line_no, code)
    JOIN Product_SKUs AS s ON s.sku_code = ANY (ARRAY[c.code, upper(c.code), lower(c.code)]) AND s.is_active
    JOIN Products AS p ON p.product_id = s.product_id AND p.is_active
)
SELECT s.sku_id, s.sku_code, s.package_size, s.unit_type, p.name AS product_name, p.manufacturer,
       array_agg(c.line_no ORDER BY c.line_no) AS line_nos
FROM candidates AS c
JOIN Product_SKUs AS s ON s.sku_id = c.sku_id
JOIN Products AS p ON p.product_id = s.product_id
GROUP BY s.sku_id, p.product_id
ORDER BY s.sku_id;
