-- The leaves with LeafIndex in [first, first + count), in tree order (verify reads the tree in pages).
SELECT LeafIndex, RecordId, Timestamp, LeafHash, Kind
FROM audit_seal_leaves
WHERE LeafIndex >= {first:UInt64} AND LeafIndex < {first:UInt64} + {count:UInt64}
ORDER BY LeafIndex
