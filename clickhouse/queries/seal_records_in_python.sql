-- The stored prediction rows in [since, until) whose leaf the engine does not hash
-- (engine_leafable = 0), whole, in the order of seal_records.sql: verify hashes them in Python.
SELECT
{{query:_seal_record_columns}},
{{query:_seal_engine_leafable}}
FROM audit_predictions
WHERE Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
  AND NOT engine_leafable
ORDER BY Timestamp, RecordId
