-- Queries of account creation.

-- name: customers_without_login
-- Customers with no customer user, whose cust_<id> username is still free.
SELECT c.customer_id, 'cust_' || c.customer_id AS username
FROM Customers AS c
WHERE NOT EXISTS (SELECT 1 FROM Users AS u WHERE u.customer_id = c.customer_id AND u.role = 'customer')
  AND NOT EXISTS (SELECT 1 FROM Users AS u WHERE lower(u.username) = 'cust_' || c.customer_id)
ORDER BY c.customer_id;

-- name: customers_blocked_by_username
-- Customers without a login whose cust_<id> username another user already holds.
SELECT count(*)::int AS blocked
FROM Customers AS c
WHERE NOT EXISTS (SELECT 1 FROM Users AS u WHERE u.customer_id = c.customer_id AND u.role = 'customer')
  AND EXISTS (SELECT 1 FROM Users AS u WHERE lower(u.username) = 'cust_' || c.customer_id);

-- name: create_login_stage
CREATE TEMP TABLE IF NOT EXISTS login_stage (
    customer_id integer, username text, password_hash text, must_change_password boolean
) ON COMMIT DELETE ROWS;

-- name: move_staged_logins
-- New customer users; a username taken meanwhile is skipped, not an error.
WITH inserted AS (
    INSERT INTO Users (customer_id, username, password_hash, role, must_change_password)
    SELECT customer_id, username, password_hash, 'customer', must_change_password FROM login_stage
    ON CONFLICT DO NOTHING
    RETURNING customer_id, username
)
SELECT username FROM inserted ORDER BY customer_id;

-- name: insert_staff_user
INSERT INTO Users (username, password_hash, role, must_change_password)
VALUES (%(username)s, %(password_hash)s, %(role)s, %(must_change)s)
RETURNING user_id;
