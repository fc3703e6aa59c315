-- The erasure log, for an archive's copy of the seal (whole: erasures are not in the tree).
SELECT *
FROM audit_erasures
ORDER BY ErasedAt, RecordId
