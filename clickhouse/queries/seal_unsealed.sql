-- Records not yet in the Merkle tree, in sealing order: Timestamp, then RecordId; one row per
-- stored record (RecordId, RowHash): duplicates from at-least-once delivery are sealed once, two
-- different rows under one id are both sealed. Leaves sealed before schema 090 carry no RowHash
-- and name their row by (RecordId, Timestamp).
SELECT
{{query:_seal_record_columns}}FROM audit_predictions
WHERE (RecordId, RowHash) NOT IN (SELECT RecordId, RowHash FROM audit_seal_leaves WHERE RowHash != '')
  AND (RecordId, toString(Timestamp)) NOT IN (SELECT RecordId, Timestamp FROM audit_seal_leaves WHERE RowHash = '')
ORDER BY Timestamp, RecordId, RowHash
LIMIT 1 BY RecordId, RowHash
LIMIT {limit:UInt64}
