-- Reads of the audit trail (`audit.access` events) in [since, until), oldest first; {subject} is a
-- subject's pseudonym, '' for every subject.
SELECT
{{query:_access_columns}}
FROM audit_events
WHERE EventName = '{{semconv.EVENT_ACCESS}}'
  AND ({subject:String} = '' OR AccessSubject = {subject:String})
  AND Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
ORDER BY Timestamp, RecordId
LIMIT 1 BY RecordId
LIMIT {limit:UInt32}
