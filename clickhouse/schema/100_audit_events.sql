-- Issue 18: one typed table for every audit event that is not a prediction: the decisions on the
-- record (a review, a ground truth, feedback: docs/conventions.md) and the reads of the audit trail
-- (`audit.access`). Filled from otel_logs by the view below, whoever wrote the log row. Append-only:
-- a decision is never edited; a later decision on the same prediction is a new row.
--
-- Identity is the predictions' (migration 090): RecordId is the record's log.record.uid, else the
-- store id hashed from the stored columns; RowHash digests the stored row, fixed at insert (erasure
-- rewrites the content columns, not RowHash). A decision names its prediction by TargetRecordId
-- and/or TargetRequestId; one naming no stored prediction is kept and flagged by the reports.
-- The seal (otel_audit/seal) puts these rows in the same Merkle tree as the predictions.
CREATE TABLE IF NOT EXISTS audit_events
(
    `Timestamp` DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    `RecordId` String CODEC(ZSTD(1)),
    `EventName` LowCardinality(String),
    `TargetRecordId` String CODEC(ZSTD(1)),
    `TargetRequestId` String CODEC(ZSTD(1)),
    `ModelName` LowCardinality(String),
    `Actor` String CODEC(ZSTD(1)),
    `Decision` LowCardinality(String),
    `Reason` String CODEC(ZSTD(3)),
    `FinalOutput` String CODEC(ZSTD(3)),
    `GroundTruthValue` String CODEC(ZSTD(1)),
    `GroundTruthSource` LowCardinality(String),
    `FeedbackText` String CODEC(ZSTD(3)),
    `AccessCommand` LowCardinality(String),
    `AccessSubject` String CODEC(ZSTD(1)),
    `AccessPeriodStart` String CODEC(ZSTD(1)),
    `AccessPeriodEnd` String CODEC(ZSTD(1)),
    `AccessRecords` UInt64,
    `AccessOutcome` LowCardinality(String),
    `ServiceName` LowCardinality(String),
    `TraceId` String CODEC(ZSTD(1)),
    `SpanId` String CODEC(ZSTD(1)),
    `Attributes` Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    `ResourceAttributes` Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    `RowHash` String DEFAULT lower(hex(SHA256(toJSONString(tuple(
        toUnixTimestamp64Nano(Timestamp), RecordId, EventName, TargetRecordId, TargetRequestId, ModelName, Actor,
        Decision, Reason, FinalOutput, GroundTruthValue, GroundTruthSource, FeedbackText, AccessCommand,
        AccessSubject, AccessPeriodStart, AccessPeriodEnd, AccessRecords, AccessOutcome, ServiceName, TraceId,
        SpanId, mapSort(Attributes), mapSort(ResourceAttributes)
    ))))) CODEC(ZSTD(1)),
    INDEX idx_record RecordId TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_target_record TargetRecordId TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_target_request TargetRequestId TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_actor Actor TYPE bloom_filter(0.01) GRANULARITY 1
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(Timestamp)
ORDER BY (EventName, Timestamp)
{{ttl:Timestamp}}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000;

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
    if(EventName = '{{semconv.EVENT_ACCESS}}',
       LogAttributes['{{semconv.AUDIT_ACCESS_ACTOR}}'], LogAttributes['{{semconv.AUDIT_REVIEW_REVIEWER}}']) AS Actor,
    LogAttributes['{{semconv.AUDIT_REVIEW_DECISION}}'] AS Decision,
    LogAttributes['{{semconv.AUDIT_REVIEW_REASON}}'] AS Reason,
    LogAttributes['{{semconv.AUDIT_REVIEW_FINAL_OUTPUT}}'] AS FinalOutput,
    LogAttributes['{{semconv.AUDIT_GROUND_TRUTH_VALUE}}'] AS GroundTruthValue,
    LogAttributes['{{semconv.AUDIT_GROUND_TRUTH_SOURCE}}'] AS GroundTruthSource,
    LogAttributes['{{semconv.AUDIT_FEEDBACK_TEXT}}'] AS FeedbackText,
    LogAttributes['{{semconv.AUDIT_ACCESS_COMMAND}}'] AS AccessCommand,
    LogAttributes['{{semconv.AUDIT_ACCESS_SUBJECT}}'] AS AccessSubject,
    LogAttributes['{{semconv.AUDIT_ACCESS_PERIOD_START}}'] AS AccessPeriodStart,
    LogAttributes['{{semconv.AUDIT_ACCESS_PERIOD_END}}'] AS AccessPeriodEnd,
    toUInt64OrZero(LogAttributes['{{semconv.AUDIT_ACCESS_RECORDS}}']) AS AccessRecords,
    LogAttributes['{{semconv.AUDIT_ACCESS_OUTCOME}}'] AS AccessOutcome,
    ServiceName,
    TraceId,
    SpanId,
    mapFilter((k, v) -> k NOT IN ({{semconv.AUDIT_EVENT_PROMOTED_ATTRIBUTES}}), LogAttributes) AS Attributes,
    ResourceAttributes
FROM otel_logs
WHERE EventName IN ({{semconv.AUDIT_EVENTS}});

-- A leaf says which table its row is in: '' for a prediction (audit_predictions; every leaf sealed
-- before this migration), else the event's name (audit_events), so `verify` names what was changed.
ALTER TABLE audit_seal_leaves ADD COLUMN IF NOT EXISTS `Kind` LowCardinality(String) DEFAULT '' AFTER RowHash;
