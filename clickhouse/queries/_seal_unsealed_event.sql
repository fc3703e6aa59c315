-- Fragment: an audit event row with Timestamp in [since, until) not yet in the Merkle tree, by
-- (RecordId, RowHash); only the leaves of the record ids stored in the window are looked at.
(RecordId, RowHash) NOT IN (
    SELECT RecordId, RowHash FROM audit_seal_leaves
    WHERE Kind != ''
      AND RecordId IN (SELECT RecordId FROM audit_events
                       WHERE Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}))
  AND Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
