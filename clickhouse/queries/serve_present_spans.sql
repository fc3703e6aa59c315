-- Which spans of a batch `otel-audit serve` is re-inserting are already in otel_traces.
SELECT concat(toString(toUnixTimestamp64Nano(Timestamp)), '/', TraceId, '/', SpanId) AS key
FROM otel_traces
WHERE Timestamp BETWEEN fromUnixTimestamp64Nano({lo:Int64}) AND fromUnixTimestamp64Nano({hi:Int64})
  AND key IN {keys:Array(String)}
