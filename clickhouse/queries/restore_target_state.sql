-- Whether a restore target database has the live schema: audit tables with a TTL, or the view
-- that derives audit_predictions from otel_logs.
SELECT
    countIf(name IN ('audit_predictions', 'otel_logs') AND position(create_table_query, ' TTL ') > 0) AS ttl_tables,
    countIf(name = 'audit_predictions_mv') AS views
FROM system.tables
WHERE database = {database:String}
