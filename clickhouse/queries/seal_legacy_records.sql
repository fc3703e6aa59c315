-- The stored predictions of the given record ids in [since, until): verify hashes them again in
-- the older leaf versions when the current one matched no leaf of their id.
SELECT
{{query:_seal_record_columns}}FROM audit_predictions
WHERE RecordId IN {ids:Array(String)} AND Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
ORDER BY Timestamp, RecordId
