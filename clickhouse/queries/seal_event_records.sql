-- Every stored audit event (duplicates included) in [since, until) of one partition by record
-- id, for verification.
SELECT
{{query:_seal_event_columns}}FROM audit_events
WHERE Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
  AND {{query:_seal_partition}}
ORDER BY Timestamp, RecordId
