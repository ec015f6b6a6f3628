-- Queries of authentication.

-- name: user_for_login
SELECT user_id, username, password_hash, role, customer_id, is_active, must_change_password,
       token_version
FROM Users
WHERE lower(username) = lower(%(username)s);

-- name: count_attempt
-- One attempt counted against each key BEFORE the password is checked, in one statement:
-- concurrent attempts on a key queue on its row and each sees the count before it, so none
-- goes uncounted (rows are taken in key order: no deadlock). A key whose window has passed
-- starts a new one. Answers each key's attempts in its window and when that window ends.
INSERT INTO Sign_In_Attempts AS a (throttle_key, window_start, attempts)
SELECT k.throttle_key, now(), 1
FROM unnest(%(keys)s::text[]) AS k (throttle_key)
ORDER BY k.throttle_key
ON CONFLICT (throttle_key) DO UPDATE
SET attempts = CASE WHEN a.window_start <= now() - make_interval(secs => %(window_seconds)s)
                    THEN 1 ELSE a.attempts + 1 END,
    window_start = CASE WHEN a.window_start <= now() - make_interval(secs => %(window_seconds)s)
                        THEN now() ELSE a.window_start END
RETURNING throttle_key, attempts, window_start + make_interval(secs => %(window_seconds)s) AS window_ends;

-- name: refund_attempt
-- A sign-in that succeeded: the (username, client) count starts afresh and the attempt it
-- counted against the client and everyone is given back (so they count failures); rows of
-- windows long past go, so the table stays small.
WITH stale AS (
    DELETE FROM Sign_In_Attempts
    WHERE window_start < now() - make_interval(secs => 2 * %(window_seconds)s)
)
UPDATE Sign_In_Attempts
SET attempts = CASE WHEN throttle_key = %(user_key)s THEN 0 ELSE greatest(attempts - 1, 0) END
WHERE throttle_key = ANY(%(keys)s::text[]);

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
