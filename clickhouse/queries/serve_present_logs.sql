-- Which rows of a batch `otel-audit serve` is re-inserting after a crash or a failed write are
-- already in otel_logs. Key: nanosecond timestamp / TraceId / SpanId / request id / MD5 of Body
-- (otel_audit/service/server.py builds the same key in Python). The Timestamp range uses the
-- sorting key, so the check reads only the batch's time span.
SELECT concat(
    toString(toUnixTimestamp64Nano(Timestamp)), '/', TraceId, '/', SpanId, '/',
    LogAttributes['{{semconv.AUDIT_REQUEST_ID}}'], '/', lower(hex(MD5(Body)))
) AS key
FROM otel_logs
WHERE Timestamp BETWEEN fromUnixTimestamp64Nano({lo:Int64}) AND fromUnixTimestamp64Nano({hi:Int64})
  AND key IN {keys:Array(String)}
