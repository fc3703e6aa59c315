-- Whether a restore target database has the live schema: audit tables with a TTL, or the views
-- that derive audit_predictions and audit_events from otel_logs.
SELECT
    countIf(name IN ('audit_predictions', 'audit_events', 'otel_logs') AND position(create_table_query, ' TTL ') > 0) AS ttl_tables,
    countIf(name IN ('audit_predictions_mv', 'audit_events_mv')) AS views
FROM system.tables
WHERE database = {database:String}
