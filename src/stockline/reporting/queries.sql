-- Queries of reporting: the stock and sales reports and the dashboard figures.
-- "Sellable", "expired" and "low stock" are stockline_sellable(), stockline_expired() and
-- stockline_low_stock() in db/schema.sql, with %(sellable_after)s and %(today)s from
-- stockline.kernel.expiry. Days are UTC calendar days; a day's orders are those with
-- %(from)s <= order_date < %(until)s, bounds the service computes at UTC midnight.
-- Sales figures count non-cancelled orders only; revenue = sale_price * quantity_ordered,
-- cost = unit_cost (the batch cost stored at sale) * quantity_ordered.
--
-- Every report is one statement: its totals (always one row, even past the last page) and
-- one page of rows (%(limit)s NULL: every row, for CSV exports). Its page columns are NULL
-- when the page is past the end.

-- name: low_stock
-- SKUs low on stock (on sale, available units below their reorder level): out of stock
-- first, then the smallest stock. Incoming: what open purchase orders still bring
-- (Incoming_Stock); a SKU on order stays low until the goods arrive, and shows it.
WITH stock AS (
    SELECT b.sku_id, sum(b.quantity_on_hand)::int AS available
    FROM Inventory_Batches AS b
    WHERE stockline_sellable(b.quantity_on_hand, b.expiry_date, %(sellable_after)s, b.quarantined)
    GROUP BY b.sku_id
), matching AS (
    SELECT s.sku_id, s.sku_code, p.product_id, p.name AS product_name, p.manufacturer, s.package_size,
           s.unit_type, coalesce(stock.available, 0) AS available, s.reorder_level,
           s.reorder_level - coalesce(stock.available, 0) AS shortfall, coalesce(inc.incoming, 0) AS incoming,
           greatest(s.reorder_level - coalesce(stock.available, 0) - coalesce(inc.incoming, 0), 0)
               AS shortfall_after_incoming
    FROM Product_SKUs AS s
    JOIN Products AS p USING (product_id)
    LEFT JOIN stock USING (sku_id)
    LEFT JOIN Incoming_Stock AS inc USING (sku_id)
    WHERE stockline_low_stock(s.is_active AND p.is_active, coalesce(stock.available, 0), s.reorder_level)
)
SELECT totals.*, page.*
FROM (SELECT count(*)::int AS total_items, coalesce(sum(shortfall), 0)::bigint AS total_shortfall
      FROM matching) AS totals
LEFT JOIN (
    SELECT * FROM matching
    ORDER BY available, shortfall DESC, sku_id
    LIMIT %(limit)s::bigint OFFSET %(offset)s::bigint
) AS page ON true
ORDER BY page.available, page.shortfall DESC, page.sku_id;

-- name: expiring
-- Sellable batches with stock that expire on or before %(expiring_until)s, soonest first,
-- each with its value at cost.
WITH matching AS (
    SELECT b.batch_id, b.batch_no, b.expiry_date, b.expiry_date - %(today)s::date AS days_left,
           b.quantity_on_hand, b.cost_price, b.quantity_on_hand * b.cost_price AS value_at_cost,
           s.sku_id, s.sku_code, p.product_id, p.name AS product_name, p.manufacturer, s.package_size,
           s.unit_type
    FROM Inventory_Batches AS b
    JOIN Product_SKUs AS s USING (sku_id)
    JOIN Products AS p USING (product_id)
    WHERE stockline_sellable(b.quantity_on_hand, b.expiry_date, %(sellable_after)s, b.quarantined)
      AND b.expiry_date <= %(expiring_until)s
)
SELECT totals.*, page.*
FROM (SELECT count(*)::int AS total_items, coalesce(sum(quantity_on_hand), 0)::bigint AS total_units,
             coalesce(sum(value_at_cost), 0) AS total_value
      FROM matching) AS totals
LEFT JOIN (
    SELECT * FROM matching
    ORDER BY expiry_date, batch_id
    LIMIT %(limit)s::bigint OFFSET %(offset)s::bigint
) AS page ON true
ORDER BY page.expiry_date, page.batch_id;

-- name: expired
-- Batches that still hold stock after their expiry date began: what is to be written off,
-- longest expired first, each with its value at cost.
WITH matching AS (
    SELECT b.batch_id, b.batch_no, b.expiry_date, %(today)s::date - b.expiry_date AS days_expired,
           b.quantity_on_hand, b.cost_price, b.quantity_on_hand * b.cost_price AS value_at_cost,
           s.sku_id, s.sku_code, p.product_id, p.name AS product_name, p.manufacturer, s.package_size,
           s.unit_type
    FROM Inventory_Batches AS b
    JOIN Product_SKUs AS s USING (sku_id)
    JOIN Products AS p USING (product_id)
    WHERE b.quantity_on_hand > 0 AND stockline_expired(b.expiry_date, %(today)s)
)
SELECT totals.*, page.*
FROM (SELECT count(*)::int AS total_items, coalesce(sum(quantity_on_hand), 0)::bigint AS total_units,
             coalesce(sum(value_at_cost), 0) AS total_value
      FROM matching) AS totals
LEFT JOIN (
    SELECT * FROM matching
    ORDER BY expiry_date, batch_id
    LIMIT %(limit)s::bigint OFFSET %(offset)s::bigint
) AS page ON true
ORDER BY page.expiry_date, page.batch_id;

-- name: stock_valuation
-- Stock on hand at cost per SKU (every SKU holding stock, sellable or not), of which
-- sellable, of which expired and of which quarantined (on hold, or recalled, whatever its
-- expiry); the largest value first. Totals over every such SKU. Each batch's value is worked
-- out once, into its SKU's sellable, expired or (inside the minimum shelf life, or on hold)
-- unsellable bucket.
WITH per_bucket AS (
    SELECT b.sku_id,
           CASE WHEN stockline_sellable(b.quantity_on_hand, b.expiry_date, %(sellable_after)s, b.quarantined) THEN 'sellable'
                WHEN stockline_expired(b.expiry_date, %(today)s) THEN 'expired' ELSE 'unsellable' END AS bucket,
           b.quarantined, count(*)::int AS batches, sum(b.quantity_on_hand)::bigint AS units,
           sum(b.quantity_on_hand * b.cost_price) AS value
    FROM Inventory_Batches AS b
    WHERE b.quantity_on_hand > 0
    GROUP BY 1, 2, 3
), per_sku AS (
    SELECT sku_id, sum(batches)::int AS batches, sum(units)::bigint AS units_on_hand, sum(value) AS value_at_cost,
           coalesce(sum(units) FILTER (WHERE bucket = 'sellable'), 0)::bigint AS sellable_units,
           coalesce(sum(value) FILTER (WHERE bucket = 'sellable'), 0) AS sellable_value,
           coalesce(sum(units) FILTER (WHERE bucket = 'expired'), 0)::bigint AS expired_units,
           coalesce(sum(value) FILTER (WHERE bucket = 'expired'), 0) AS expired_value,
           coalesce(sum(units) FILTER (WHERE quarantined), 0)::bigint AS quarantined_units,
           coalesce(sum(value) FILTER (WHERE quarantined), 0) AS quarantined_value
    FROM per_bucket
    GROUP BY sku_id
), matching AS (
    SELECT s.sku_id, s.sku_code, p.product_id, p.name AS product_name, p.manufacturer, s.package_size,
           s.unit_type, s.is_active AND p.is_active AS is_active, per_sku.batches, per_sku.units_on_hand,
           per_sku.value_at_cost, round(per_sku.value_at_cost / per_sku.units_on_hand, 2) AS average_unit_cost,
           per_sku.sellable_units, per_sku.sellable_value, per_sku.expired_units, per_sku.expired_value,
           per_sku.quarantined_units, per_sku.quarantined_value
    FROM per_sku
    JOIN Product_SKUs AS s USING (sku_id)
    JOIN Products AS p USING (product_id)
)
SELECT totals.*, page.*
FROM (SELECT count(*)::int AS total_items, coalesce(sum(units_on_hand), 0)::bigint AS total_units,
             coalesce(sum(value_at_cost), 0) AS total_value,
             coalesce(sum(sellable_value), 0) AS total_sellable_value,
             coalesce(sum(expired_value), 0) AS total_expired_value,
             coalesce(sum(quarantined_value), 0) AS total_quarantined_value
      FROM matching) AS totals
LEFT JOIN (
    SELECT * FROM matching
    ORDER BY value_at_cost DESC, sku_id
    LIMIT %(limit)s::bigint OFFSET %(offset)s::bigint
) AS page ON true
ORDER BY page.value_at_cost DESC, page.sku_id;

-- name: loss_making_sales
-- Order items of non-cancelled orders sold below their unit cost, placed in
-- [%(from)s, %(until)s) (either bound NULL: open), newest first. Names are joined to the
-- page's rows only.
WITH matching AS (
    SELECT oi.order_item_id, o.order_id, o.order_date, o.status, o.customer_id, oi.sku_id, oi.batch_id,
           oi.quantity_ordered AS quantity, oi.base_price, oi.discount_percentage, oi.pricing_rule_id,
           oi.sale_price, oi.unit_cost, oi.unit_cost - oi.sale_price AS loss_per_unit,
           (oi.unit_cost - oi.sale_price) * oi.quantity_ordered AS loss
    FROM Order_Items AS oi
    JOIN Orders AS o ON o.order_id = oi.order_id
    WHERE o.status <> 'cancelled' AND oi.sale_price < oi.unit_cost
      AND (%(from)s::timestamptz IS NULL OR o.order_date >= %(from)s::timestamptz)
      AND (%(until)s::timestamptz IS NULL OR o.order_date < %(until)s::timestamptz)
)
SELECT totals.*, page.*
FROM (SELECT count(*)::int AS total_items, coalesce(sum(quantity), 0)::bigint AS total_units,
             coalesce(sum(loss), 0) AS total_loss
      FROM matching) AS totals
LEFT JOIN (
    SELECT m.order_item_id, m.order_id, m.order_date, m.status, m.customer_id, c.name AS customer_name,
           m.sku_id, s.sku_code, p.name AS product_name, m.batch_id,
           -- by key, row by row: the planner cannot know how few items sell below cost and
           -- would otherwise hash every batch
           (SELECT b.batch_no FROM Inventory_Batches AS b WHERE b.batch_id = m.batch_id) AS batch_no,
           m.quantity, m.base_price, m.discount_percentage, m.pricing_rule_id, m.sale_price, m.unit_cost,
           m.loss_per_unit, m.loss
    FROM (SELECT * FROM matching
          ORDER BY order_date DESC, order_id DESC, order_item_id
          LIMIT %(limit)s::bigint OFFSET %(offset)s::bigint) AS m
    JOIN Customers AS c ON c.customer_id = m.customer_id
    JOIN Product_SKUs AS s ON s.sku_id = m.sku_id
    JOIN Products AS p ON p.product_id = s.product_id
) AS page ON true
ORDER BY page.order_date DESC, page.order_id DESC, page.order_item_id;

-- name: dashboard_stats
-- Every dashboard figure in one statement. Sales per UTC day over every non-cancelled order
-- give the all-time totals, the daily series (%(day_count)s days from %(days_from)s) and the
-- weekly one (%(week_count)s ISO weeks, Mondays from %(weeks_from)s); one row per order and
-- SKU sold since %(top_from)s gives the top tens. Money leaves as text so it keeps its exact
-- value through JSON. The money figures: receivables outstanding now (the positive balances
-- of open invoices, read from invoices_open_idx), of which overdue (due before %(today)s),
-- and this month's (%(month_from)s to %(today)s) invoices and credit notes by issue day
-- (invoices_issued_idx, credit_notes_issued_idx): their net, and the tax net of credit notes.
WITH per_day AS (
    SELECT (o.order_date AT TIME ZONE 'UTC')::date AS day, sum(oi.sale_price * oi.quantity_ordered) AS revenue,
           sum((oi.sale_price - oi.unit_cost) * oi.quantity_ordered) AS profit
    FROM Orders AS o
    JOIN Order_Items AS oi USING (order_id)
    WHERE o.status <> 'cancelled'
    GROUP BY 1
), per_week AS (
    -- an ISO week starts on Monday (isodow 1)
    SELECT day - (extract(isodow FROM day)::int - 1) AS week_start, sum(revenue) AS revenue,
           sum(profit) AS profit
    FROM per_day
    WHERE day >= %(weeks_from)s
    GROUP BY 1
), days AS (
    SELECT %(days_from)s::date + i AS day
    FROM generate_series(0, %(day_count)s - 1) AS i
), weeks AS (
    SELECT %(weeks_from)s::date + 7 * i AS week_start
    FROM generate_series(0, %(week_count)s - 1) AS i
), lines AS (
    -- one row per order and SKU (a line may draw from several batches)
    SELECT o.order_id, o.customer_id, oi.sku_id, sum(oi.quantity_ordered) AS units,
           sum(oi.sale_price * oi.quantity_ordered) AS revenue,
           sum((oi.sale_price - oi.unit_cost) * oi.quantity_ordered) AS profit
    FROM Orders AS o
    JOIN Order_Items AS oi USING (order_id)
    WHERE o.status <> 'cancelled' AND o.order_date >= %(top_from)s
    GROUP BY o.order_id, oi.sku_id
), top_skus AS (
    SELECT sku_id, sum(revenue) AS revenue, sum(profit) AS profit, sum(units)::bigint AS units,
           count(*)::int AS orders
    FROM lines
    GROUP BY sku_id
    ORDER BY revenue DESC, sku_id
    LIMIT %(top_count)s
), top_buyers AS (
    SELECT customer_id, sum(revenue) AS revenue, sum(profit) AS profit, sum(units)::bigint AS units,
           count(DISTINCT order_id)::int AS orders
    FROM lines
    GROUP BY customer_id
    ORDER BY revenue DESC, customer_id
    LIMIT %(top_count)s
), stock AS (
    SELECT b.sku_id, sum(b.quantity_on_hand)::int AS available
    FROM Inventory_Batches AS b
    WHERE stockline_sellable(b.quantity_on_hand, b.expiry_date, %(sellable_after)s, b.quarantined)
    GROUP BY b.sku_id
)
SELECT totals.total_revenue, totals.total_profit, receivables.receivables_outstanding,
       receivables.receivables_overdue, month_invoiced.invoiced_net AS invoiced_net_this_month,
       month_credited.credited_net AS credited_net_this_month,
       month_invoiced.invoiced_tax - month_credited.credited_tax AS tax_this_month,
       (SELECT count(*) FROM Orders WHERE status <> 'cancelled')::bigint AS total_orders,
       (SELECT count(*) FROM Inventory_Batches)::bigint AS total_batches,
       (SELECT count(*) FROM Inventory_Batches AS b
        WHERE stockline_sellable(b.quantity_on_hand, b.expiry_date, %(sellable_after)s, b.quarantined)
          AND b.expiry_date <= %(expiring_until)s)::int AS expiring_soon,
       (SELECT count(*)
        FROM Product_SKUs AS s
        JOIN Products AS p USING (product_id)
        LEFT JOIN stock USING (sku_id)
        WHERE stockline_low_stock(s.is_active AND p.is_active, coalesce(stock.available, 0),
                                  s.reorder_level))::int AS low_stock_count,
       (SELECT json_agg(json_build_object('day', days.day, 'revenue', coalesce(per_day.revenue, 0)::text,
                                          'profit', coalesce(per_day.profit, 0)::text) ORDER BY days.day)
        FROM days LEFT JOIN per_day USING (day)) AS daily,
       (SELECT json_agg(json_build_object('week_start', weeks.week_start,
                                          'revenue', coalesce(per_week.revenue, 0)::text,
                                          'profit', coalesce(per_week.profit, 0)::text) ORDER BY weeks.week_start)
        FROM weeks LEFT JOIN per_week USING (week_start)) AS weekly,
       (SELECT coalesce(json_agg(json_build_object(
                   'sku_id', t.sku_id, 'sku_code', s.sku_code, 'product_id', p.product_id,
                   'product_name', p.name, 'package_size', s.package_size, 'revenue', t.revenue::text,
                   'profit', t.profit::text, 'units', t.units, 'orders', t.orders)
                   ORDER BY t.revenue DESC, t.sku_id), '[]')
        FROM top_skus AS t
        JOIN Product_SKUs AS s USING (sku_id)
        JOIN Products AS p USING (product_id)) AS top_products,
       (SELECT coalesce(json_agg(json_build_object(
                   'customer_id', t.customer_id, 'name', c.name, 'revenue', t.revenue::text,
                   'profit', t.profit::text, 'units', t.units, 'orders', t.orders)
                   ORDER BY t.revenue DESC, t.customer_id), '[]')
        FROM top_buyers AS t
        JOIN Customers AS c USING (customer_id)) AS top_customers
FROM (SELECT coalesce(sum(revenue), 0) AS total_revenue, coalesce(sum(profit), 0) AS total_profit
      FROM per_day) AS totals
CROSS JOIN (
    SELECT coalesce(sum(i.gross_amount - i.amount_paid - i.amount_credited), 0) AS receivables_outstanding,
           coalesce(sum(i.gross_amount - i.amount_paid - i.amount_credited)
                    FILTER (WHERE i.due_on < %(today)s::date), 0) AS receivables_overdue
    FROM Invoices AS i
    WHERE i.gross_amount <> i.amount_paid + i.amount_credited
      AND i.gross_amount > i.amount_paid + i.amount_credited
) AS receivables
CROSS JOIN (
    SELECT coalesce(sum(i.net_amount), 0) AS invoiced_net, coalesce(sum(i.tax_amount), 0) AS invoiced_tax
    FROM Invoices AS i
    WHERE i.issued_on BETWEEN %(month_from)s::date AND %(today)s::date
) AS month_invoiced
CROSS JOIN (
    SELECT coalesce(sum(n.net_amount), 0) AS credited_net, coalesce(sum(n.tax_amount), 0) AS credited_tax
    FROM Credit_Notes AS n
    WHERE n.issued_on BETWEEN %(month_from)s::date AND %(today)s::date
) AS month_credited;

-- name: audit_entries
-- The audit log (db/schema.sql: Audit_Log), newest first: the entries matching every filter
-- given (NULL: no filter; the actor is a username, any case; %(since)s inclusive, %(until)s
-- exclusive), older than %(before_id)s when given (keyset pages), at most %(limit)s.
SELECT audit_id, occurred_at, actor_user_id, actor_username, action, entity_type, entity_id, before, after
FROM Audit_Log
WHERE (%(actor)s::text IS NULL OR lower(actor_username) = lower(%(actor)s::text))
  AND (%(action)s::text IS NULL OR action = %(action)s::text)
  AND (%(entity_type)s::text IS NULL OR entity_type = %(entity_type)s::text)
  AND (%(entity_id)s::bigint IS NULL OR entity_id = %(entity_id)s::bigint)
  AND (%(since)s::timestamptz IS NULL OR occurred_at >= %(since)s::timestamptz)
  AND (%(until)s::timestamptz IS NULL OR occurred_at < %(until)s::timestamptz)
  AND (%(before_id)s::bigint IS NULL OR audit_id < %(before_id)s::bigint)
ORDER BY audit_id DESC
LIMIT %(limit)s;

-- name: receivables
-- Money reports (issue 17): aged receivables, revenue net of credit notes, tax collected per
-- rate, over the money side's tables (db/schema.sql). Money is NUMERIC throughout, days
-- are UTC calendar days, and each report is one statement like the reports above.
--
-- Aged receivables as of %(as_of)s, one row per customer owing or owed anything on that day.
-- An invoice counts once issued on or before the day, a payment once paid (paid_on) on or
-- before it, a credit note once issued on or before it, so a past day's report reads the
-- same whenever it is run. Balance = gross - paid - credited. A positive balance is aged by
-- days past its due date: due that day or later is current, then 1-30, 31-60, 61-90, over
-- 90; a negative one (an over-payment) is unallocated credit, kept out of the buckets. Only
-- an invoice open now, or paid or credited after the day, can have been open on it (one
-- settled now and untouched since was settled then), so the work is the open invoices.
-- receivable_invoices writes the same balance and buckets for one customer's invoices;
-- tests/test_finance_reports.py checks that the two agree. Largest outstanding first.
WITH moved_after AS (
    SELECT p.invoice_id FROM Payments AS p WHERE p.paid_on > %(as_of)s::date
    UNION
    SELECT n.invoice_id FROM Credit_Notes AS n WHERE n.issued_on > %(as_of)s::date
), candidates AS (
    SELECT i.invoice_id FROM Invoices AS i WHERE i.gross_amount <> i.amount_paid + i.amount_credited
    UNION
    SELECT invoice_id FROM moved_after
), paid AS (
    SELECT p.invoice_id, sum(p.amount) AS amount
    FROM Payments AS p
    WHERE p.invoice_id IN (SELECT invoice_id FROM candidates) AND p.paid_on <= %(as_of)s::date
    GROUP BY p.invoice_id
), credited AS (
    SELECT n.invoice_id, sum(n.gross_amount) AS amount
    FROM Credit_Notes AS n
    WHERE n.invoice_id IN (SELECT invoice_id FROM candidates) AND n.issued_on <= %(as_of)s::date
    GROUP BY n.invoice_id
), balances AS MATERIALIZED (
    SELECT i.customer_id,
           i.gross_amount - coalesce(paid.amount, 0) - coalesce(credited.amount, 0) AS balance,
           %(as_of)s::date - i.due_on AS days_past_due
    FROM Invoices AS i
    LEFT JOIN paid USING (invoice_id)
    LEFT JOIN credited USING (invoice_id)
    WHERE i.invoice_id IN (SELECT invoice_id FROM candidates) AND i.issued_on <= %(as_of)s::date
), aged AS (
    SELECT customer_id, balance,
           CASE WHEN balance < 0 THEN 'credit'
                WHEN days_past_due <= 0 THEN 'current'
                WHEN days_past_due <= 30 THEN 'days_1_30'
                WHEN days_past_due <= 60 THEN 'days_31_60'
                WHEN days_past_due <= 90 THEN 'days_61_90'
                ELSE 'days_over_90' END AS bucket
    FROM balances
    WHERE balance <> 0
), per_customer AS (
    SELECT customer_id,
           coalesce(sum(balance) FILTER (WHERE bucket = 'current'), 0) AS current,
           coalesce(sum(balance) FILTER (WHERE bucket = 'days_1_30'), 0) AS days_1_30,
           coalesce(sum(balance) FILTER (WHERE bucket = 'days_31_60'), 0) AS days_31_60,
           coalesce(sum(balance) FILTER (WHERE bucket = 'days_61_90'), 0) AS days_61_90,
           coalesce(sum(balance) FILTER (WHERE bucket = 'days_over_90'), 0) AS days_over_90,
           coalesce(sum(balance) FILTER (WHERE bucket <> 'credit'), 0) AS outstanding,
           coalesce(-sum(balance) FILTER (WHERE bucket = 'credit'), 0) AS unallocated_credit,
           count(*) FILTER (WHERE bucket <> 'credit')::int AS open_invoices
    FROM aged
    GROUP BY customer_id
), matching AS (
    SELECT pc.customer_id, c.name AS customer_name, c.credit_limit, c.payment_terms_days, pc.current,
           pc.days_1_30, pc.days_31_60, pc.days_61_90, pc.days_over_90, pc.outstanding, pc.unallocated_credit,
           pc.open_invoices
    FROM per_customer AS pc
    JOIN Customers AS c USING (customer_id)
)
SELECT totals.*, page.*
FROM (SELECT count(*)::int AS total_items, coalesce(sum(current), 0) AS total_current,
             coalesce(sum(days_1_30), 0) AS total_days_1_30, coalesce(sum(days_31_60), 0) AS total_days_31_60,
             coalesce(sum(days_61_90), 0) AS total_days_61_90,
             coalesce(sum(days_over_90), 0) AS total_days_over_90,
             coalesce(sum(outstanding), 0) AS total_outstanding,
             coalesce(sum(unallocated_credit), 0) AS total_unallocated_credit,
             coalesce(sum(open_invoices), 0)::int AS total_open_invoices
      FROM matching) AS totals
LEFT JOIN (
    SELECT * FROM matching
    ORDER BY outstanding DESC, customer_id
    LIMIT %(limit)s::bigint OFFSET %(offset)s::bigint
) AS page ON true
ORDER BY page.outstanding DESC, page.customer_id;

-- name: receivable_invoices
-- One customer's part of the aged receivables as of %(as_of)s: each of their invoices with a
-- balance on that day (the rules of `receivables`, written the same way), with what had been
-- paid and credited by then, days past due and bucket ('credit' for an over-payment, whose
-- days past due are NULL), earliest due first; the customer's aging totals and the sums of
-- the invoices' columns (total_balance: owed less over-paid); and the customer
-- (customer_exists false: no such customer).
WITH candidates AS (
    SELECT i.invoice_id
    FROM Invoices AS i
    WHERE i.customer_id = %(customer_id)s AND i.issued_on <= %(as_of)s::date
      AND (i.gross_amount <> i.amount_paid + i.amount_credited
           OR EXISTS (SELECT 1 FROM Payments AS p
                      WHERE p.invoice_id = i.invoice_id AND p.paid_on > %(as_of)s::date)
           OR EXISTS (SELECT 1 FROM Credit_Notes AS n
                      WHERE n.invoice_id = i.invoice_id AND n.issued_on > %(as_of)s::date))
), paid AS (
    SELECT p.invoice_id, sum(p.amount) AS amount
    FROM Payments AS p
    WHERE p.invoice_id IN (SELECT invoice_id FROM candidates) AND p.paid_on <= %(as_of)s::date
    GROUP BY p.invoice_id
), credited AS (
    SELECT n.invoice_id, sum(n.gross_amount) AS amount
    FROM Credit_Notes AS n
    WHERE n.invoice_id IN (SELECT invoice_id FROM candidates) AND n.issued_on <= %(as_of)s::date
    GROUP BY n.invoice_id
), balances AS MATERIALIZED (
    SELECT i.invoice_id, i.invoice_no, i.order_id, i.issued_on, i.due_on, i.gross_amount,
           coalesce(paid.amount, 0) AS amount_paid, coalesce(credited.amount, 0) AS amount_credited,
           i.gross_amount - coalesce(paid.amount, 0) - coalesce(credited.amount, 0) AS balance,
           %(as_of)s::date - i.due_on AS days_past_due
    FROM Invoices AS i
    LEFT JOIN paid USING (invoice_id)
    LEFT JOIN credited USING (invoice_id)
    WHERE i.invoice_id IN (SELECT invoice_id FROM candidates)
), matching AS (
    SELECT invoice_id, invoice_no, order_id, issued_on, due_on, gross_amount, amount_paid, amount_credited,
           balance, CASE WHEN balance < 0 THEN NULL ELSE days_past_due END AS days_past_due,
           CASE WHEN balance < 0 THEN 'credit'
                WHEN days_past_due <= 0 THEN 'current'
                WHEN days_past_due <= 30 THEN 'days_1_30'
                WHEN days_past_due <= 60 THEN 'days_31_60'
                WHEN days_past_due <= 90 THEN 'days_61_90'
                ELSE 'days_over_90' END AS bucket
    FROM balances
    WHERE balance <> 0
)
SELECT c.customer_id IS NOT NULL AS customer_exists, c.name AS customer_name, c.credit_limit,
       c.payment_terms_days, totals.*, page.*
FROM (SELECT count(*)::int AS total_items,
             coalesce(sum(balance) FILTER (WHERE bucket = 'current'), 0) AS total_current,
             coalesce(sum(balance) FILTER (WHERE bucket = 'days_1_30'), 0) AS total_days_1_30,
             coalesce(sum(balance) FILTER (WHERE bucket = 'days_31_60'), 0) AS total_days_31_60,
             coalesce(sum(balance) FILTER (WHERE bucket = 'days_61_90'), 0) AS total_days_61_90,
             coalesce(sum(balance) FILTER (WHERE bucket = 'days_over_90'), 0) AS total_days_over_90,
             coalesce(sum(balance) FILTER (WHERE bucket <> 'credit'), 0) AS total_outstanding,
             coalesce(-sum(balance) FILTER (WHERE bucket = 'credit'), 0) AS total_unallocated_credit,
             count(*) FILTER (WHERE bucket <> 'credit')::int AS total_open_invoices,
             coalesce(sum(gross_amount), 0) AS total_gross_amount,
             coalesce(sum(amount_paid), 0) AS total_amount_paid,
             coalesce(sum(amount_credited), 0) AS total_amount_credited,
             coalesce(sum(balance), 0) AS total_balance
      FROM matching) AS totals
LEFT JOIN Customers AS c ON c.customer_id = %(customer_id)s
LEFT JOIN (
    SELECT * FROM matching
    ORDER BY due_on, invoice_id
    LIMIT %(limit)s::bigint OFFSET %(offset)s::bigint
) AS page ON true
ORDER BY page.due_on, page.invoice_id;

-- name: revenue_net
-- Revenue net of credit notes per period (%(period)s: day, month or quarter, each
-- %(step)s long, labelled by to_char's %(label)s) from %(date_from)s to %(date_to)s, both
-- included: every period of the range, empty ones zero, oldest first, first_day and
-- last_day being the part of the period inside the range. Invoices count on their issue
-- day, credit notes on theirs (not their invoice's), so a credit note reduces the period it
-- was issued in. Net revenue = invoiced net - credited net; tax and gross likewise net.
WITH periods AS (
    SELECT s::date AS period_start
    FROM generate_series(date_trunc(%(period)s::text, %(date_from)s::timestamp), %(date_to)s::timestamp,
                         %(step)s::interval) AS s
), invoiced AS (
    SELECT date_trunc(%(period)s::text, i.issued_on::timestamp)::date AS period_start,
           count(*)::int AS invoices, sum(i.net_amount) AS net, sum(i.tax_amount) AS tax
    FROM Invoices AS i
    WHERE i.issued_on BETWEEN %(date_from)s::date AND %(date_to)s::date
    GROUP BY 1
), credited AS (
    SELECT date_trunc(%(period)s::text, n.issued_on::timestamp)::date AS period_start,
           count(*)::int AS credit_notes, sum(n.net_amount) AS net, sum(n.tax_amount) AS tax
    FROM Credit_Notes AS n
    WHERE n.issued_on BETWEEN %(date_from)s::date AND %(date_to)s::date
    GROUP BY 1
), matching AS (
    SELECT p.period_start, to_char(p.period_start, %(label)s::text) AS period,
           greatest(p.period_start, %(date_from)s::date) AS first_day,
           least((p.period_start + %(step)s::interval)::date - 1, %(date_to)s::date) AS last_day,
           coalesce(i.invoices, 0) AS invoices, coalesce(i.net, 0) AS invoiced_net,
           coalesce(c.credit_notes, 0) AS credit_notes, coalesce(c.net, 0) AS credited_net,
           coalesce(i.net, 0) - coalesce(c.net, 0) AS net_revenue,
           coalesce(i.tax, 0) - coalesce(c.tax, 0) AS tax,
           coalesce(i.net, 0) + coalesce(i.tax, 0) - coalesce(c.net, 0) - coalesce(c.tax, 0) AS gross
    FROM periods AS p
    LEFT JOIN invoiced AS i USING (period_start)
    LEFT JOIN credited AS c USING (period_start)
)
SELECT totals.*, page.*
FROM (SELECT count(*)::int AS total_items, coalesce(sum(invoices), 0)::int AS total_invoices,
             coalesce(sum(invoiced_net), 0) AS total_invoiced_net,
             coalesce(sum(credit_notes), 0)::int AS total_credit_notes,
             coalesce(sum(credited_net), 0) AS total_credited_net,
             coalesce(sum(net_revenue), 0) AS total_net_revenue, coalesce(sum(tax), 0) AS total_tax,
             coalesce(sum(gross), 0) AS total_gross
      FROM matching) AS totals
LEFT JOIN (
    SELECT * FROM matching
    ORDER BY period_start
    LIMIT %(limit)s::bigint OFFSET %(offset)s::bigint
) AS page ON true
ORDER BY page.period_start;

-- name: tax_collected
-- Tax per period (%(period)s: month or quarter) and rate from %(date_from)s to %(date_to)s,
-- both included, for a VAT return: the net and tax of invoice lines (on their invoice's
-- issue day) less those of credit note lines (on their credit note's issue day), exact sums
-- of the amounts stored per line. A (period, rate) with any line is a row, so a rate with
-- only credit notes in a period shows, negative. Oldest period first, then lowest rate;
-- the totals per rate (JSON, money as text so it keeps its exact value) and overall.
WITH lines AS (
    SELECT date_trunc(%(period)s::text, i.issued_on::timestamp)::date AS period_start, l.tax_rate,
           l.net_amount AS invoiced_net, l.tax_amount AS invoiced_tax,
           0::numeric AS credited_net, 0::numeric AS credited_tax
    FROM Invoices AS i
    JOIN Invoice_Lines AS l USING (invoice_id)
    WHERE i.issued_on BETWEEN %(date_from)s::date AND %(date_to)s::date
    UNION ALL
    SELECT date_trunc(%(period)s::text, n.issued_on::timestamp)::date, l.tax_rate, 0, 0, l.net_amount,
           l.tax_amount
    FROM Credit_Notes AS n
    JOIN Credit_Note_Lines AS l USING (credit_note_id)
    WHERE n.issued_on BETWEEN %(date_from)s::date AND %(date_to)s::date
), matching AS (
    SELECT period_start, to_char(period_start, %(label)s::text) AS period,
           greatest(period_start, %(date_from)s::date) AS first_day,
           least((period_start + %(step)s::interval)::date - 1, %(date_to)s::date) AS last_day,
           tax_rate, sum(invoiced_net) AS invoiced_net, sum(invoiced_tax) AS invoiced_tax,
           sum(credited_net) AS credited_net, sum(credited_tax) AS credited_tax,
           sum(invoiced_net) - sum(credited_net) AS taxable_net, sum(invoiced_tax) - sum(credited_tax) AS tax
    FROM lines
    GROUP BY period_start, tax_rate
), per_rate AS (
    SELECT tax_rate, sum(invoiced_net) AS invoiced_net, sum(invoiced_tax) AS invoiced_tax,
           sum(credited_net) AS credited_net, sum(credited_tax) AS credited_tax,
           sum(taxable_net) AS taxable_net, sum(tax) AS tax
    FROM matching
    GROUP BY tax_rate
)
SELECT totals.*, page.*
FROM (SELECT count(*)::int AS total_items, coalesce(sum(invoiced_net), 0) AS total_invoiced_net,
             coalesce(sum(invoiced_tax), 0) AS total_invoiced_tax,
             coalesce(sum(credited_net), 0) AS total_credited_net,
             coalesce(sum(credited_tax), 0) AS total_credited_tax,
             coalesce(sum(taxable_net), 0) AS total_taxable_net, coalesce(sum(tax), 0) AS total_tax,
             (SELECT coalesce(json_agg(json_build_object(
                         'tax_rate', r.tax_rate::text, 'invoiced_net', r.invoiced_net::text,
                         'invoiced_tax', r.invoiced_tax::text, 'credited_net', r.credited_net::text,
                         'credited_tax', r.credited_tax::text, 'taxable_net', r.taxable_net::text,
                         'tax', r.tax::text) ORDER BY r.tax_rate), '[]')
              FROM per_rate AS r) AS rate_totals
      FROM matching) AS totals
LEFT JOIN (
    SELECT * FROM matching
    ORDER BY period_start, tax_rate
    LIMIT %(limit)s::bigint OFFSET %(offset)s::bigint
) AS page ON true
ORDER BY page.period_start, page.tax_rate;
