-- The full record(s) of one request id.
SELECT
    Timestamp AS timestamp,
    RequestId AS request_id,
    RecordId AS record_id,
    ModelName AS model,
    ModelVersion AS version,
    PipelineVersion AS pipeline_version,
    Operation AS operation,
    UserId AS user_id,
    Outcome AS outcome,
    ErrorType AS error_type,
    ErrorMessage AS error_message,
    OutputLabel AS label,
    LatencyMs AS latency_ms,
    BatchSize AS batch_size,
    InputHash AS input_hash,
    Input AS input,
    Output AS output,
    ServiceName AS service,
    TraceId AS trace_id,
    SpanId AS span_id,
    Attributes AS attributes
FROM audit_predictions
WHERE RequestId = {request_id:String}
ORDER BY Timestamp, RecordId
LIMIT 1 BY RecordId, RowHash
