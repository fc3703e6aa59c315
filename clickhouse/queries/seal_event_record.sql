-- The stored row(s) of one audit event, by its record id, one per stored row (RecordId, RowHash).
SELECT
{{query:_seal_event_columns}}FROM audit_events
WHERE RecordId = {record_id:String}
ORDER BY Timestamp
LIMIT 1 BY RecordId, RowHash
