-- The erasure log, oldest first.
SELECT ErasedAt, RecordId, RequestId, Selector, Reason
FROM audit_erasures
ORDER BY ErasedAt, RecordId
