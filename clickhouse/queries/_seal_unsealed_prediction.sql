-- Fragment: a prediction row with Timestamp in [since, until) not yet in the Merkle tree, by
-- (RecordId, RowHash). Leaves sealed before schema 090 carry no RowHash and name their row by
-- (RecordId, Timestamp). Only the leaves of the record ids stored in the window are looked at,
-- so the engine's set of sealed keys holds a window's, not the whole tree's.
(RecordId, RowHash) NOT IN (
    SELECT RecordId, RowHash FROM audit_seal_leaves
    WHERE RowHash != ''
      AND RecordId IN (SELECT RecordId FROM audit_predictions
                       WHERE Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}))
  AND (RecordId, toString(Timestamp)) NOT IN (
    SELECT RecordId, Timestamp FROM audit_seal_leaves
    WHERE RowHash = ''
      AND RecordId IN (SELECT RecordId FROM audit_predictions
                       WHERE Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}))
  AND Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
