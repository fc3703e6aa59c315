-- One model's records over [since, until), one row per stored record (RecordId, RowHash): how
-- many there are and how many a leaf of the Merkle tree seals (by RowHash, or by (RecordId,
-- Timestamp) for leaves sealed before schema 090), as seal_unsealed.sql matches them.
SELECT
    count() AS records,
    countIf(
        (RecordId, RowHash) IN (SELECT RecordId, RowHash FROM audit_seal_leaves WHERE RowHash != '')
        OR (RecordId, toString(Timestamp)) IN (SELECT RecordId, Timestamp FROM audit_seal_leaves WHERE RowHash = '')
    ) AS sealed
FROM
(
    SELECT RecordId, RowHash, Timestamp
    FROM audit_predictions
    WHERE ModelName = {model:String}
      AND Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
    LIMIT 1 BY RecordId, RowHash
)
