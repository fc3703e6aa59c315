"""The cluster schema generated from the same schema files, checked by ClickHouse's own parser."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from otel_audit.cli import app
from otel_audit.errors import ConfigError
from otel_audit.store.cluster import GLOBAL_TABLES, cluster_statements
from otel_audit.store.connect import Store
from otel_audit.store.sql import render, schema_files, split_statements

_TABLE = re.compile(r"^CREATE TABLE IF NOT EXISTS (\w+)\s*\n", re.MULTILINE)
_VIEW = re.compile(r"^CREATE MATERIALIZED VIEW IF NOT EXISTS (\w+) TO (\w+)", re.MULTILINE)
_PLAIN_VIEW = re.compile(r"^CREATE VIEW IF NOT EXISTS (\w+)", re.MULTILINE)


def _single_node() -> tuple[list[str], list[str], list[str]]:
    tables, views, plain_views = [], [], []
    for _, _, text in schema_files():
        for statement in split_statements(render(text, ttl_days=365)):
            if view := _VIEW.search(statement):
                views.append(view.group(1))
            elif plain := _PLAIN_VIEW.search(statement):
                plain_views.append(plain.group(1))
            elif table := _TABLE.search(statement):
                tables.append(table.group(1))
    return tables, views, plain_views


def _logs(ttl_days: int, landing_days: int) -> str:
    [logs] = [
        statement
        for statement in cluster_statements("c1", ttl_days=ttl_days, landing_days=landing_days)
        if statement.startswith("CREATE TABLE IF NOT EXISTS otel_logs_local ")
    ]
    return logs


class TestClusterSchema:
    def test_every_statement_parses(self, store: Store) -> None:
        """ClickHouse's parser (formatQuery) accepts every generated statement."""
        statements = cluster_statements("audit_cluster", database="audit")
        for statement in statements:
            formatted = store.query("SELECT formatQuery({q:String})", {"q": statement}).rows[0][0]
            assert "ON CLUSTER audit_cluster" in formatted

    def test_shards_data_and_replicates_global_tables(self) -> None:
        """Each data table becomes Replicated *_local plus Distributed; global tables are replicated, unsharded."""
        tables, views, plain_views = _single_node()
        statements = cluster_statements("c1", database="audit", ttl_days=400)
        text = "\n".join(statements)
        for table in tables:
            if table in GLOBAL_TABLES:
                assert f"CREATE TABLE IF NOT EXISTS {table} ON CLUSTER c1\n" in text
                assert f"'/clickhouse/tables/global/{{database}}/{table}', '{{replica}}')" in text
            elif table == "audit_access_inbox":
                # An inbox keeps nothing: a Null table on every node, Distributed over them.
                [local] = [s for s in statements if s.startswith(f"CREATE TABLE IF NOT EXISTS {table}_local ")]
                assert "ENGINE = Null" in local and "Replicated" not in local
                assert f"ENGINE = Distributed(c1, audit, {table}_local, " in text
            else:
                assert f"CREATE TABLE IF NOT EXISTS {table}_local ON CLUSTER c1\n" in text
                assert f"'/clickhouse/tables/{{shard}}/{{database}}/{table}_local', '{{replica}}')" in text
                assert f"ENGINE = Distributed(c1, audit, {table}_local, " in text
        for view in views:
            for statement in [s for s in statements if f"VIEW IF NOT EXISTS {view} ON CLUSTER c1" in s]:
                assert re.search(r"TO \w+_local\b", statement)
                assert all(name.endswith("_local") for name in re.findall(r"\bFROM (\w+)", statement))
        # Later migrations drop views (080's plain views; 090 replaces a view: drop, create) and add
        # columns to _local and Distributed.
        dropped = [s for s in statements if s.startswith("DROP VIEW IF EXISTS")]
        added = [s for s in statements if " ADD COLUMN " in s]
        assert dropped == [
            "DROP VIEW IF EXISTS audit_rollup_current ON CLUSTER c1",
            "DROP VIEW IF EXISTS audit_period_rows ON CLUSTER c1",
            "DROP VIEW IF EXISTS audit_predictions_mv ON CLUSTER c1",
            "DROP VIEW IF EXISTS audit_events_mv ON CLUSTER c1",  # 130: access events from the inbox only
        ]
        assert sorted(plain_views) == ["audit_period_rows", "audit_rollup_current"]
        # 085's landing rule is part of the table it changes: no TTL change, no TTL privilege.
        assert not [s for s in statements if "MODIFY TTL" in s]
        [logs] = [s for s in statements if s.startswith("CREATE TABLE IF NOT EXISTS otel_logs_local ")]
        landing = "toDateTime(Timestamp) + toIntervalDay(7) DELETE WHERE EventName = 'ai.prediction'"
        assert f"\nTTL toDateTime(Timestamp) + toIntervalDay(400), {landing}\nSETTINGS " in logs
        assert any(s.startswith("ALTER TABLE audit_predictions_local ON CLUSTER c1") for s in added)
        assert any(s.startswith("ALTER TABLE audit_predictions ON CLUSTER c1") for s in added)
        assert any(s.startswith("ALTER TABLE audit_seal_leaves ON CLUSTER c1") for s in added)
        creates = [s for s in statements if s.startswith("CREATE")]
        assert len(creates) == 2 * len(tables) - len(set(tables) & GLOBAL_TABLES) + len(views) + len(plain_views)
        assert not [s for s in statements if s.startswith(("INSERT", "TRUNCATE"))]  # data migrations stay out
        assert not [s for s in statements if re.match(r"ALTER TABLE \w+ .*(MATERIALIZE|UPDATE)", s)]
        assert "toIntervalDay(400)" in text
        assert "ENGINE = MergeTree" not in text

    def test_landing_rule_without_retention(self) -> None:
        """With no retention, otel_logs_local gets the landing rule alone; with neither, no TTL."""
        landing = "toDateTime(Timestamp) + toIntervalDay(7) DELETE WHERE EventName = 'ai.prediction'"
        assert f"\nTTL {landing}\n" in _logs(0, 7)
        assert "TTL" not in _logs(0, 0)

    def test_bad_names_are_refused(self) -> None:
        """Cluster and database names must be plain identifiers (they are written into DDL)."""
        with pytest.raises(ConfigError, match="cluster"):
            cluster_statements("c1; DROP TABLE x")
        with pytest.raises(ConfigError, match="database"):
            cluster_statements("c1", database="a-b")

    def test_cli_prints_the_cluster_schema(self, store_dsn: str) -> None:
        """`otel-audit schema --cluster NAME` prints the statements and changes nothing."""
        result = CliRunner().invoke(app, ["schema", "--store", store_dsn, "--cluster", "c9", "--database", "audit"])
        assert result.exit_code == 0, result.stderr
        assert result.stdout.count("ON CLUSTER c9") == len(cluster_statements("c9", database="audit"))
