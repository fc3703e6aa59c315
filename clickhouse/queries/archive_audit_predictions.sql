-- One month of audit_predictions, every stored row (duplicates included), in a stable order.
SELECT *
FROM audit_predictions
WHERE Timestamp >= {start:DateTime64(9)} AND Timestamp < {end:DateTime64(9)}
ORDER BY Timestamp, RecordId, ServiceName, TraceId, SpanId
