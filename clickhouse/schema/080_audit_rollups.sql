-- Rollups: exact, pre-aggregated answers for whole hours (model usage) and whole days (per-user
-- data access), so that a report over months merges thousands of rows instead of reading and
-- deduplicating millions. `otel-audit rollup` (and `serve` on its schedule) builds them from the
-- deduplicated rows of closed periods. A report uses a period's rollup only while it is
-- current: built from as many rows as audit_hour_rows counts in that period now (the rule is in
-- clickhouse/queries/_usage_current.sql and _user_current.sql). Rows are only ever appended to
-- audit_predictions, so an unchanged count means unchanged rows; the rows of every other period
-- are read from audit_predictions and deduplicated by the report itself (docs/reports.md).

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

-- Count the rows stored before this migration (a data migration: not part of the cluster DDL,
-- whose tables start empty). A row inserted meanwhile may be counted twice, which is harmless.
INSERT INTO audit_hour_rows
SELECT toStartOfHour(Timestamp, 'UTC') AS Hour, count() AS Rows
FROM audit_predictions
GROUP BY Hour;
