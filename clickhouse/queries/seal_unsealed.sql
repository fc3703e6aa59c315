-- Records not yet in the Merkle tree with Timestamp in [since, until), in sealing order:
-- Timestamp, then RecordId; one row per stored record (RecordId, RowHash): duplicates from
-- at-least-once delivery are sealed once, two different rows under one id are both sealed.
-- Each by its ids and the leaf hash the engine computed, or '' for the few rows hashed in
-- Python (seal_unsealed_rows.sql returns those whole).
SELECT
{{query:_seal_engine_hash_columns}}
FROM audit_predictions
WHERE {{query:_seal_unsealed_prediction}}
ORDER BY Timestamp, RecordId, RowHash
LIMIT 1 BY RecordId, RowHash
LIMIT {limit:UInt64}
