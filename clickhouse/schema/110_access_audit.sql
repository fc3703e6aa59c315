-- Issue 18: the store owner's settings, appended, never edited: the current value of a setting is
-- its newest row, and the history says who changed what when. Two settings live here today:
--   access_audit        'on' (the default, when no row exists) or 'off': whether reads of the store
--                       append `audit.access` events (set by `otel-audit schema --access-audit`);
--   access_subject_key  the per-store key of the subjects' pseudonyms in access events, made once
--                       by the first read (the oldest row wins, should two writers race), used when
--                       OTEL_AUDIT_REDACTION_SECRET is not set (docs/security.md).
CREATE TABLE IF NOT EXISTS otel_audit_settings
(
    `Name` LowCardinality(String),
    `Value` String,
    `SetAt` DateTime64(9) DEFAULT now64(9),
    `SetBy` String
)
ENGINE = MergeTree
ORDER BY (Name, SetAt);
