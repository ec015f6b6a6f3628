-- The staff's read-only stock views: batches with their SKU's stock, and the ledger.

-- name: inventory_page
-- Batches with their SKU's available stock, low-stock flag and incoming units (open purchase
-- orders, Incoming_Stock), filtered and sorted; one row always (the total, and the page's
-- columns NULL past the end).
-- filter: low_stock (stockline_low_stock), critical (on sale, available below half the
-- reorder level), expiring (sellable, expiring within %(expiring_by)s), expired (expired,
-- stock left), recent (received within 7 days).
WITH sku_stock AS (
    SELECT sku_id,
           coalesce(sum(quantity_on_hand)
                    FILTER (WHERE stockline_sellable(quantity_on_hand, expiry_date, %(sellable_after)s, quarantined)), 0)::int
           AS available
    FROM Inventory_Batches
    GROUP BY sku_id
), matching AS (
    SELECT b.batch_id, b.batch_no, b.expiry_date, b.quantity_on_hand, b.cost_price, b.received_at, b.quarantined,
           s.sku_id, s.sku_code, s.package_size, s.unit_type, s.reorder_level, p.product_id,
           p.name AS product_name, p.manufacturer, st.available, coalesce(inc.incoming, 0) AS incoming,
           stockline_low_stock(s.is_active AND p.is_active, st.available, s.reorder_level) AS low_stock
    FROM Inventory_Batches AS b
    JOIN Product_SKUs AS s USING (sku_id)
    JOIN Products AS p USING (product_id)
    JOIN sku_stock AS st USING (sku_id)
    LEFT JOIN Incoming_Stock AS inc USING (sku_id)
    WHERE (cardinality(%(patterns)s::text[]) = 0 OR NOT EXISTS (
              SELECT 1 FROM unnest(%(patterns)s::text[]) AS t (pattern)
              WHERE (p.name ILIKE t.pattern OR s.package_size ILIKE t.pattern OR b.batch_no ILIKE t.pattern
                         OR s.sku_code ILIKE t.pattern) IS NOT TRUE))
      AND (%(sku_id)s::int IS NULL OR b.sku_id = %(sku_id)s::int)
      AND CASE %(filter)s::text
            WHEN 'low_stock' THEN stockline_low_stock(s.is_active AND p.is_active, st.available, s.reorder_level)
            WHEN 'critical' THEN s.is_active AND p.is_active AND st.available * 2 < s.reorder_level
            WHEN 'expiring' THEN stockline_sellable(b.quantity_on_hand, b.expiry_date, %(sellable_after)s, b.quarantined)
                                 AND b.expiry_date <= %(expiring_by)s
            WHEN 'expired' THEN b.quantity_on_hand > 0 AND stockline_expired(b.expiry_date, %(today)s)
            WHEN 'recent' THEN b.received_at >= now() - interval '7 days'
            ELSE true
          END
)
SELECT (SELECT count(*) FROM matching)::int AS total_items, page.*
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (
    SELECT *
    FROM matching
    ORDER BY CASE WHEN %(sort)s::text = 'expiry' THEN expiry_date END,
             CASE WHEN %(sort)s::text = 'received' THEN received_at END DESC,
             CASE WHEN %(sort)s::text = 'quantity' THEN quantity_on_hand END,
             CASE WHEN %(sort)s::text = 'product' THEN lower(product_name) END,
             sku_id, expiry_date, batch_id
    LIMIT %(limit)s OFFSET %(offset)s
) AS page ON true;

-- name: movements_page
-- The ledger, newest first, filtered; one row always (the total; page columns NULL past the end).
WITH matching AS (
    SELECT m.movement_id, m.batch_id, m.quantity_delta, m.reason, m.order_id, m.user_id, m.note, m.created_at
    FROM Stock_Movements AS m
    JOIN Inventory_Batches AS b USING (batch_id)
    WHERE (%(batch_id)s::int IS NULL OR m.batch_id = %(batch_id)s::int)
      AND (%(sku_id)s::int IS NULL OR b.sku_id = %(sku_id)s::int)
      AND (%(order_id)s::bigint IS NULL OR m.order_id = %(order_id)s::bigint)
      AND (%(reason)s::text IS NULL OR m.reason = %(reason)s::text)
      AND (%(created_from)s::timestamptz IS NULL OR m.created_at >= %(created_from)s::timestamptz)
      AND (%(created_before)s::timestamptz IS NULL OR m.created_at < %(created_before)s::timestamptz)
)
SELECT (SELECT count(*) FROM matching)::int AS total_items, page.*
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (
    SELECT m.*, b.batch_no, b.sku_id, s.sku_code, p.name AS product_name, u.username
    FROM (SELECT * FROM matching ORDER BY created_at DESC, movement_id DESC
          LIMIT %(limit)s OFFSET %(offset)s) AS m
    JOIN Inventory_Batches AS b USING (batch_id)
    JOIN Product_SKUs AS s ON s.sku_id = b.sku_id
    JOIN Products AS p ON p.product_id = s.product_id
    LEFT JOIN Users AS u ON u.user_id = m.user_id
) AS page ON true
ORDER BY page.created_at DESC, page.movement_id DESC;
