-- Model usage over [since, until), in one pass: volume, outcomes, users, latency percentiles,
-- first/last, and the version, outcome and label distributions (as maps value -> count).
-- One row per RecordId (at-least-once delivery can store a record twice).
SELECT
    count() AS predictions,
    countIf(Outcome = 'ok') AS ok,
    countIf(Outcome = 'error') AS errors,
    uniqExactIf(UserId, UserId != '') AS distinct_users,
    sum(BatchSize) AS rows_predicted,
    quantileExact(0.5)(LatencyMs) AS latency_p50_ms,
    quantileExact(0.95)(LatencyMs) AS latency_p95_ms,
    quantileExact(0.99)(LatencyMs) AS latency_p99_ms,
    max(LatencyMs) AS latency_max_ms,
    avg(LatencyMs) AS latency_mean_ms,
    min(Timestamp) AS first_prediction,
    max(Timestamp) AS last_prediction,
    sumMap(map(ModelVersion, toUInt64(1))) AS versions,
    sumMap(map(Outcome, toUInt64(1))) AS outcomes,
    sumMapIf(map(OutputLabel, toUInt64(1)), OutputLabel != '') AS labels
FROM
(
    SELECT RecordId, Outcome, UserId, BatchSize, LatencyMs, Timestamp, ModelVersion, OutputLabel
    FROM audit_predictions
    WHERE ModelName = {model:String}
      AND Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
    LIMIT 1 BY RecordId
)
