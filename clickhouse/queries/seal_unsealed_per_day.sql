-- Rows (predictions and audit events) not yet in the Merkle tree, per UTC day, among the record
-- ids of one key bucket: seal reads a backlog in bounded windows, and only the days that have
-- unsealed rows. It adds up the buckets, so the engine's set of sealed keys holds one bucket's
-- leaves at a time, not the tree's, and as 128-bit SipHash digests (half the memory of the id
-- strings): this only chooses the days to read, each window then checks exactly
-- (_seal_unsealed_*.sql). Leaves sealed before schema 090 carry no RowHash and name their row by
-- (RecordId, Timestamp).
SELECT day, sum(rows) AS rows
FROM
(
    SELECT toStartOfDay(Timestamp, 'UTC') AS day, count() AS rows
    FROM audit_predictions
    WHERE {{query:_seal_key_bucket}}
      AND sipHash128(RecordId, RowHash) NOT IN (
            SELECT sipHash128(RecordId, RowHash) FROM audit_seal_leaves
            WHERE RowHash != '' AND {{query:_seal_key_bucket}})
      AND sipHash128(RecordId, toString(Timestamp)) NOT IN (
            SELECT sipHash128(RecordId, Timestamp) FROM audit_seal_leaves
            WHERE RowHash = '' AND {{query:_seal_key_bucket}})
    GROUP BY day
    UNION ALL
    SELECT toStartOfDay(Timestamp, 'UTC') AS day, count() AS rows
    FROM audit_events
    WHERE {{query:_seal_key_bucket}}
      AND sipHash128(RecordId, RowHash) NOT IN (
            SELECT sipHash128(RecordId, RowHash) FROM audit_seal_leaves
            WHERE Kind != '' AND {{query:_seal_key_bucket}})
    GROUP BY day
)
GROUP BY day
ORDER BY day
