-- One month of the prediction and audit-event log records in otel_logs (the rows audit_predictions
-- and audit_events came from).
SELECT *
FROM otel_logs
WHERE (EventName = '{{semconv.EVENT_PREDICTION}}' OR EventName IN ({{semconv.AUDIT_EVENTS}}))
  AND Timestamp >= {start:DateTime64(9)} AND Timestamp < {end:DateTime64(9)}
ORDER BY Timestamp, TraceId, SpanId, EventName, Body, toString(LogAttributes)
