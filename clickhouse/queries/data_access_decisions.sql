-- The decisions about one user's predictions in [since, until), oldest first (at most {limit}):
-- those that name one of the predictions' records, or one of their request ids.
SELECT
{{query:_decision_columns}}
FROM audit_events
WHERE EventName IN ({{semconv.DECISION_EVENTS}})
  AND (TargetRecordId IN (
           SELECT RecordId FROM audit_predictions
           WHERE UserId = {user:String} AND Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)})
       OR TargetRequestId IN (
           SELECT RequestId FROM audit_predictions
           WHERE UserId = {user:String} AND Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
             AND RequestId != ''))
ORDER BY Timestamp, RecordId
LIMIT 1 BY RecordId, RowHash
LIMIT {limit:UInt32}
