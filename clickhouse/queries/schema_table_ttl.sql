-- The engine clause of one table of the store (its TTL included): a migration that adds a TTL
-- rule keeps the retention the table was created with (otel_audit/store/schema.py).
SELECT engine_full
FROM system.tables
WHERE database = {db:String} AND name = {name:String}
