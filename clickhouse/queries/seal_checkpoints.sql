-- Signed checkpoints, oldest first.
SELECT TreeSize, RootHash, Note, SealedAt
FROM audit_seal_checkpoints
ORDER BY TreeSize, SealedAt
