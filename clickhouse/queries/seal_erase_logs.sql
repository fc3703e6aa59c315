-- Replace the input and output inside the Body, the output label and the content attributes, of the records' log
-- rows by the same tombstones (the error description is kept). A log row is found by the id the
-- view gave its record: log.record.uid, else the store id (the fragment audit_predictions_mv
-- uses, schema 090), else - rows stored before schema 090 - the old TraceId-SpanId or request id.
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
        '}'),
    LogAttributes = mapApply((k, v) -> (k, if(k NOT IN ({{semconv.CONTENT_ATTRIBUTES}}, '{{semconv.AUDIT_OUTPUT_LABEL}}') OR startsWith(v, '{"$erased":'), v,
               concat('{"$erased":{"at":"', {at:String}, '","sha256":"', lower(hex(SHA256(v))), '"}}'))), LogAttributes)
WHERE EventName = '{{semconv.EVENT_PREDICTION}}'
  AND NOT startsWith(JSONExtractRaw(Body, '{{semconv.BODY_INPUT}}'), '{"$erased":')
  AND (
      LogAttributes['{{semconv.LOG_RECORD_UID}}'] IN {record_ids:Array(String)}
      OR (LogAttributes['{{semconv.LOG_RECORD_UID}}'] = '' AND
{{query:_store_record_id}}
          IN {record_ids:Array(String)})
      OR if(SpanId != '', concat(TraceId, '-', SpanId), LogAttributes['{{semconv.AUDIT_REQUEST_ID}}'])
         IN {record_ids:Array(String)}
  )
