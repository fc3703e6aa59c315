-- The Merkle tree's leaves in tree order.
SELECT LeafIndex, RecordId, Timestamp, LeafHash, Kind
FROM audit_seal_leaves
ORDER BY LeafIndex
