-- Every prediction made for one input (by its canonical input hash), oldest first.
SELECT
    Timestamp AS timestamp,
    RequestId AS request_id,
    ModelName AS model,
    ModelVersion AS version,
    UserId AS user_id,
    Outcome AS outcome,
    OutputLabel AS label,
    Output AS output,
    RecordId AS record_id
FROM audit_predictions
WHERE InputHash = {input_hash:String}
ORDER BY Timestamp, RecordId
LIMIT 1 BY RecordId, RowHash
LIMIT {limit:UInt32}
