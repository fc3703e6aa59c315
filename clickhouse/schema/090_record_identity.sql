-- Issue 12: a record's identity is its own, never its span's. Many records share one span (several
-- predictions in one request) and many have none, so the old RecordId (TraceId-SpanId, else the
-- request id) merged different records into one. RecordId is now, first that applies
-- (otel_audit/export/record_id.py): the record's log.record.uid (set by otel-audit's SDK, by any
-- sender, or by otel-audit's ingest as a content id), else a store id hashed here from the
-- stored columns.
--
-- RowHash digests the stored row (fixed at insert: a DEFAULT is not recomputed when erasure
-- rewrites Input/Output). Reports keep one row per (RecordId, RowHash): a retry that stored a
-- record twice counts once, while two different rows under one id are both kept and counted, and
-- `verify` and `report conflicts` surface them. Rows stored before this migration get their
-- RowHash here, so records the old id had merged are counted again.
ALTER TABLE audit_predictions
    ADD COLUMN IF NOT EXISTS `RowHash` String DEFAULT lower(hex(SHA256(toJSONString(tuple(
        toUnixTimestamp64Nano(Timestamp), RecordId, ModelName, ModelVersion, PipelineVersion, Operation,
        InputHash, UserId, RequestId, Outcome, ErrorType, ErrorMessage, OutputLabel, LatencyMs, BatchSize,
        ServiceName, TraceId, SpanId, Input, Output, mapSort(Attributes), mapSort(ResourceAttributes)
    ))))) CODEC(ZSTD(1)) AFTER RecordId;

ALTER TABLE audit_predictions MATERIALIZE COLUMN RowHash SETTINGS mutations_sync = 2;

DROP VIEW IF EXISTS audit_predictions_mv;

CREATE MATERIALIZED VIEW IF NOT EXISTS audit_predictions_mv TO audit_predictions
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
    LogAttributes['{{semconv.GEN_AI_REQUEST_MODEL}}'] AS ModelName,
    LogAttributes['{{semconv.ML_MODEL_VERSION}}'] AS ModelVersion,
    LogAttributes['{{semconv.ML_PIPELINE_VERSION}}'] AS PipelineVersion,
    LogAttributes['{{semconv.GEN_AI_OPERATION_NAME}}'] AS Operation,
    LogAttributes['{{semconv.AUDIT_INPUT_HASH}}'] AS InputHash,
    LogAttributes['{{semconv.USER_ID}}'] AS UserId,
    LogAttributes['{{semconv.AUDIT_REQUEST_ID}}'] AS RequestId,
    if(LogAttributes['{{semconv.AUDIT_OUTCOME}}'] = '', '{{semconv.OUTCOME_OK}}', LogAttributes['{{semconv.AUDIT_OUTCOME}}']) AS Outcome,
    LogAttributes['{{semconv.ERROR_TYPE}}'] AS ErrorType,
    LogAttributes['{{semconv.ERROR_MESSAGE}}'] AS ErrorMessage,
    LogAttributes['{{semconv.AUDIT_OUTPUT_LABEL}}'] AS OutputLabel,
    toFloat64OrZero(LogAttributes['{{semconv.AUDIT_LATENCY_MS}}']) AS LatencyMs,
    toUInt32OrDefault(LogAttributes['{{semconv.AUDIT_BATCH_SIZE}}'], toUInt32(1)) AS BatchSize,
    ServiceName,
    TraceId,
    SpanId,
    JSONExtractRaw(Body, '{{semconv.BODY_INPUT}}') AS Input,
    JSONExtractRaw(Body, '{{semconv.BODY_OUTPUT}}') AS Output,
    mapFilter((k, v) -> k NOT IN ({{semconv.PROMOTED_ATTRIBUTES}}), LogAttributes) AS Attributes,
    ResourceAttributes
FROM otel_logs
WHERE EventName = '{{semconv.EVENT_PREDICTION}}';

-- A leaf names the row it seals by RowHash; leaves sealed before this migration have none and
-- are matched by (RecordId, Timestamp), as they were sealed.
ALTER TABLE audit_seal_leaves ADD COLUMN IF NOT EXISTS `RowHash` String DEFAULT '' CODEC(ZSTD(1)) AFTER RecordId;

-- The rollups were built with one row per old RecordId: mark every period stale, so reports
-- read the rows until the next build.
TRUNCATE TABLE IF EXISTS audit_rollup_builds;
