-- Every stored row (duplicates included) in [since, until), for verification.
SELECT
{{query:_seal_record_columns}}FROM audit_predictions
WHERE Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
ORDER BY Timestamp, RecordId
