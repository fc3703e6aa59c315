-- Rows (predictions and audit events) not yet in the Merkle tree, per UTC day: seal reads a
-- backlog in bounded windows, and only the days that have unsealed rows.
SELECT day, sum(rows) AS rows
FROM
(
    SELECT toStartOfDay(Timestamp, 'UTC') AS day, count() AS rows
    FROM audit_predictions
    WHERE {{query:_seal_unsealed_prediction}}
    GROUP BY day
    UNION ALL
    SELECT toStartOfDay(Timestamp, 'UTC') AS day, count() AS rows
    FROM audit_events
    WHERE {{query:_seal_unsealed_event}}
    GROUP BY day
)
GROUP BY day
ORDER BY day
