-- The same tombstones in the decision events' log rows (their content attributes), found by the
-- id the view gave the event: log.record.uid, else the store id (schema 100).
ALTER TABLE otel_logs
UPDATE
    LogAttributes = mapApply((k, v) -> (k, if(k NOT IN ({{semconv.AUDIT_EVENT_CONTENT_ATTRIBUTES}}) OR v = '' OR startsWith(v, '{"$erased":'), v,
               concat('{"$erased":{"at":"', {at:String}, '","sha256":"', lower(hex(SHA256(v))), '"}}'))), LogAttributes)
WHERE EventName IN ({{semconv.DECISION_EVENTS}})
  AND (
      LogAttributes['{{semconv.LOG_RECORD_UID}}'] IN {record_ids:Array(String)}
      OR (LogAttributes['{{semconv.LOG_RECORD_UID}}'] = '' AND
{{query:_store_record_id}}
          IN {record_ids:Array(String)})
  )
