-- Fragment: a prediction row not yet in the Merkle tree, by (RecordId, RowHash). Leaves sealed
-- before schema 090 carry no RowHash and name their row by (RecordId, Timestamp).
(RecordId, RowHash) NOT IN (SELECT RecordId, RowHash FROM audit_seal_leaves WHERE RowHash != '')
  AND (RecordId, toString(Timestamp)) NOT IN (SELECT RecordId, Timestamp FROM audit_seal_leaves WHERE RowHash = '')
