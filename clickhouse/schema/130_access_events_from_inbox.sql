-- Access events are otel-audit's own record of a read, so they are typed only from
-- audit_access_inbox (migration 120). A log record named audit.access that reaches otel_logs any
-- other way (a client over OTLP, the collector's ClickHouse exporter) stays there as a log and is
-- no longer typed into audit_events: whoever may ingest could otherwise plant reads in the access
-- log. The decisions (review, ground truth, feedback) are still typed from otel_logs, whoever
-- sent them. The view is replaced (drop, create) with the same columns.
DROP VIEW IF EXISTS audit_events_mv;

CREATE MATERIALIZED VIEW IF NOT EXISTS audit_events_mv TO audit_events
AS SELECT
    Timestamp,
    if(
        LogAttributes['{{semconv.LOG_RECORD_UID}}'] != '',
        LogAttributes['{{semconv.LOG_RECORD_UID}}'],
        lower(hex(SHA256(toJSONString(tuple(
            'otel-audit.record/store/1', toUnixTimestamp64Nano(Timestamp), TraceId, SpanId, SeverityNumber,
            SeverityText, EventName, Body, mapSort(LogAttributes), mapSort(ResourceAttributes), ScopeName, ScopeVersion
        )))))
    ) AS RecordId,
    EventName,
    LogAttributes['{{semconv.AUDIT_TARGET_RECORD_ID}}'] AS TargetRecordId,
    LogAttributes['{{semconv.AUDIT_REQUEST_ID}}'] AS TargetRequestId,
    LogAttributes['{{semconv.GEN_AI_REQUEST_MODEL}}'] AS ModelName,
    LogAttributes['{{semconv.AUDIT_REVIEW_REVIEWER}}'] AS Actor,
    LogAttributes['{{semconv.AUDIT_REVIEW_DECISION}}'] AS Decision,
    LogAttributes['{{semconv.AUDIT_REVIEW_REASON}}'] AS Reason,
    LogAttributes['{{semconv.AUDIT_REVIEW_FINAL_OUTPUT}}'] AS FinalOutput,
    LogAttributes['{{semconv.AUDIT_GROUND_TRUTH_VALUE}}'] AS GroundTruthValue,
    LogAttributes['{{semconv.AUDIT_GROUND_TRUTH_SOURCE}}'] AS GroundTruthSource,
    LogAttributes['{{semconv.AUDIT_FEEDBACK_TEXT}}'] AS FeedbackText,
    ServiceName,
    TraceId,
    SpanId,
    mapFilter((k, v) -> k NOT IN ({{semconv.AUDIT_EVENT_PROMOTED_ATTRIBUTES}}), LogAttributes) AS Attributes,
    ResourceAttributes
FROM otel_logs
WHERE EventName IN ({{semconv.DECISION_EVENTS}});

-- The inbox's rows, typed: the same columns the view above gave an access event when it was
-- still typed from otel_logs (the inbox's view there fixes service, scope and severity).
CREATE MATERIALIZED VIEW IF NOT EXISTS audit_access_events_mv TO audit_events
AS SELECT
    Timestamp,
    if(
        LogAttributes['{{semconv.LOG_RECORD_UID}}'] != '',
        LogAttributes['{{semconv.LOG_RECORD_UID}}'],
        lower(hex(SHA256(toJSONString(tuple(
            'otel-audit.record/store/1', toUnixTimestamp64Nano(Timestamp), '', '', toUInt8(9), 'INFO',
            '{{semconv.EVENT_ACCESS}}', '', mapSort(LogAttributes), map(), '{{semconv.SCOPE_NAME}}', ScopeVersion
        )))))
    ) AS RecordId,
    '{{semconv.EVENT_ACCESS}}' AS EventName,
    LogAttributes['{{semconv.AUDIT_ACCESS_ACTOR}}'] AS Actor,
    LogAttributes['{{semconv.AUDIT_ACCESS_COMMAND}}'] AS AccessCommand,
    LogAttributes['{{semconv.AUDIT_ACCESS_SUBJECT}}'] AS AccessSubject,
    LogAttributes['{{semconv.AUDIT_ACCESS_PERIOD_START}}'] AS AccessPeriodStart,
    LogAttributes['{{semconv.AUDIT_ACCESS_PERIOD_END}}'] AS AccessPeriodEnd,
    toUInt64OrZero(LogAttributes['{{semconv.AUDIT_ACCESS_RECORDS}}']) AS AccessRecords,
    LogAttributes['{{semconv.AUDIT_ACCESS_OUTCOME}}'] AS AccessOutcome,
    'otel-audit' AS ServiceName,
    mapFilter((k, v) -> k NOT IN ({{semconv.AUDIT_EVENT_PROMOTED_ATTRIBUTES}}), LogAttributes) AS Attributes
FROM audit_access_inbox;
