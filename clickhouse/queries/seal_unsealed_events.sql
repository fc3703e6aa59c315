-- Audit events (audit_events) not yet in the Merkle tree with Timestamp in [since, until), in
-- sealing order: Timestamp, then RecordId; one row per stored event (RecordId, RowHash), like
-- seal_unsealed for predictions.
SELECT
{{query:_seal_event_columns}}FROM audit_events
WHERE {{query:_seal_unsealed_event}}
ORDER BY Timestamp, RecordId, RowHash
LIMIT 1 BY RecordId, RowHash
LIMIT {limit:UInt64}
