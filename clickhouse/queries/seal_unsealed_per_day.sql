-- Rows (predictions and audit events) not yet in the Merkle tree, per UTC day: seal reads a
-- backlog in bounded windows, and only the days that have unsealed rows. Sealed keys are
-- compared by their 128-bit SipHash (16 bytes per leaf in the engine's set, not the ids): this
-- only picks the days to read, and each window then checks exactly (_seal_unsealed_*.sql).
SELECT day, sum(rows) AS rows
FROM
(
    SELECT toStartOfDay(Timestamp, 'UTC') AS day, count() AS rows
    FROM audit_predictions
    WHERE sipHash128(RecordId, RowHash) NOT IN (
            SELECT sipHash128(RecordId, RowHash) FROM audit_seal_leaves WHERE RowHash != '')
      AND sipHash128(RecordId, toString(Timestamp)) NOT IN (
            SELECT sipHash128(RecordId, Timestamp) FROM audit_seal_leaves WHERE RowHash = '')
    GROUP BY day
    UNION ALL
    SELECT toStartOfDay(Timestamp, 'UTC') AS day, count() AS rows
    FROM audit_events
    WHERE sipHash128(RecordId, RowHash) NOT IN (
            SELECT sipHash128(RecordId, RowHash) FROM audit_seal_leaves WHERE Kind != '')
    GROUP BY day
)
GROUP BY day
ORDER BY day
