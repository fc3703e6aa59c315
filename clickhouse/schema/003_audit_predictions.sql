-- One typed row per audited prediction, filled from otel_logs by the view below, whoever wrote
-- the log row (otel-audit's exporter, `otel-audit serve`, or the collector's exporter).
-- Append-only MergeTree: rows are never replaced; duplicates from at-least-once delivery share a
-- RecordId and the report queries keep one row per RecordId.
CREATE TABLE IF NOT EXISTS audit_predictions
(
    `Timestamp` DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    `RecordId` String CODEC(ZSTD(1)),
    `ModelName` LowCardinality(String),
    `ModelVersion` LowCardinality(String),
    `PipelineVersion` LowCardinality(String),
    `Operation` LowCardinality(String),
    `InputHash` String CODEC(ZSTD(1)),
    `UserId` String CODEC(ZSTD(1)),
    `RequestId` String CODEC(ZSTD(1)),
    `Outcome` LowCardinality(String),
    `ErrorType` LowCardinality(String),
    `ErrorMessage` String CODEC(ZSTD(1)),
    `OutputLabel` String CODEC(ZSTD(1)),
    `LatencyMs` Float64 CODEC(ZSTD(1)),
    `BatchSize` UInt32,
    `ServiceName` LowCardinality(String),
    `TraceId` String CODEC(ZSTD(1)),
    `SpanId` String CODEC(ZSTD(1)),
    `Input` String CODEC(ZSTD(3)),
    `Output` String CODEC(ZSTD(3)),
    `Attributes` Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    INDEX idx_user UserId TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_request RequestId TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_record RecordId TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_input_hash InputHash TYPE bloom_filter(0.01) GRANULARITY 1
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(Timestamp)
ORDER BY (ModelName, Timestamp)
{{ttl:Timestamp}}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS audit_predictions_mv TO audit_predictions
AS SELECT
    Timestamp,
    if(SpanId != '', concat(TraceId, '-', SpanId), LogAttributes['{{semconv.AUDIT_REQUEST_ID}}']) AS RecordId,
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
    mapFilter((k, v) -> k NOT IN ({{semconv.PROMOTED_ATTRIBUTES}}), LogAttributes) AS Attributes
FROM otel_logs
WHERE EventName = '{{semconv.EVENT_PREDICTION}}';
