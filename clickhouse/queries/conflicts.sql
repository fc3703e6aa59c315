-- Record ids that name more than one different stored row (a forged copy, or senders reusing an
-- id) in [since, until): every variant, with where it came from. Retries of one record (same
-- RowHash) are not conflicts. Reports keep and count each variant; verify flags the id.
SELECT
    RecordId AS record_id,
    RowHash AS row_hash,
    min(Timestamp) AS timestamp,
    any(ModelName) AS model,
    any(ModelVersion) AS version,
    any(RequestId) AS request_id,
    any(UserId) AS user_id,
    any(ServiceName) AS service,
    any(TraceId) AS trace_id,
    any(SpanId) AS span_id,
    count() AS copies
FROM audit_predictions
WHERE Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
  AND RecordId IN (
      SELECT RecordId
      FROM audit_predictions
      WHERE Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
      GROUP BY RecordId
      HAVING uniqExact(RowHash) > 1
  )
GROUP BY RecordId, RowHash
ORDER BY RecordId, timestamp
LIMIT {limit:UInt64}
