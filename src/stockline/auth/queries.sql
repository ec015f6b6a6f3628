-- Queries of authentication.

-- name: user_for_login
SELECT user_id, username, password_hash, role, customer_id, is_active, must_change_password,
       token_version
FROM Users
WHERE lower(username) = lower(%(username)s);

-- name: begin_attempt
-- Before a password is checked, in one statement: the client's and everyone's failures in
-- the window, and, unless one of those is over its limit, one more attempt on the key.
-- Attempts on one key queue on its row and each sees the count before it, so a race of
-- guesses gets no extra ones; a key whose window has passed starts a new one.
WITH recent AS (
    SELECT count(*) FILTER (WHERE client = %(client)s)::int AS client_failures,
           min(failed_at) FILTER (WHERE client = %(client)s) AS client_oldest,
           count(*)::int AS global_failures,
           min(failed_at) AS global_oldest
    FROM Sign_In_Failures
    WHERE failed_at > now() - make_interval(secs => %(window_seconds)s)
), counted AS (
    INSERT INTO Sign_In_Attempts AS a (throttle_key, window_start, attempts)
    SELECT %(key)s, now(), 1
    FROM recent
    WHERE client_failures < %(client_limit)s AND global_failures < %(global_limit)s
      AND %(key)s::text IS NOT NULL  -- an attempt without a key counts only its failures
    ON CONFLICT (throttle_key) DO UPDATE
    SET attempts = CASE WHEN a.window_start <= now() - make_interval(secs => %(window_seconds)s)
                        THEN 1 ELSE a.attempts + 1 END,
        window_start = CASE WHEN a.window_start <= now() - make_interval(secs => %(window_seconds)s)
                            THEN now() ELSE a.window_start END
    RETURNING attempts, window_start
)
SELECT recent.client_failures,
       recent.client_oldest + make_interval(secs => %(window_seconds)s) AS client_window_ends,
       recent.global_failures,
       recent.global_oldest + make_interval(secs => %(window_seconds)s) AS global_window_ends,
       counted.attempts,
       counted.window_start + make_interval(secs => %(window_seconds)s) AS key_window_ends
FROM recent LEFT JOIN counted ON true;

-- name: record_failure
-- A password check failed; failures that have left the window go, so the table stays small.
WITH stale AS (
    DELETE FROM Sign_In_Failures WHERE failed_at <= now() - make_interval(secs => %(window_seconds)s)
)
INSERT INTO Sign_In_Failures (client) VALUES (%(client)s);

-- name: reset_attempts
-- A password check succeeded: the key starts afresh; keys whose window has long passed go.
DELETE FROM Sign_In_Attempts
WHERE throttle_key = %(key)s
   OR window_start < now() - make_interval(secs => 2 * %(window_seconds)s);

-- name: mark_login
UPDATE Users SET last_login_at = now() WHERE user_id = %(user_id)s;

-- name: rehash_password
UPDATE Users SET password_hash = %(password_hash)s WHERE user_id = %(user_id)s;

-- name: user_state
-- What every authenticated request checks: is the token still the user's current one, and
-- which of the user's tokens were signed out.
SELECT user_id, username, role, customer_id, is_active, must_change_password, token_version,
       ARRAY(SELECT token_id FROM Revoked_Tokens AS r
             WHERE r.user_id = u.user_id AND r.expires_at > now()) AS revoked_token_ids
FROM Users AS u
WHERE user_id = %(user_id)s;

-- name: revoke_token
-- Sign-out; tokens that have expired anyway go.
WITH expired AS (
    DELETE FROM Revoked_Tokens WHERE expires_at <= now()
)
INSERT INTO Revoked_Tokens (token_id, user_id, expires_at)
VALUES (%(token_id)s, %(user_id)s, to_timestamp(%(expires_at)s))
ON CONFLICT (token_id) DO NOTHING;

-- name: password_hash_of
SELECT password_hash FROM Users WHERE user_id = %(user_id)s AND is_active;

-- name: change_password
-- New hash; earlier tokens stop working (token_version) and the must-change flag clears.
-- Only if the hash is still the one the old password was checked against: a concurrent
-- change or reset wins and this one is refused.
UPDATE Users
SET password_hash = %(password_hash)s,
    password_changed_at = now(),
    must_change_password = false,
    token_version = token_version + 1
WHERE user_id = %(user_id)s AND is_active AND password_hash = %(checked_hash)s
RETURNING token_version;
