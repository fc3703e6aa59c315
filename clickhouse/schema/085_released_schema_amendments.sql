-- What migrations 001, 003 and 080 gained after stores had applied them, delivered to every store
-- that applied their released text. Those three files are back to that text: a migration never
-- changes once a store has applied it, and otel_audit/store/schema.py refuses one whose checksum
-- changed. A store that applied an edited text (an otel-audit from before this migration) already
-- has everything below, and each statement leaves it as it is. Numbered before 090, whose RowHash
-- reads ResourceAttributes; a store that applied 090 first gets this one after it, to the same end.

-- 003: each prediction's resource (service.version, host, deployment...), kept in
-- audit_predictions because prediction rows leave otel_logs after the landing period. Rows stored
-- before have none here (their landing rows kept it in otel_logs). Not part of the seal's leaf.
-- Migration 090's view fills it.
ALTER TABLE audit_predictions
    ADD COLUMN IF NOT EXISTS `ResourceAttributes` Map(LowCardinality(String), String) CODEC(ZSTD(1)) AFTER Attributes;

-- 001: otel_logs becomes a landing table: prediction rows leave it after the landing period,
-- once the view has copied them into audit_predictions, the table of record; other log rows
-- follow the retention (docs/retention.md). apply_schema renders this statement with the
-- retention the table already has, never another, and skips it for a table that already has a
-- landing rule.
ALTER TABLE otel_logs MODIFY {{ttl:Timestamp:landing}};

-- 080: the rollup currency views, which the reports no longer read (the rule is in
-- clickhouse/queries/_usage_current.sql and _user_current.sql).
DROP VIEW IF EXISTS audit_rollup_current;

DROP VIEW IF EXISTS audit_period_rows;

-- 080: count the rows audit_hour_rows missed because they were stored before it existed: per
-- hour, only the difference, so a row counted already is not counted again (a data migration:
-- not part of the cluster DDL, whose tables start empty).
INSERT INTO audit_hour_rows
SELECT stored.Hour, stored.Rows - counted.Rows
FROM
(
    SELECT toStartOfHour(Timestamp, 'UTC') AS Hour, count() AS Rows
    FROM audit_predictions
    GROUP BY Hour
) AS stored
LEFT JOIN
(
    SELECT Hour, sum(Rows) AS Rows FROM audit_hour_rows GROUP BY Hour
) AS counted ON stored.Hour = counted.Hour
WHERE stored.Rows > counted.Rows;
