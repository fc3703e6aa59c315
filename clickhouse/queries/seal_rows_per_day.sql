-- Stored rows (predictions and audit events) per UTC day in [since, until), to read a long period
-- in bounded windows.
SELECT day, sum(rows) AS rows
FROM
(
    SELECT toStartOfDay(Timestamp, 'UTC') AS day, count() AS rows
    FROM audit_predictions
    WHERE Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
    GROUP BY day
    UNION ALL
    SELECT toStartOfDay(Timestamp, 'UTC') AS day, count() AS rows
    FROM audit_events
    WHERE Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
    GROUP BY day
)
GROUP BY day
ORDER BY day
