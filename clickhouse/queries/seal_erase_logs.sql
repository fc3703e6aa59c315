-- Replace the input and output inside the Body of the records' log rows by the same tombstones
-- (the error description is kept). RecordId is derived exactly as audit_predictions_mv does.
ALTER TABLE otel_logs
UPDATE
    Body = concat(
        '{',
        if(JSONExtractRaw(Body, '{{semconv.BODY_ERROR}}') != '',
           concat('"{{semconv.BODY_ERROR}}":', JSONExtractRaw(Body, '{{semconv.BODY_ERROR}}'), ','), ''),
        '"{{semconv.BODY_INPUT}}":',
        concat('{"$erased":{"at":"', {at:String}, '","sha256":"',
               lower(hex(SHA256(JSONExtractRaw(Body, '{{semconv.BODY_INPUT}}')))), '"}}'),
        ',"{{semconv.BODY_OUTPUT}}":',
        concat('{"$erased":{"at":"', {at:String}, '","sha256":"',
               lower(hex(SHA256(JSONExtractRaw(Body, '{{semconv.BODY_OUTPUT}}')))), '"}}'),
        '}')
WHERE EventName = '{{semconv.EVENT_PREDICTION}}'
  AND NOT startsWith(JSONExtractRaw(Body, '{{semconv.BODY_INPUT}}'), '{"$erased":')
  AND if(SpanId != '', concat(TraceId, '-', SpanId), LogAttributes['{{semconv.AUDIT_REQUEST_ID}}'])
      IN {record_ids:Array(String)}
