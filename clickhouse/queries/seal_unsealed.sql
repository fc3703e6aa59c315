-- Records not yet in the Merkle tree, in sealing order: Timestamp, then RecordId; one row per
-- RecordId (duplicates from at-least-once delivery are sealed once).
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
WHERE RecordId NOT IN (SELECT RecordId FROM audit_seal_leaves)
ORDER BY Timestamp, RecordId
LIMIT 1 BY RecordId
LIMIT {limit:UInt64}
