-- The record(s) of one request id, one row per RecordId.
SELECT
    toString(Timestamp) AS timestamp,
    RecordId AS record_id,
    ModelName AS model_name,
    ModelVersion AS model_version,
    PipelineVersion AS pipeline_version,
    Operation AS operation,
    InputHash AS input_hash,
    UserId AS user_id,
    RequestId AS request_id,
    Outcome AS outcome,
    ErrorType AS error_type,
    ErrorMessage AS error_message,
    OutputLabel AS output_label,
    LatencyMs AS latency_ms,
    BatchSize AS batch_size,
    ServiceName AS service_name,
    TraceId AS trace_id,
    SpanId AS span_id,
    Attributes AS attributes,
    Input AS input,
    Output AS output
FROM audit_predictions
WHERE RequestId = {request_id:String}
ORDER BY Timestamp, RecordId
LIMIT 1 BY RecordId
