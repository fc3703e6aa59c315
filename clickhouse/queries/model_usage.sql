-- Model usage over [since, until), in one pass: volume, outcomes, users, latency percentiles,
-- first/last, and the version, outcome and label distributions (as maps value -> count).
-- Exact, one row per stored record (RecordId, RowHash): at-least-once delivery can store a record twice: whole hours
-- with a current rollup merge audit_usage_hourly; the rows of every other hour are read and
-- deduplicated here.
SELECT
    countMerge(Predictions) AS predictions,
    countIfMerge(Ok) AS ok,
    countIfMerge(Errors) AS errors,
    uniqExactIfMerge(Users) AS distinct_users,
    sumMerge(RowsPredicted) AS rows_predicted,
    quantilesExactMerge(0.5, 0.95, 0.99)(Latency) AS latency_ms_p50_p95_p99,
    maxMerge(LatencyMax) AS latency_max_ms,
    avgMerge(LatencyMean) AS latency_mean_ms,
    minMerge(First) AS first_prediction,
    maxMerge(Last) AS last_prediction,
    sumMapMerge(Versions) AS versions,
    sumMapMerge(Outcomes) AS outcomes,
    sumMapIfMerge(Labels) AS labels
FROM
(
    SELECT *
    FROM audit_usage_hourly
    WHERE ModelName = {model:String} AND (Hour, BuiltAt) IN ({{query:_usage_current}})
    UNION ALL
    SELECT
        toStartOfHour(Timestamp, 'UTC') AS Hour,
        ModelName,
        ModelVersion,
        toDateTime64(0, 6, 'UTC') AS BuiltAt,
{{query:_usage_states}}
    FROM
    (
        SELECT RecordId, ModelName, ModelVersion, Outcome, UserId, BatchSize, LatencyMs, Timestamp, OutputLabel
        FROM audit_predictions
        WHERE ModelName = {model:String}
          AND Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
          AND toStartOfHour(Timestamp, 'UTC') IN ({{query:_usage_stale}})
        LIMIT 1 BY RecordId, RowHash
    )
    GROUP BY Hour, ModelName, ModelVersion
)
