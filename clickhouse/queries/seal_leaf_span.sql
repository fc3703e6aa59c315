-- One past the highest LeafIndex stored (0 for an empty tree).
SELECT if(count() = 0, 0, max(LeafIndex) + 1) AS span FROM audit_seal_leaves
