-- Decisions made in [since, until) about one model (or naming no model) whose prediction is not in
-- the store: kept, never dropped, and listed by the oversight report. A decision is matched by
-- TargetRecordId when it gives one, else by TargetRequestId (as _oversight_linked matches them).
SELECT
    RecordId AS record_id,
    EventName AS event,
    Timestamp AS timestamp,
    TargetRecordId AS target_record_id,
    TargetRequestId AS target_request_id,
    Actor AS actor,
    Decision AS decision
FROM audit_events
WHERE EventName IN ({{semconv.DECISION_EVENTS}})
  AND (ModelName = {model:String} OR ModelName = '')
  AND Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
  AND NOT (TargetRecordId != '' AND TargetRecordId IN (SELECT RecordId FROM audit_predictions))
  AND NOT (TargetRecordId = '' AND TargetRequestId != '' AND TargetRequestId IN (SELECT RequestId FROM audit_predictions))
ORDER BY timestamp, record_id
LIMIT 1 BY record_id
LIMIT {limit:UInt64}
