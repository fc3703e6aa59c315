-- Stored rows per UTC day in [since, until), to read a long period in bounded windows.
SELECT toStartOfDay(Timestamp, 'UTC') AS day, count() AS rows
FROM audit_predictions
WHERE Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
GROUP BY day
ORDER BY day
