"""Schema: exporter-compatible columns, idempotent versioned migrations, retention."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from otel_audit import semconv
from otel_audit.errors import ConfigError, SchemaError
from otel_audit.store.connect import Store, open_store
from otel_audit.store.schema import EARLIER_CHECKSUMS, MIN_TTL_DAYS, apply_schema, schema_version
from otel_audit.store.sql import schema_files

# The OpenTelemetry Collector contrib ClickHouse exporter's tables (Map variant, >= v0.151.0),
# transcribed from its DDL templates (exporter/clickhouseexporter/internal/sqltemplates). Pinned here so
# that a change to our DDL that would break `create_schema: false` fails this test.
EXPORTER_LOGS = [
    ("Timestamp", "DateTime64(9)"),
    ("TraceId", "String"),
    ("SpanId", "String"),
    ("TraceFlags", "UInt8"),
    ("SeverityText", "LowCardinality(String)"),
    ("SeverityNumber", "UInt8"),
    ("ServiceName", "LowCardinality(String)"),
    ("Body", "String"),
    ("ResourceSchemaUrl", "LowCardinality(String)"),
    ("ResourceAttributes", "Map(LowCardinality(String), String)"),
    ("ScopeSchemaUrl", "LowCardinality(String)"),
    ("ScopeName", "String"),
    ("ScopeVersion", "LowCardinality(String)"),
    ("ScopeAttributes", "Map(LowCardinality(String), String)"),
    ("LogAttributes", "Map(LowCardinality(String), String)"),
    ("EventName", "String"),
] + [
    (f"__otel_materialized_{name}", "LowCardinality(String)")
    for name in (
        "k8s.cluster.name",
        "k8s.container.name",
        "k8s.deployment.name",
        "k8s.namespace.name",
        "k8s.node.name",
        "k8s.pod.name",
        "k8s.pod.uid",
        "deployment.environment.name",
    )
]
EXPORTER_TRACES = [
    ("Timestamp", "DateTime64(9)"),
    ("TraceId", "String"),
    ("SpanId", "String"),
    ("ParentSpanId", "String"),
    ("TraceState", "String"),
    ("SpanName", "LowCardinality(String)"),
    ("SpanKind", "LowCardinality(String)"),
    ("ServiceName", "LowCardinality(String)"),
    ("ResourceAttributes", "Map(LowCardinality(String), String)"),
    ("ScopeName", "String"),
    ("ScopeVersion", "String"),
    ("SpanAttributes", "Map(LowCardinality(String), String)"),
    ("Duration", "UInt64"),
    ("StatusCode", "LowCardinality(String)"),
    ("StatusMessage", "String"),
    ("Events.Timestamp", "Array(DateTime64(9))"),
    ("Events.Name", "Array(LowCardinality(String))"),
    ("Events.Attributes", "Array(Map(LowCardinality(String), String))"),
    ("Links.TraceId", "Array(String)"),
    ("Links.SpanId", "Array(String)"),
    ("Links.TraceState", "Array(String)"),
    ("Links.Attributes", "Array(Map(LowCardinality(String), String))"),
]


def _columns(store: Store, table: str) -> list[tuple[str, str]]:
    return [(row[0], row[1]) for row in store.query(f"DESCRIBE TABLE {table}").rows]


class TestSchema:
    def test_otel_logs_columns_match_the_exporter(self, store: Store) -> None:
        """otel_logs has exactly the exporter's columns and types, in its order."""
        assert _columns(store, "otel_logs") == EXPORTER_LOGS

    def test_otel_traces_columns_match_the_exporter(self, store: Store) -> None:
        """otel_traces has exactly the exporter's columns and types, in its order."""
        assert _columns(store, "otel_traces") == EXPORTER_TRACES

    def test_apply_is_idempotent_and_versioned(self, store: Store) -> None:
        """Applying twice changes nothing; each schema file is recorded once."""
        version = schema_version(store)
        assert version >= 3
        assert apply_schema(store) == version
        names = [row[0] for row in store.query("SELECT Name FROM otel_audit_schema_migrations ORDER BY Version").rows]
        assert names[:4] == ["000_schema_migrations", "001_otel_logs", "002_otel_traces", "003_audit_predictions"]
        assert len(names) == len(set(names))

    def test_default_retention_is_a_year(self, store: Store) -> None:
        """audit_predictions and otel_logs drop whole parts after 365 days by default."""
        for table in ("audit_predictions", "otel_logs"):
            ddl = store.query(f"SHOW CREATE TABLE {table}").rows[0][0]
            assert "TTL toDateTime(Timestamp) + toIntervalDay(365)" in ddl
            assert "ttl_only_drop_parts = 1" in ddl

    def test_retention_is_configurable_and_never_below_six_months(self, store_dsn: str) -> None:
        """ttl_days sets the TTL; 0 keeps forever; less than six months is refused."""
        fresh = open_store(store_dsn)
        with pytest.raises(ConfigError, match="six months"):
            apply_schema(fresh, ttl_days=MIN_TTL_DAYS - 1)
        apply_schema(fresh, ttl_days=400)
        assert "toIntervalDay(400)" in fresh.query("SHOW CREATE TABLE audit_predictions").rows[0][0]

    def test_zero_keeps_forever(self, store_dsn: str) -> None:
        """ttl_days=0 creates tables without TTL."""
        fresh = open_store(store_dsn)
        apply_schema(fresh, ttl_days=0)
        assert "TTL" not in fresh.query("SHOW CREATE TABLE audit_predictions").rows[0][0]

    def test_prediction_rows_leave_otel_logs_after_the_landing_period(self, store: Store) -> None:
        """The landing TTL deletes old prediction rows from otel_logs only: audit_predictions
        keeps every prediction with its input, and other log rows follow the retention."""
        rows = [  # (days ago, event name, request id)
            (30, semconv.EVENT_PREDICTION, "old"),
            (1, semconv.EVENT_PREDICTION, "recent"),
            (30, "app.other", "other"),
        ]
        now = dt.datetime.now(dt.timezone.utc)
        store.insert_columns(
            "otel_logs",
            [
                [now - dt.timedelta(days=days) for days, _, _ in rows],
                [event for _, event, _ in rows],
                [json.dumps({semconv.BODY_INPUT: {"request": r}, semconv.BODY_OUTPUT: 1}) for _, _, r in rows],
                [{semconv.AUDIT_REQUEST_ID: r, semconv.GEN_AI_REQUEST_MODEL: "m"} for _, _, r in rows],
            ],
            ["Timestamp", "EventName", "Body", "LogAttributes"],
        )
        store.command("OPTIMIZE TABLE otel_logs FINAL")  # apply the TTL now instead of at a later merge

        landed = store.query("SELECT LogAttributes['audit.request.id'] FROM otel_logs ORDER BY 1").rows
        assert landed == [("other",), ("recent",)]
        kept = store.query("SELECT RequestId, Input FROM audit_predictions ORDER BY 1").rows
        assert kept == [("old", '{"request":"old"}'), ("recent", '{"request":"recent"}')]

    def test_landing_period_is_configurable(self, store_dsn: str) -> None:
        """landing_days sets the rule, 0 removes it, beyond the retention is refused."""
        fresh = open_store(store_dsn)
        with pytest.raises(ConfigError, match="longer than the retention"):
            apply_schema(fresh, ttl_days=200, landing_days=201)
        apply_schema(fresh, ttl_days=200, landing_days=3)
        ddl = fresh.query("SHOW CREATE TABLE otel_logs").rows[0][0]
        assert "toIntervalDay(3) WHERE EventName = 'ai.prediction'" in ddl
        assert "toIntervalDay(200)" in ddl
        assert "WHERE" not in fresh.query("SHOW CREATE TABLE audit_predictions").rows[0][0].split("TTL")[1]

        forever = open_store(store_dsn.replace("?database=", "?database=keep_"))
        apply_schema(forever, ttl_days=0, landing_days=0)
        assert "TTL" not in forever.query("SHOW CREATE TABLE otel_logs").rows[0][0]

    def test_audit_predictions_is_partitioned_by_month(self, store: Store) -> None:
        """The typed table is ordered for per-model queries and partitioned by month."""
        ddl = store.query("SHOW CREATE TABLE audit_predictions").rows[0][0]
        assert "PARTITION BY toYYYYMM(Timestamp)" in ddl
        assert "ORDER BY (ModelName, Timestamp)" in ddl


_SYNC = {"mutations_sync": 2}
_ROOT = Path(__file__).resolve().parents[2]


def _set_checksum(store: Store, version: int, checksum: str) -> None:
    store.command(
        "ALTER TABLE otel_audit_schema_migrations UPDATE Checksum = {c:String} WHERE Version = {v:UInt32}",
        {"c": checksum, "v": version},
        settings=_SYNC,
    )


def _git(*args: str) -> bytes:
    return subprocess.run(["git", "-C", str(_ROOT), *args], capture_output=True, check=True, timeout=60).stdout


def _forget(store: Store, version: int) -> None:
    store.command(
        "ALTER TABLE otel_audit_schema_migrations DELETE WHERE Version = {v:UInt32}", {"v": version}, settings=_SYNC
    )


class TestMigrationsNeverChange:
    def test_a_changed_migration_is_refused_by_name(self, store: Store) -> None:
        """A store whose applied migration has another checksum than the file is a SchemaError that
        names the migration and says what to do."""
        _set_checksum(store, 2, "0" * 64)
        with pytest.raises(SchemaError, match=r"002_otel_traces.*new migration") as raised:
            apply_schema(store)
        assert "checksum 000000000000" in str(raised.value)

    def test_texts_otel_audit_once_shipped_are_accepted(self, store: Store) -> None:
        """The edited 001, 003 and 080 that stores made before migration 085 applied are known
        checksums, not changes: such a store opens."""
        for version, checksums in EARLIER_CHECKSUMS.items():
            _set_checksum(store, version, next(iter(checksums)))
        assert apply_schema(store) == schema_version(store)
        _set_checksum(store, 1, next(iter(EARLIER_CHECKSUMS[3])))  # another migration's text is not one
        with pytest.raises(SchemaError, match="001_otel_logs"):
            apply_schema(store)

    @pytest.mark.skipif(not (_ROOT / ".git").exists(), reason="needs the git history")
    def test_every_text_a_migration_ever_had_is_its_own_or_known(self) -> None:
        """Every committed text of every migration file is the file's text now or one of
        EARLIER_CHECKSUMS: a released migration is never edited again."""
        for version, name, text in schema_files():
            path = f"clickhouse/schema/{name}.sql"
            commits = _git("log", "--format=%H", "--", path).decode().split()
            history = {hashlib.sha256(_git("show", f"{commit}:{path}")).hexdigest() for commit in commits}
            allowed = {hashlib.sha256(text.encode()).hexdigest(), *EARLIER_CHECKSUMS.get(version, ())}
            assert history <= allowed, f"{name} was edited after its release"


class TestLandingRuleForOlderStores:
    def test_added_with_the_retention_the_table_has(self, store: Store) -> None:
        """A store whose otel_logs was made without the landing rule (released 001) gets it from
        085, at the retention its table has, not the one apply_schema is given."""
        store.command("ALTER TABLE otel_logs MODIFY TTL toDateTime(Timestamp) + toIntervalDay(400)")
        _forget(store, 85)
        apply_schema(store, ttl_days=200, landing_days=5)
        ddl = store.query("SHOW CREATE TABLE otel_logs").rows[0][0]
        assert (
            "TTL toDateTime(Timestamp) + toIntervalDay(400), toDateTime(Timestamp) + toIntervalDay(5) "
            "WHERE EventName = 'ai.prediction'"
        ) in ddl

    def test_a_landing_rule_in_place_is_kept(self, store_dsn: str) -> None:
        """A store made with a landing rule keeps its own landing period when 085 runs again."""
        made = open_store(store_dsn)
        apply_schema(made, ttl_days=300, landing_days=3)
        before = made.query("SHOW CREATE TABLE otel_logs").rows[0][0]
        _forget(made, 85)
        apply_schema(made, landing_days=9)
        assert made.query("SHOW CREATE TABLE otel_logs").rows[0][0] == before

    def test_a_ttl_otel_audit_did_not_write_is_left_alone(self, store: Store, caplog: pytest.LogCaptureFixture) -> None:
        """A TTL a DBA wrote is not replaced: the landing rule is not added, and a warning says so."""
        store.command("ALTER TABLE otel_logs MODIFY TTL toDateTime(Timestamp) + toIntervalMonth(13)")
        _forget(store, 85)
        apply_schema(store)
        assert "toIntervalMonth(13)" in store.query("SHOW CREATE TABLE otel_logs").rows[0][0]
        assert any("landing rule was not added" in record.getMessage() for record in caplog.records)
