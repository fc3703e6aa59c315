-- Build audit_usage_hourly for the hours {periods} within [since, until): one row per record (RecordId, RowHash).
INSERT INTO audit_usage_hourly
SELECT
    toStartOfHour(Timestamp, 'UTC') AS Hour,
    ModelName,
    ModelVersion,
    {built_at:DateTime64(6)} AS BuiltAt,
{{query:_usage_states}}
FROM
(
    SELECT RecordId, ModelName, ModelVersion, Outcome, UserId, BatchSize, LatencyMs, Timestamp, OutputLabel
    FROM audit_predictions
    WHERE Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
      AND toStartOfHour(Timestamp, 'UTC') IN {periods:Array(DateTime)}
    LIMIT 1 BY RecordId, RowHash
)
GROUP BY Hour, ModelName, ModelVersion
