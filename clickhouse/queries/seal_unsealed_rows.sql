-- The unsealed records with Timestamp in [since, until) whose leaf the engine does not hash
-- (engine_leafable = 0), whole, one row per (RecordId, RowHash): seal hashes them in Python.
SELECT
{{query:_seal_record_columns}},
{{query:_seal_engine_leafable}}
FROM audit_predictions
WHERE {{query:_seal_unsealed_prediction}}
  AND NOT engine_leafable
LIMIT 1 BY RecordId, RowHash
