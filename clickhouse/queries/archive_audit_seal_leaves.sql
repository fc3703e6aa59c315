-- The Merkle tree's leaves up to tree size {size} (the newest checkpoint), for an archive's copy of the seal.
SELECT *
FROM audit_seal_leaves
WHERE LeafIndex < {size:UInt64}
ORDER BY LeafIndex
