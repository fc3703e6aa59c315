-- Per-user data access: the individual predictions, newest first, at most {limit} of them.
SELECT
    Timestamp AS timestamp,
    RequestId AS request_id,
    ModelName AS model,
    ModelVersion AS version,
    Outcome AS outcome,
    InputHash AS input_hash,
    RecordId AS record_id
FROM audit_predictions
WHERE UserId = {user:String}
  AND Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
ORDER BY Timestamp DESC, RecordId
LIMIT 1 BY RecordId, RowHash
LIMIT {limit:UInt32}
