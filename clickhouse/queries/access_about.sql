-- Reads of the audit trail (`audit.access` events) about any of {subjects} (subjects' pseudonyms),
-- oldest first.
SELECT
{{query:_access_columns}}
FROM audit_events
WHERE EventName = '{{semconv.EVENT_ACCESS}}' AND AccessSubject IN {subjects:Array(String)}
ORDER BY Timestamp, RecordId
LIMIT 1 BY RecordId
LIMIT {limit:UInt32}
