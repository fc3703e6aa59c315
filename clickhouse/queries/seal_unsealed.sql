-- Records not yet in the Merkle tree, in sealing order: Timestamp, then RecordId; one row per
-- RecordId (duplicates from at-least-once delivery are sealed once).
SELECT
{{query:_seal_record_columns}}FROM audit_predictions
WHERE RecordId NOT IN (SELECT RecordId FROM audit_seal_leaves)
ORDER BY Timestamp, RecordId
LIMIT 1 BY RecordId
LIMIT {limit:UInt64}
