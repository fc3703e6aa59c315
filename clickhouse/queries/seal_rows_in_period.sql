-- Stored rows (predictions and audit events) in [since, until): how many partitions verify
-- splits them into.
SELECT
    (SELECT count() FROM audit_predictions
     WHERE Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)})
  + (SELECT count() FROM audit_events
     WHERE Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}) AS rows
