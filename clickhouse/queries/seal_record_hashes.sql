-- Every stored prediction row (duplicates included) in [since, until), for verification, by
-- its ids and the leaf hash the engine computed ('' for the rows hashed in Python, which
-- seal_records_in_python.sql returns whole), in the order of seal_records.sql.
SELECT
{{query:_seal_engine_hash_columns}}
FROM audit_predictions
WHERE Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
ORDER BY Timestamp, RecordId
