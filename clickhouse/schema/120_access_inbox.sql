-- The door of access events for readers that may not write otel_logs. On a ClickHouse server an
-- auditor (clickhouse/roles.sql) reads everything and may append only here: the access event of
-- its own read. The view moves each row into otel_logs, where audit_events_mv types and the seal
-- covers it like any other event. The view fixes EventName, severity, service and scope, so a row
-- of this inbox can only ever be an access event, never a prediction or a decision. Null engine:
-- the inbox keeps nothing itself.
CREATE TABLE IF NOT EXISTS audit_access_inbox
(
    `Timestamp` DateTime64(9),
    `LogAttributes` Map(LowCardinality(String), String),
    `ScopeVersion` String
)
ENGINE = Null;

CREATE MATERIALIZED VIEW IF NOT EXISTS audit_access_inbox_mv TO otel_logs
AS SELECT
    Timestamp,
    'INFO' AS SeverityText,
    toUInt8(9) AS SeverityNumber,
    'otel-audit' AS ServiceName,
    '' AS Body,
    '{{semconv.SCOPE_NAME}}' AS ScopeName,
    ScopeVersion,
    LogAttributes,
    '{{semconv.EVENT_ACCESS}}' AS EventName
FROM audit_access_inbox;
