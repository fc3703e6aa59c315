-- The columns of the store's tables and views, in order: `otel-audit query` names them when a
-- statement uses a column that does not exist.
SELECT table, name
FROM system.columns
WHERE database = currentDatabase()
ORDER BY table, position
