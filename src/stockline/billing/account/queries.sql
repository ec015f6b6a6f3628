-- Queries of a customer's account: what they owe, what is overdue, what the limit leaves.

-- name: account_summary
-- One customer's standing on %(today)s: payment terms and credit limit; the gross of orders
-- not yet invoiced; invoice balances split into what is owed (positive balances), what of
-- it is overdue, and unallocated credit (over-payments); exposure as the credit limit counts
-- it (stockline_customer_exposure, the one definition). No row: no such customer.
SELECT c.customer_id, c.name, c.payment_terms_days, c.credit_limit,
       stockline_customer_exposure(c.customer_id) AS exposure,
       coalesce(open_orders.gross, 0) AS open_orders_gross, coalesce(open_orders.n, 0)::int AS open_orders,
       coalesce(owed.owed, 0) AS invoices_owed, coalesce(owed.credit, 0) AS unallocated_credit,
       coalesce(owed.overdue, 0) AS overdue_amount, coalesce(owed.overdue_n, 0)::int AS overdue_invoices,
       owed.oldest_overdue_due_on
FROM Customers AS c
LEFT JOIN LATERAL (
    SELECT sum(o.total_amount + o.tax_amount) AS gross, count(*) AS n
    FROM Orders AS o
    WHERE o.customer_id = c.customer_id AND o.status IN ('pending', 'processed')
) AS open_orders ON true
LEFT JOIN LATERAL (
    SELECT sum(b.balance) FILTER (WHERE b.balance > 0) AS owed,
           -sum(b.balance) FILTER (WHERE b.balance < 0) AS credit,
           sum(b.balance) FILTER (WHERE b.balance > 0 AND b.due_on < %(today)s) AS overdue,
           count(*) FILTER (WHERE b.balance > 0 AND b.due_on < %(today)s) AS overdue_n,
           min(b.due_on) FILTER (WHERE b.balance > 0 AND b.due_on < %(today)s) AS oldest_overdue_due_on
    FROM (SELECT i.gross_amount - i.amount_paid - i.amount_credited AS balance, i.due_on
          FROM Invoices AS i
          WHERE i.customer_id = c.customer_id AND i.gross_amount <> i.amount_paid + i.amount_credited) AS b
) AS owed ON true
WHERE c.customer_id = %(customer_id)s;
