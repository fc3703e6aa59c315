-- Timestamps (Unix nanoseconds, in order) that cut the stored rows (predictions and audit events)
-- of [since, until) into {parts} spans of about equal rows: verify and seal read a day bigger
-- than their window in such spans. Rows that share a timestamp stay in one span.
SELECT arrayFilter((t, i) -> i > 1 AND (i - 1) % step = 0, sorted, arrayEnumerate(sorted)) AS cuts
FROM
(
    SELECT arraySort(groupArray(t)) AS sorted,
           greatest(1, intDiv(length(sorted) + {parts:UInt64} - 1, {parts:UInt64})) AS step
    FROM
    (
        SELECT toUnixTimestamp64Nano(Timestamp) AS t
        FROM audit_predictions
        WHERE Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
        UNION ALL
        SELECT toUnixTimestamp64Nano(Timestamp) AS t
        FROM audit_events
        WHERE Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
    )
)
