-- Which schema files have been applied to this database, with their checksums.
CREATE TABLE IF NOT EXISTS otel_audit_schema_migrations
(
    `Version` UInt32,
    `Name` String,
    `Checksum` String,
    `AppliedAt` DateTime64(3) DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY Version;
