-- The records of one model in [since, until), one row per record (RecordId, RowHash), for an evidence pack.
SELECT
{{query:_seal_record_columns}}FROM audit_predictions
WHERE ModelName = {model:String}
  AND Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
ORDER BY Timestamp, RecordId
LIMIT 1 BY RecordId, RowHash
