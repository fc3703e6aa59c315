-- The record(s) of one request id, one row per record (RecordId, RowHash).
SELECT
{{query:_seal_record_columns}}FROM audit_predictions
WHERE RequestId = {request_id:String}
ORDER BY Timestamp, RecordId
LIMIT 1 BY RecordId, RowHash
