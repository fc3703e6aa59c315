-- Issue 7: per-row index of batch predictions. A batch call is one audit_predictions row whose
-- attribute audit.batch.input_hashes holds each row's input hash (JSON array text); this table
-- has one row per (row hash, record), ordered by the hash, so that `report input <hash>` finds
-- the batch call that predicted a row without scanning every attribute map. Outputs are not
-- copied here: they stay with the record (audit.batch.outputs).
CREATE TABLE IF NOT EXISTS audit_batch_rows
(
    `RowHash` String CODEC(ZSTD(1)),
    `Timestamp` DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    `RecordId` String CODEC(ZSTD(1)),
    `Row` UInt32
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(Timestamp)
ORDER BY (RowHash, Timestamp)
{{ttl:Timestamp}}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS audit_batch_rows_mv TO audit_batch_rows
AS SELECT
    RowHash,
    Timestamp,
    RecordId,
    toUInt32(RowNumber - 1) AS Row
FROM audit_predictions
ARRAY JOIN
    JSONExtract(Attributes['{{semconv.AUDIT_BATCH_INPUT_HASHES}}'], 'Array(String)') AS RowHash,
    arrayEnumerate(JSONExtract(Attributes['{{semconv.AUDIT_BATCH_INPUT_HASHES}}'], 'Array(String)')) AS RowNumber
WHERE mapContains(Attributes, '{{semconv.AUDIT_BATCH_INPUT_HASHES}}');
