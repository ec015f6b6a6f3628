-- Queries of batch quarantine and release (status.py). A batch's status history is
-- Batch_Status_Changes; Inventory_Batches.quarantined is its latest status.

-- name: batch_skus
-- The SKU of each batch, to lock before the batches are read for a change.
SELECT batch_id, sku_id FROM Inventory_Batches WHERE batch_id = ANY(%(batch_ids)s::int[]);

-- name: batch_states
-- The batches as a status change sees them (read under their SKU locks), with the open
-- recall each is in, if any, and the latest recall it was ever in (open or closed).
SELECT b.batch_id, b.sku_id, b.batch_no, b.expiry_date, b.quantity_on_hand, b.quarantined,
       recall.recall_id AS open_recall_id, recall.recall_no AS open_recall_no,
       (SELECT max(rb.recall_id) FROM Recall_Batches AS rb WHERE rb.batch_id = b.batch_id) AS last_recall_id
FROM Inventory_Batches AS b
LEFT JOIN Open_Recall_Batches AS recall USING (batch_id)
WHERE b.batch_id = ANY(%(batch_ids)s::int[])
ORDER BY b.batch_id;

-- name: set_quarantined
-- Each batch's new status and the history row saying who, why and under which recall.
WITH changed AS (
    UPDATE Inventory_Batches SET quarantined = %(quarantined)s
    WHERE batch_id = ANY(%(batch_ids)s::int[])
    RETURNING batch_id
)
INSERT INTO Batch_Status_Changes (batch_id, quarantined, reason, recall_id, user_id, ledger_position)
SELECT c.batch_id, %(quarantined)s, %(reason)s, %(recall_id)s, %(user_id)s,
       coalesce((SELECT max(m.movement_id) FROM Stock_Movements AS m WHERE m.batch_id = c.batch_id), 0)
FROM changed AS c;

-- name: status_history
-- A batch's quarantines and releases, newest first: who, when, why, under which recall; with
-- the count of all.
SELECT c.change_id, c.quarantined, c.reason, c.changed_at, c.recall_id, r.recall_no, c.user_id, u.username,
       count(*) OVER ()::int AS total_items
FROM Batch_Status_Changes AS c
LEFT JOIN Users AS u USING (user_id)
LEFT JOIN Recalls AS r USING (recall_id)
WHERE c.batch_id = %(batch_id)s
ORDER BY c.change_id DESC
LIMIT %(limit)s;
