-- Rollups: exact, pre-aggregated answers for whole hours (model usage) and whole days (per-user
-- data access), so that a report over months merges thousands of rows instead of reading and
-- deduplicating millions. `otel-audit rollup` (and `serve` on its schedule) builds them from the
-- deduplicated rows of closed periods. A report uses a period's rollup only while it is
-- current: built from as many rows as audit_hour_rows counts in that period now. Rows are only
-- ever appended to audit_predictions, so an unchanged count means unchanged rows; any other
-- period is read from audit_predictions and deduplicated by the report itself (docs/reports.md).

-- Rows stored in audit_predictions per hour, duplicates included, counted as they are inserted.
CREATE TABLE IF NOT EXISTS audit_hour_rows
(
    `Hour` DateTime('UTC'),
    `Rows` UInt64
)
ENGINE = SummingMergeTree
ORDER BY Hour
{{ttl:Hour}};

CREATE MATERIALIZED VIEW IF NOT EXISTS audit_hour_rows_mv TO audit_hour_rows
AS SELECT
    toStartOfHour(Timestamp, 'UTC') AS Hour,
    count() AS Rows
FROM audit_predictions
GROUP BY Hour;

-- The rows each rollup period covers now: an hour for usage_hourly, a UTC day for user_daily.
CREATE VIEW IF NOT EXISTS audit_period_rows
AS SELECT 'usage_hourly' AS RollupName, Hour AS Period, sum(Rows) AS Rows
FROM audit_hour_rows
GROUP BY Hour
UNION ALL
SELECT 'user_daily' AS RollupName, toStartOfDay(Hour, 'UTC') AS Period, sum(Rows) AS Rows
FROM audit_hour_rows
GROUP BY Period;

-- One row per build of a period, written after the period's rollup rows (a build that died
-- half-way has no row here, and its rollup rows are never read).
CREATE TABLE IF NOT EXISTS audit_rollup_builds
(
    `RollupName` LowCardinality(String),
    `Period` DateTime('UTC'),
    `PeriodEnd` DateTime('UTC'),
    `BuiltAt` DateTime64(6, 'UTC'),
    `SourceRows` UInt64
)
ENGINE = MergeTree
ORDER BY (RollupName, Period, BuiltAt)
{{ttl:Period}};

-- The latest build of every period whose row count has not changed since it was built.
CREATE VIEW IF NOT EXISTS audit_rollup_current
AS SELECT built.RollupName AS RollupName, built.Period AS Period, built.LatestEnd AS PeriodEnd, built.LatestBuild AS BuiltAt
FROM
(
    SELECT
        RollupName,
        Period,
        max(PeriodEnd) AS LatestEnd,
        max(BuiltAt) AS LatestBuild,
        argMax(SourceRows, BuiltAt) AS LatestSourceRows
    FROM audit_rollup_builds
    GROUP BY RollupName, Period
) AS built
LEFT JOIN audit_period_rows AS counted ON built.RollupName = counted.RollupName AND built.Period = counted.Period
WHERE built.LatestSourceRows = counted.Rows;

-- Model usage per model, version and hour, one row per RecordId; the states merge into the
-- figures of clickhouse/queries/model_usage.sql.
CREATE TABLE IF NOT EXISTS audit_usage_hourly
(
    `Hour` DateTime('UTC'),
    `ModelName` LowCardinality(String),
    `ModelVersion` LowCardinality(String),
    `BuiltAt` DateTime64(6, 'UTC'),
    `Predictions` AggregateFunction(count),
    `Ok` AggregateFunction(countIf, UInt8),
    `Errors` AggregateFunction(countIf, UInt8),
    `Users` AggregateFunction(uniqExactIf, String, UInt8),
    `RowsPredicted` AggregateFunction(sum, UInt32),
    `Latency` AggregateFunction(quantilesExact(0.5, 0.95, 0.99), Float64),
    `LatencyMax` AggregateFunction(max, Float64),
    `LatencyMean` AggregateFunction(avg, Float64),
    `First` AggregateFunction(min, DateTime64(9)),
    `Last` AggregateFunction(max, DateTime64(9)),
    `Versions` AggregateFunction(sumMap, Map(LowCardinality(String), UInt64)),
    `Outcomes` AggregateFunction(sumMap, Map(LowCardinality(String), UInt64)),
    `Labels` AggregateFunction(sumMapIf, Map(String, UInt64), UInt8)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(Hour)
ORDER BY (ModelName, Hour, ModelVersion)
{{ttl:Hour}}
SETTINGS ttl_only_drop_parts = 1;

-- Per-user data access per UTC day and model, one row per RecordId.
CREATE TABLE IF NOT EXISTS audit_user_daily
(
    `Day` DateTime('UTC'),
    `UserId` String CODEC(ZSTD(1)),
    `ModelName` LowCardinality(String),
    `BuiltAt` DateTime64(6, 'UTC'),
    `Predictions` AggregateFunction(count),
    `Errors` AggregateFunction(countIf, UInt8),
    `Versions` AggregateFunction(groupUniqArray, LowCardinality(String)),
    `First` AggregateFunction(min, DateTime64(9)),
    `Last` AggregateFunction(max, DateTime64(9))
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(Day)
ORDER BY (UserId, Day, ModelName)
{{ttl:Day}}
SETTINGS ttl_only_drop_parts = 1;
