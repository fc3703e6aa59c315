-- One month of the prediction log records in otel_logs (the rows audit_predictions came from).
SELECT *
FROM otel_logs
WHERE EventName = '{{semconv.EVENT_PREDICTION}}'
  AND Timestamp >= {start:DateTime64(9)} AND Timestamp < {end:DateTime64(9)}
ORDER BY Timestamp, TraceId, SpanId, Body
