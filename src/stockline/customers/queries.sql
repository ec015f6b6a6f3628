-- Queries of the customer and user back office. No query here ever returns password_hash.
-- The writes return the columns of the row the audit log records, as they became.

-- name: customers_page
-- Customers whose name or email contains the search pattern (NULL: all), by name, with how
-- many users and orders each has; always one row with the total (page columns NULL past the end).
WITH matching AS (
    SELECT customer_id, name
    FROM Customers
    WHERE %(pattern)s::text IS NULL OR name ILIKE %(pattern)s::text OR email ILIKE %(pattern)s::text
)
SELECT (SELECT count(*) FROM matching)::int AS total_items, page.*
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (
    SELECT c.customer_id, c.name, c.address, c.customer_type, c.email, c.phone, c.tax_id,
           c.payment_terms_days, c.credit_limit, c.created_at,
           (SELECT count(*) FROM Users AS u WHERE u.customer_id = c.customer_id)::int AS user_count,
           (SELECT count(*) FROM Orders AS o WHERE o.customer_id = c.customer_id)::int AS order_count
    FROM (SELECT customer_id FROM matching ORDER BY lower(name), customer_id
          LIMIT %(limit)s OFFSET %(offset)s) AS m
    JOIN Customers AS c USING (customer_id)
) AS page ON true
ORDER BY lower(page.name), page.customer_id;

-- name: customer
-- One customer with its user and order counts and its open invitations (oldest first).
SELECT c.customer_id, c.name, c.address, c.customer_type, c.email, c.phone, c.tax_id,
       c.payment_terms_days, c.credit_limit, c.created_at,
       (SELECT count(*) FROM Users AS u WHERE u.customer_id = c.customer_id)::int AS user_count,
       (SELECT count(*) FROM Orders AS o WHERE o.customer_id = c.customer_id)::int AS order_count,
       (SELECT coalesce(json_agg(json_build_object(
                   'invitation_id', i.invitation_id, 'customer_id', i.customer_id, 'email', i.email,
                   'invited_by', i.invited_by, 'created_at', i.created_at)
                ORDER BY i.created_at, i.invitation_id), '[]')
        FROM Customer_Invitations AS i WHERE i.customer_id = c.customer_id) AS invitations
FROM Customers AS c
WHERE c.customer_id = %(customer_id)s;

-- name: customer_users
-- A customer's users, oldest first.
SELECT u.user_id, u.username, u.role, u.customer_id, c.name AS customer_name, u.is_active,
       u.must_change_password, u.created_at, u.last_login_at, u.password_changed_at
FROM Users AS u
JOIN Customers AS c USING (customer_id)
WHERE u.customer_id = %(customer_id)s
ORDER BY u.user_id;

-- name: insert_customer
INSERT INTO Customers (name, address, customer_type, email, phone, tax_id, payment_terms_days, credit_limit)
VALUES (%(name)s, %(address)s, %(customer_type)s, %(email)s, %(phone)s, %(tax_id)s, %(payment_terms_days)s,
        %(credit_limit)s)
RETURNING customer_id, name, address, customer_type, email, phone, tax_id, payment_terms_days, credit_limit;

-- name: lock_customer
-- A customer about to be edited, locked, as it was.
SELECT customer_id, name, address, customer_type, email, phone, tax_id, payment_terms_days, credit_limit
FROM Customers
WHERE customer_id = %(customer_id)s
FOR UPDATE;

-- name: update_customer
-- Changes only the fields whose set_<field> flag is true (so null can clear a field).
UPDATE Customers
SET name = CASE WHEN %(set_name)s::bool THEN %(name)s::text ELSE name END,
    address = CASE WHEN %(set_address)s::bool THEN %(address)s::text ELSE address END,
    customer_type = CASE WHEN %(set_customer_type)s::bool THEN %(customer_type)s::text ELSE customer_type END,
    email = CASE WHEN %(set_email)s::bool THEN %(email)s::text ELSE email END,
    phone = CASE WHEN %(set_phone)s::bool THEN %(phone)s::text ELSE phone END,
    tax_id = CASE WHEN %(set_tax_id)s::bool THEN %(tax_id)s::text ELSE tax_id END,
    payment_terms_days = CASE WHEN %(set_payment_terms_days)s::bool THEN %(payment_terms_days)s::int
                              ELSE payment_terms_days END,
    credit_limit = CASE WHEN %(set_credit_limit)s::bool THEN %(credit_limit)s::numeric ELSE credit_limit END
WHERE customer_id = %(customer_id)s
RETURNING customer_id, name, address, customer_type, email, phone, tax_id, payment_terms_days, credit_limit;

-- name: lock_customer_for_delete
-- Locks the customer (a user or order being added for it meanwhile waits, through its foreign
-- key) and counts what would keep it from being deleted.
SELECT c.customer_id, c.name,
       (SELECT count(*) FROM Users AS u WHERE u.customer_id = c.customer_id)::int AS user_count,
       (SELECT count(*) FROM Orders AS o WHERE o.customer_id = c.customer_id)::int AS order_count
FROM Customers AS c
WHERE c.customer_id = %(customer_id)s
FOR UPDATE OF c;

-- name: delete_customer_rules
-- A customer's own pricing rules go with it (no order can name them: it has no orders).
DELETE FROM Pricing_Rules WHERE customer_id = %(customer_id)s
RETURNING rule_id, sku_id, customer_id, min_quantity, discount_percentage, valid_from, valid_to;

-- name: delete_customer
DELETE FROM Customers WHERE customer_id = %(customer_id)s
RETURNING customer_id, name, address, customer_type, email, phone;

-- name: customer_exists
SELECT EXISTS (SELECT 1 FROM Customers WHERE customer_id = %(customer_id)s) AS found;

-- name: users_page
-- Users matching every filter given (NULL: no filter), by username; always one row with the
-- total (page columns NULL past the end).
WITH matching AS (
    SELECT user_id, username
    FROM Users
    WHERE (%(role)s::text IS NULL OR role = %(role)s::text)
      AND (%(customer_id)s::int IS NULL OR customer_id = %(customer_id)s::int)
      AND (%(active)s::bool IS NULL OR is_active = %(active)s::bool)
      AND (%(pattern)s::text IS NULL OR username ILIKE %(pattern)s::text)
)
SELECT (SELECT count(*) FROM matching)::int AS total_items, page.*
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (
    SELECT u.user_id, u.username, u.role, u.customer_id, c.name AS customer_name, u.is_active,
           u.must_change_password, u.created_at, u.last_login_at, u.password_changed_at
    FROM (SELECT user_id FROM matching ORDER BY lower(username), user_id
          LIMIT %(limit)s OFFSET %(offset)s) AS m
    JOIN Users AS u USING (user_id)
    LEFT JOIN Customers AS c ON c.customer_id = u.customer_id
) AS page ON true
ORDER BY lower(page.username), page.user_id;

-- name: user
SELECT u.user_id, u.username, u.role, u.customer_id, c.name AS customer_name, u.is_active,
       u.must_change_password, u.created_at, u.last_login_at, u.password_changed_at
FROM Users AS u
LEFT JOIN Customers AS c ON c.customer_id = u.customer_id
WHERE u.user_id = %(user_id)s;

-- name: insert_user
INSERT INTO Users (customer_id, username, password_hash, role, must_change_password)
VALUES (%(customer_id)s, %(username)s, %(password_hash)s, %(role)s, %(must_change_password)s)
RETURNING user_id, username, role, customer_id, is_active, must_change_password;

-- name: lock_active_admins
-- Every active admin, locked in user_id order, before anything that could remove one: two
-- demotions or deactivations at once then run one after the other, and the second sees the
-- first's result (a row that stopped matching is left out when its lock is granted).
SELECT user_id
FROM Users
WHERE role = 'admin' AND is_active
ORDER BY user_id
FOR UPDATE;

-- name: lock_user
SELECT user_id, username, role, customer_id, is_active, must_change_password
FROM Users
WHERE user_id = %(user_id)s
FOR UPDATE;

-- name: reset_password
-- An admin's new password for a user: they must change it at next sign-in, and every token
-- they hold stops working.
UPDATE Users
SET password_hash = %(password_hash)s,
    password_changed_at = now(),
    must_change_password = true,
    token_version = token_version + 1
WHERE user_id = %(user_id)s
RETURNING user_id, username, role, customer_id, is_active, must_change_password;

-- name: set_user_active
-- Deactivation also revokes every token (token_version); reactivation needs a new sign-in
-- anyway, so it leaves the version alone.
UPDATE Users
SET is_active = %(active)s::bool,
    token_version = token_version + CASE WHEN is_active AND NOT %(active)s::bool THEN 1 ELSE 0 END
WHERE user_id = %(user_id)s
RETURNING user_id, username, role, customer_id, is_active, must_change_password;

-- name: set_user_role
-- A new role (and customer, for role customer); tokens issued under the old role stop working.
UPDATE Users
SET role = %(role)s::text,
    customer_id = %(customer_id)s::int,
    token_version = token_version
        + CASE WHEN role IS DISTINCT FROM %(role)s::text OR customer_id IS DISTINCT FROM %(customer_id)s::int
               THEN 1 ELSE 0 END
WHERE user_id = %(user_id)s
RETURNING user_id, username, role, customer_id, is_active, must_change_password;

-- name: user_for_identity
-- Sign-in with an identity provider (external_sign_in.py): the user this verified email is
-- linked to, else a user whose username is that email and who has no email yet (accounts
-- made by PharmAssist's Google sign-in were named by their email). Locked: the link is set
-- in this transaction.
SELECT user_id, username, role, customer_id, is_active, must_change_password, token_version, email
FROM Users
WHERE lower(email) = %(email)s OR (email IS NULL AND lower(username) = %(email)s)
ORDER BY (email IS NOT NULL) DESC
LIMIT 1
FOR UPDATE;

-- name: link_identity
UPDATE Users SET email = %(email)s, last_login_at = now() WHERE user_id = %(user_id)s;

-- name: usernames_taken
SELECT lower(username) AS username FROM Users WHERE lower(username) = ANY(%(candidates)s::text[]);

-- name: insert_identity_user
-- A user made by their first sign-in with an identity provider: no password of their own
-- (the hash is a marker no password verifies against), nothing to change at first sign-in.
INSERT INTO Users (customer_id, username, password_hash, role, must_change_password, email, last_login_at)
VALUES (%(customer_id)s, %(username)s, %(password_hash)s, %(role)s, false, %(email)s, now())
RETURNING user_id, username, role, customer_id, is_active, must_change_password, token_version, email;

-- name: take_invitation
-- An email's open invitation, used up by the sign-in it let in.
DELETE FROM Customer_Invitations WHERE email = %(email)s
RETURNING invitation_id, customer_id, email, invited_by, created_at;

-- name: invitations_of_customer
SELECT invitation_id, customer_id, email, invited_by, created_at
FROM Customer_Invitations
WHERE customer_id = %(customer_id)s
ORDER BY created_at, invitation_id;

-- name: email_in_use
-- Whether a user already answers to this email (linked, or named by it).
SELECT EXISTS (SELECT 1 FROM Users WHERE lower(email) = %(email)s OR lower(username) = %(email)s) AS found;

-- name: insert_invitation
INSERT INTO Customer_Invitations (customer_id, email, invited_by)
VALUES (%(customer_id)s, %(email)s, %(invited_by)s)
RETURNING invitation_id, customer_id, email, invited_by, created_at;

-- name: delete_invitation
DELETE FROM Customer_Invitations
WHERE invitation_id = %(invitation_id)s AND customer_id = %(customer_id)s
RETURNING invitation_id, customer_id, email, invited_by, created_at;
