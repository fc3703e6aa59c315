-- Least-privilege roles for an otel-audit ClickHouse server (docs/security.md).
-- Written for the database `otel_audit`; to use another, replace `otel_audit.` throughout, e.g.
--   sed 's/\botel_audit\./mydb./g' clickhouse/roles.sql | clickhouse-client --multiquery
-- Apply as an administrator with access management; then create users and grant them one role.
-- No role here may change or delete an audit row: nobody gets ALTER UPDATE, ALTER DELETE,
-- ALTER (all), ALTER TTL, TRUNCATE, DROP TABLE or ALL on the audit tables. Rows leave only
-- through the TTL.

-- Ingest (the SDK exporter, the collector's clickhouse exporter, `otel-audit serve`): append
-- log and span rows, read column lists for the insert context and the applied schema version.
-- The views that fill audit_predictions run with their definer's rights (the schema owner).
CREATE ROLE IF NOT EXISTS otel_audit_writer;
GRANT INSERT ON otel_audit.otel_logs TO otel_audit_writer;
GRANT INSERT ON otel_audit.otel_traces TO otel_audit_writer;
GRANT SHOW COLUMNS ON otel_audit.otel_logs TO otel_audit_writer;
GRANT SHOW COLUMNS ON otel_audit.otel_traces TO otel_audit_writer;
GRANT SELECT ON otel_audit.otel_audit_schema_migrations TO otel_audit_writer;

-- Auditors, reports, Grafana, `otel-audit archive`: read everything, change nothing. Every read
-- leaves an access event, so the one write an auditor has is appending to the access inbox, whose
-- view turns each row into an `audit.access` event and nothing else (migration 120). This is why
-- the profile does not set `readonly` (which would refuse that insert): the grants are the limit.
-- A store's pseudonym key for access events is made by the schema owner (`otel-audit schema`).
CREATE ROLE IF NOT EXISTS otel_audit_auditor;
GRANT SELECT ON otel_audit.* TO otel_audit_auditor;
GRANT INSERT ON otel_audit.audit_access_inbox TO otel_audit_auditor;
CREATE SETTINGS PROFILE IF NOT EXISTS otel_audit_auditor_limits
    SETTINGS max_execution_time = 120
    TO otel_audit_auditor;

-- Schema owner (`otel-audit schema`): creates tables and views and records migrations. It can
-- not change rows, nor the TTL (a shorter TTL deletes rows): retention changes are a DBA's act.
CREATE ROLE IF NOT EXISTS otel_audit_schema_owner;
GRANT CREATE DATABASE ON otel_audit.* TO otel_audit_schema_owner;
GRANT CREATE TABLE, CREATE VIEW ON otel_audit.* TO otel_audit_schema_owner;
GRANT SELECT ON otel_audit.* TO otel_audit_schema_owner;
GRANT INSERT ON otel_audit.otel_audit_schema_migrations TO otel_audit_schema_owner;
-- The store owner's settings (`schema --access-audit on|off`, the access events' pseudonym key),
-- and the access event that switching access events off or on leaves.
GRANT INSERT ON otel_audit.otel_audit_settings TO otel_audit_schema_owner;
GRANT INSERT ON otel_audit.audit_access_inbox TO otel_audit_schema_owner;

-- `otel-audit seal` (tamper evidence): reads the records, appends leaves and signed checkpoints.
CREATE ROLE IF NOT EXISTS otel_audit_sealer;
GRANT SELECT ON otel_audit.* TO otel_audit_sealer;
GRANT INSERT ON otel_audit.audit_seal_leaves TO otel_audit_sealer;
GRANT INSERT ON otel_audit.audit_seal_checkpoints TO otel_audit_sealer;

-- `otel-audit rollup` (and serve's schedule): reads the records, appends report rollups and
-- their build rows. Rollups are derived data; a wrong one is never read once its period's row
-- count moves, and a report without them is only slower (docs/reports.md).
CREATE ROLE IF NOT EXISTS otel_audit_rollup_builder;
GRANT SELECT ON otel_audit.* TO otel_audit_rollup_builder;
GRANT INSERT ON otel_audit.audit_usage_hourly TO otel_audit_rollup_builder;
GRANT INSERT ON otel_audit.audit_user_daily TO otel_audit_rollup_builder;
GRANT INSERT ON otel_audit.audit_rollup_builds TO otel_audit_rollup_builder;

-- GDPR erasure (`otel-audit erase`) rewrites Input/Output (and the log Body) as tombstones, which
-- needs ALTER UPDATE. No standing role has it: an administrator grants it to one person for one
-- erasure and revokes it afterwards (docs/security.md), e.g.
--   GRANT ALTER UPDATE(Input, Output) ON otel_audit.audit_predictions TO alice;
--   GRANT ALTER UPDATE(Body) ON otel_audit.otel_logs TO alice;
--   GRANT SELECT ON otel_audit.*, INSERT ON otel_audit.audit_erasures TO alice;
-- The seal still verifies (tombstones keep the content's SHA-256) and audit_erasures logs it.

-- `otel-audit restore`: builds an evidence copy in its own database (never the live one).
CREATE ROLE IF NOT EXISTS otel_audit_restorer;
GRANT CREATE DATABASE, CREATE TABLE, CREATE VIEW, DROP VIEW, INSERT, SELECT ON otel_audit_restored.* TO otel_audit_restorer;
