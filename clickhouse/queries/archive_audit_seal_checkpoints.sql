-- The signed checkpoints up to tree size {size}, for an archive's copy of the seal.
SELECT *
FROM audit_seal_checkpoints
WHERE TreeSize <= {size:UInt64}
ORDER BY TreeSize, SealedAt
