-- The decision events (reviews, ground truth, feedback) about the given records, for an evidence
-- pack: naming one by record id, or, giving none, by request id. One row per stored event.
SELECT
{{query:_seal_event_columns}}FROM audit_events
WHERE EventName IN ({{semconv.DECISION_EVENTS}})
  AND ((TargetRecordId != '' AND TargetRecordId IN {record_ids:Array(String)})
       OR (TargetRecordId = '' AND TargetRequestId != '' AND TargetRequestId IN {request_ids:Array(String)}))
ORDER BY Timestamp, RecordId
LIMIT 1 BY RecordId, RowHash
