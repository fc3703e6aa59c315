-- Whether {database} exists, and which databases hold an otel-audit schema (the migrations table
-- {table}): how a read-only command tells a DSN that names a store from one that names nothing.
SELECT
    (SELECT count() FROM system.databases WHERE name = {database:String}) AS database_exists,
    (SELECT arraySort(groupArray(database)) FROM system.tables WHERE name = {table:String}) AS audit_databases
