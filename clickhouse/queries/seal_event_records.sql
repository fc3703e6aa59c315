-- Every stored audit event (duplicates included) in [since, until), for verification.
SELECT
{{query:_seal_event_columns}}FROM audit_events
WHERE Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
ORDER BY Timestamp, RecordId
