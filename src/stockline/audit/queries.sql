-- The audit log's one write (db/schema.sql: Audit_Log, append-only). Its read side is
-- in stockline/reporting/queries.sql.

-- name: insert_entries
-- One entry per element of %(entries)s, a JSON array of {entity_id, before, after}, all of
-- one action by one actor.
INSERT INTO Audit_Log (actor_user_id, actor_username, action, entity_type, entity_id, before, after)
SELECT %(actor_user_id)s, %(actor_username)s, %(action)s, %(entity_type)s, e.entity_id, e.before, e.after
FROM jsonb_to_recordset(%(entries)s::jsonb) AS e (entity_id bigint, before jsonb, after jsonb);
