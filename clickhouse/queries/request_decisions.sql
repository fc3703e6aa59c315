-- The decisions about the record(s) of one request id, oldest first: those that name the request
-- id, and those that name one of its records by record id.
SELECT
{{query:_decision_columns}}
FROM audit_events
WHERE EventName IN ({{semconv.DECISION_EVENTS}})
  AND (TargetRequestId = {request_id:String}
       OR TargetRecordId IN (SELECT RecordId FROM audit_predictions WHERE RequestId = {request_id:String}))
ORDER BY Timestamp, RecordId
LIMIT 1 BY RecordId, RowHash
