-- Every batch row predicted for one input (by its canonical input hash), oldest first: the row's
-- position in the batch call and that row's output (audit.batch.* attributes, JSON array text).
-- Row hashes carry no index, so this scans the batch records' attribute maps.
SELECT
    Timestamp AS timestamp,
    RequestId AS request_id,
    ModelName AS model,
    ModelVersion AS version,
    UserId AS user_id,
    Outcome AS outcome,
    BatchSize AS batch_size,
    row_index - 1 AS row,
    JSONExtractString(Attributes['{{semconv.AUDIT_BATCH_OUTPUTS}}'], row_index) AS row_output,
    RecordId AS record_id
FROM audit_predictions
ARRAY JOIN arrayFilter(
    i -> JSONExtractString(Attributes['{{semconv.AUDIT_BATCH_INPUT_HASHES}}'], i) = {input_hash:String},
    range(1, JSONLength(Attributes['{{semconv.AUDIT_BATCH_INPUT_HASHES}}']) + 1)
) AS row_index
WHERE mapContains(Attributes, '{{semconv.AUDIT_BATCH_INPUT_HASHES}}')
  AND has(JSONExtract(Attributes['{{semconv.AUDIT_BATCH_INPUT_HASHES}}'], 'Array(String)'), {input_hash:String})
ORDER BY Timestamp, RecordId, row
LIMIT 1 BY RecordId, row
LIMIT {limit:UInt32}
