-- Queries of authentication.

-- name: user_for_login
SELECT user_id, username, password_hash, role, customer_id, is_active, must_change_password,
       token_version
FROM Users
WHERE lower(username) = lower(%(username)s);

-- name: recent_failures
-- Failed logins of a username inside the lockout window, and when the oldest one leaves it.
SELECT count(*)::int AS failures,
       min(failed_at) + make_interval(secs => %(window_seconds)s) AS window_ends
FROM Login_Failures
WHERE username = lower(%(username)s)
  AND failed_at > now() - make_interval(secs => %(window_seconds)s);

-- name: record_failure
INSERT INTO Login_Failures (username) VALUES (lower(%(username)s));

-- name: clear_failures
-- After a successful login; old rows of every username go too, so the table stays small.
DELETE FROM Login_Failures
WHERE username = lower(%(username)s)
   OR failed_at < now() - make_interval(secs => %(window_seconds)s);

-- name: mark_login
UPDATE Users SET last_login_at = now() WHERE user_id = %(user_id)s;

-- name: rehash_password
UPDATE Users SET password_hash = %(password_hash)s WHERE user_id = %(user_id)s;

-- name: user_state
-- What every authenticated request checks: is the token still the user's current one.
SELECT user_id, username, role, customer_id, is_active, must_change_password, token_version
FROM Users
WHERE user_id = %(user_id)s;

-- name: password_hash_of
SELECT password_hash FROM Users WHERE user_id = %(user_id)s AND is_active FOR UPDATE;

-- name: change_password
-- New hash; earlier tokens stop working (token_version) and the must-change flag clears.
UPDATE Users
SET password_hash = %(password_hash)s,
    password_changed_at = now(),
    must_change_password = false,
    token_version = token_version + 1
WHERE user_id = %(user_id)s
RETURNING token_version;
