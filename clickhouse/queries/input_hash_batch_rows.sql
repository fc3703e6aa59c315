-- Every batch row predicted for one input (by its canonical input hash), oldest first: the row's
-- position in the batch call and that row's output. audit_batch_rows (ordered by hash) finds the
-- records; the record itself supplies the facts and the row's output (audit.batch.outputs).
SELECT
    p.Timestamp AS timestamp,
    p.RequestId AS request_id,
    p.ModelName AS model,
    p.ModelVersion AS version,
    p.UserId AS user_id,
    p.Outcome AS outcome,
    p.BatchSize AS batch_size,
    r.Row AS row,
    JSONExtractString(p.Attributes['{{semconv.AUDIT_BATCH_OUTPUTS}}'], toInt64(r.Row) + 1) AS row_output,
    p.RecordId AS record_id
FROM audit_predictions AS p
INNER JOIN
(
    SELECT RecordId, Row FROM audit_batch_rows WHERE RowHash = {input_hash:String}
) AS r ON p.RecordId = r.RecordId
WHERE p.RecordId IN (SELECT RecordId FROM audit_batch_rows WHERE RowHash = {input_hash:String})
ORDER BY timestamp, record_id, row
LIMIT 1 BY record_id, row
LIMIT {limit:UInt32}
