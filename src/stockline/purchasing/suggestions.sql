-- Reorder suggestions: the one reorder rule (purchasing/suggestions.py), read by the
-- reorder report (reporting) and by "draft purchase orders from suggestions".

-- name: reorder_suggestions
-- Active SKUs sold in the window (%(from)s on, %(window_days)s days) whose available and
-- incoming units (Incoming_Stock: open purchase orders) fall short of what sells in
-- %(cover_days)s days plus the lead time of the SKU's preferred (active) supplier, 0 without
-- one: daily rate = units sold / window days, need = rate x (cover days + lead time),
-- suggested quantity = need - available - incoming, rounded up. Days of cover = available /
-- daily rate. %(sku_ids)s NULL: every SKU. Least cover first; one row always (the totals;
-- page columns NULL past the end; %(limit)s NULL: every row).
WITH sold AS (
    SELECT oi.sku_id, sum(oi.quantity_ordered)::int AS units_sold
    FROM Orders AS o
    JOIN Order_Items AS oi USING (order_id)
    WHERE o.status <> 'cancelled' AND o.order_date >= %(from)s
      AND (%(sku_ids)s::int[] IS NULL OR oi.sku_id = ANY(%(sku_ids)s::int[]))
    GROUP BY oi.sku_id
), stock AS (
    SELECT b.sku_id, sum(b.quantity_on_hand)::int AS available
    FROM Inventory_Batches AS b
    WHERE b.sku_id IN (SELECT sku_id FROM sold)
      AND stockline_sellable(b.quantity_on_hand, b.expiry_date, %(sellable_after)s, b.quarantined)
    GROUP BY b.sku_id
), terms AS (
    SELECT sold.sku_id, sold.units_sold, coalesce(stock.available, 0) AS available,
           coalesce(inc.incoming, 0) AS incoming, sup.supplier_id, sup.name AS supplier_name,
           coalesce(sup.lead_time_days, 0) AS lead_time_days
    FROM sold
    LEFT JOIN stock USING (sku_id)
    LEFT JOIN Incoming_Stock AS inc USING (sku_id)
    LEFT JOIN Supplier_SKUs AS pref ON pref.sku_id = sold.sku_id AND pref.is_preferred
    LEFT JOIN Suppliers AS sup ON sup.supplier_id = pref.supplier_id AND sup.is_active
), matching AS (
    SELECT s.sku_id, s.sku_code, p.product_id, p.name AS product_name, p.manufacturer, s.package_size,
           s.unit_type, s.reorder_level, t.units_sold, t.available, t.incoming, t.lead_time_days,
           t.supplier_id, t.supplier_name,
           round(t.units_sold::numeric / %(window_days)s, 3) AS daily_rate,
           -- available / (units_sold / window_days), in integers until the one division
           round(t.available::numeric * %(window_days)s / t.units_sold, 1) AS days_of_cover,
           ceil((t.units_sold::numeric * (%(cover_days)s + t.lead_time_days)
                 - (t.available + t.incoming)::numeric * %(window_days)s) / %(window_days)s)::int
               AS suggested_quantity
    FROM terms AS t
    JOIN Product_SKUs AS s USING (sku_id)
    JOIN Products AS p USING (product_id)
    WHERE s.is_active AND p.is_active
      AND (t.available + t.incoming)::bigint * %(window_days)s
          < t.units_sold::bigint * (%(cover_days)s + t.lead_time_days)
)
SELECT totals.*, page.*
FROM (SELECT count(*)::int AS total_items, coalesce(sum(suggested_quantity), 0)::bigint AS total_suggested
      FROM matching) AS totals
LEFT JOIN (
    SELECT * FROM matching
    ORDER BY days_of_cover, sku_id
    LIMIT %(limit)s::bigint OFFSET %(offset)s::bigint
) AS page ON true
ORDER BY page.days_of_cover, page.sku_id;

-- name: lock_drafting
-- Serialises drafting orders from suggestions until commit, so a second run reads the
-- suggestions after the first's drafts count as incoming, and drafts nothing twice.
-- Advisory key class 0x504F53 ("POS").
SELECT pg_advisory_xact_lock(x'504F53'::int, 0);

-- name: insert_drafts
-- One draft per supplier of the wanted lines, each line at the supplier's cost for its SKU;
-- answers the new orders' ids with their suppliers and lines (costs as text, as the audit log
-- writes money).
WITH wanted AS (
    SELECT * FROM unnest(%(supplier_ids)s::int[], %(sku_ids)s::int[], %(quantities)s::int[])
                  WITH ORDINALITY AS w (supplier_id, sku_id, quantity, n)
), orders AS (
    INSERT INTO Purchase_Orders (supplier_id, note, created_by)
    SELECT supplier_id, %(note)s, %(user_id)s FROM wanted GROUP BY supplier_id ORDER BY supplier_id
    RETURNING po_id, supplier_id
), lines AS (
    INSERT INTO Purchase_Order_Lines (po_id, sku_id, quantity_ordered, unit_cost)
    SELECT orders.po_id, w.sku_id, w.quantity, ss.unit_cost
    FROM wanted AS w
    JOIN orders USING (supplier_id)
    JOIN Supplier_SKUs AS ss ON ss.supplier_id = w.supplier_id AND ss.sku_id = w.sku_id
    ORDER BY w.n
    RETURNING po_id, sku_id, quantity_ordered, unit_cost
)
SELECT orders.po_id, orders.supplier_id,
       (SELECT jsonb_agg(jsonb_build_object('sku_id', l.sku_id, 'quantity', l.quantity_ordered,
                                            'unit_cost', l.unit_cost::text) ORDER BY l.sku_id)
        FROM lines AS l WHERE l.po_id = orders.po_id) AS lines
FROM orders
ORDER BY orders.po_id;
