-- Only the leaf hashes, in tree order (what the sealer needs to extend the tree).
SELECT LeafHash
FROM audit_seal_leaves
ORDER BY LeafIndex
