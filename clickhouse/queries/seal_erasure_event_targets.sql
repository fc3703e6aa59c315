-- Decision events (reviews, ground truth, feedback) about the records chosen for erasure: those
-- naming one of the records by id or by request id, or naming the erased request id itself.
SELECT DISTINCT RecordId, TargetRequestId
FROM audit_events
WHERE EventName IN ({{semconv.DECISION_EVENTS}})
  AND ((TargetRecordId != '' AND TargetRecordId IN {record_ids:Array(String)})
       OR (TargetRequestId != '' AND TargetRequestId IN {request_ids:Array(String)}))
ORDER BY RecordId
