-- One month of audit_events (decisions, access events), every stored row (duplicates included),
-- in a stable order.
SELECT *
FROM audit_events
WHERE Timestamp >= {start:DateTime64(9)} AND Timestamp < {end:DateTime64(9)}
ORDER BY Timestamp, RecordId, RowHash
