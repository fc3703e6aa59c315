-- The leaves of one partition by record id, in tree order (verify matches rows partition by
-- partition).
SELECT LeafIndex, RecordId, Timestamp, LeafHash, Kind
FROM audit_seal_leaves
WHERE {{query:_seal_partition}}
ORDER BY LeafIndex
