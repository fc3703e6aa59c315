-- For reproducing a request: every output recorded for the same input, model and version.
SELECT
    Output AS output,
    PipelineVersion AS pipeline_version,
    count() AS predictions,
    min(Timestamp) AS first_seen,
    max(Timestamp) AS last_seen
FROM
(
    SELECT RecordId, Output, PipelineVersion, Timestamp
    FROM audit_predictions
    WHERE InputHash = {input_hash:String}
      AND ModelName = {model:String}
      AND ModelVersion = {version:String}
    LIMIT 1 BY RecordId, RowHash
)
GROUP BY output, pipeline_version
ORDER BY predictions DESC, output, pipeline_version
