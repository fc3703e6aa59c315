-- Fragment: an audit event row not yet in the Merkle tree, by (RecordId, RowHash).
(RecordId, RowHash) NOT IN (SELECT RecordId, RowHash FROM audit_seal_leaves WHERE Kind != '')
