"""The query sandbox on an embedded store: every escape refused, nothing read or written outside, analytics kept.

Each escape was reproduced before the sandbox existed: through `otel-audit query`, ClickHouse's
``readonly = 2`` let table functions, the ``file()`` function and ``INTO OUTFILE`` through.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import otel_audit
from otel_audit.cli import app
from otel_audit.errors import QueryError
from otel_audit.store.connect import Store
from otel_audit.store.sandbox import QueryLimits, QueryRefusedError

CANARY = "canary-7f3e1b"


@pytest.fixture
def canary(tmp_path: Path) -> Path:
    """A file the store's owner can read, which no query may return."""
    path = tmp_path / "canary.txt"
    path.write_text(CANARY + "\n")
    return path


def escapes(canary: Path, url: str, out: Path) -> list[str]:
    """Statements that read or write outside the store, reach the network, hold the engine, or write."""
    return [
        f"SELECT * FROM file('{canary}', 'LineAsString')",
        f"SELECT _path FROM file('{canary.parent}/*', 'LineAsString')",
        f"SELECT file('{canary}')",
        f"SELECT FILE('{canary}')",
        f"SELECT 1 WHERE '{CANARY}' IN file('{canary}', 'LineAsString')",
        f"SELECT * FROM url('{url}', 'LineAsString')",
        f"SELECT 1 WHERE 'x' IN url('{url}', 'LineAsString')",
        f"SELECT * FROM (SELECT * FROM url('{url}', 'LineAsString'))",
        f"WITH s AS (SELECT * FROM file('{canary}', 'LineAsString')) SELECT * FROM s",
        f"SELECT (SELECT any(line) FROM file('{canary}', 'LineAsString'))",
        f"SELECT 'x' AS x INTO OUTFILE '{out}' TRUNCATE",
        f"SELECT 'x' AS x INTO OUTFILE '{out}' APPEND",
        f"SELECT 'x' /* a comment */ INTO OUTFILE '{out}' AND STDOUT",
        f"SELECT * FROM executable('cat {canary}', 'LineAsString', 'x String')",
        "SELECT * FROM remote('127.0.0.1', system.one)",
        "SELECT * FROM merge(currentDatabase(), '.*')",
        "SELECT * FROM python(x)",
        "SELECT * FROM view(SELECT 1)",
        f"SELECT * FROM s3('{url}', 'LineAsString')",
        "SELECT * FROM system.query_log",
        "SELECT * FROM system.users",
        "SELECT * FROM other_db.secret",
        "SELECT * FROM {t:Identifier}",
        "SELECT sleepEachRow(1) FROM numbers(1000)",
        "SELECT sleep(3)",
        "SELECT dictGet('d', 'a', toUInt64(1))",
        "SELECT joinGet('j', 'v', 1)",
        "SELECT hasColumnInTable('system', 'users', 'name')",
        "SELECT COLUMNS('Body') APPLY(file) FROM otel_logs",
        "SELECT 1 SETTINGS max_execution_time = 100000",
        "SELECT count() FROM otel_logs SETTINGS readonly = 0",
        "SELECT 1 FORMAT TSV",
        "SELECT 1; SELECT 2",
        "DROP TABLE otel_logs",
        "TRUNCATE TABLE otel_logs",
        "ALTER TABLE otel_logs DELETE WHERE 1",
        "INSERT INTO otel_logs (Body) VALUES ('forged')",
        "INSERT INTO otel_logs (Body) SELECT 'forged'",
        "CREATE TABLE x (a Int8) ENGINE = File(TSV, '/tmp/x')",
        "SYSTEM FLUSH LOGS",
        "OPTIMIZE TABLE otel_logs FINAL",
        "SET readonly = 0",
        "KILL QUERY WHERE 1",
        "EXPLAIN SELECT 1",
        "SHOW TABLES",
        "DESCRIBE TABLE otel_logs",
        "GRANT ALL ON *.* TO default",
        "SELECT " + "(" * 400 + "1" + ")" * 400,
    ]


LEGITIMATE = [
    ("SELECT count() AS n FROM audit_predictions", [(3,)]),
    (
        "SELECT ModelName, count() AS n, round(avg(LatencyMs), 3) AS mean FROM audit_predictions "
        "GROUP BY ModelName ORDER BY ModelName",
        None,
    ),
    (
        "WITH per_user AS (SELECT UserId, count() AS n FROM audit_predictions GROUP BY UserId) "
        "SELECT UserId, n, row_number() OVER (ORDER BY n DESC, UserId) AS rank FROM per_user ORDER BY rank",
        None,
    ),
    (
        "SELECT p.RecordId, t.SpanName FROM audit_predictions AS p "
        "LEFT JOIN otel_traces AS t ON p.TraceId = t.TraceId AND p.SpanId = t.SpanId ORDER BY p.RecordId",
        None,
    ),
    ("SELECT JSONExtractString('{\"a\": \"b\"}', 'a') AS v", [("b",)]),
    ("SELECT arrayMap(x -> x * 2, [1, 2, 3]) AS doubled", [([2, 4, 6],)]),
    ("SELECT number FROM numbers(5) WHERE number IN (SELECT toUInt64(2)) UNION ALL SELECT toUInt64(9)", None),
    ("SELECT name FROM system.tables WHERE database = currentDatabase() AND name = 'otel_logs'", [("otel_logs",)]),
    ("SELECT count() FROM audit_predictions WHERE ModelName IN (SELECT ModelName FROM audit_predictions)", [(3,)]),
    ("SELECT '%(a)s file(x) INTO OUTFILE' AS text", [("%(a)s file(x) INTO OUTFILE",)]),
    ("SELECT 1 AS x; ", [(1,)]),
]


@pytest.fixture
def seeded(store: Store) -> Store:
    """Three predictions of two models in the test's store."""
    otel_audit.configure(store=store, service_name="sandbox-test", schedule_delay_ms=50, redact=False)
    for index, model in enumerate(("alpha", "alpha", "beta")):
        with otel_audit.audit_prediction(model=model, version="v1", user_id=f"u{index}", input={"i": index}) as p:
            p.output = {"label": "ok"}
    otel_audit.shutdown()
    store.command("CREATE DATABASE IF NOT EXISTS other_db")
    store.command("CREATE TABLE IF NOT EXISTS other_db.secret (s String) ENGINE = Memory")
    store.insert_columns("other_db.secret", [[CANARY]], ["s"])
    return store


def _count(store: Store) -> int:
    return int(store.query("SELECT count() FROM otel_logs").rows[0][0])


class TestEscapesRefused:
    def test_each_escape_is_refused_and_touches_nothing(
        self, seeded: Store, canary: Path, local_http: tuple[str, list[str]], tmp_path: Path
    ) -> None:
        """Every escape gets a refusal that says why; no file is read or written, no service is reached."""
        url, hits = local_http
        out = tmp_path / "written.txt"
        for sql in escapes(canary, url, out):
            with pytest.raises(QueryError) as refusal:
                seeded.read(sql)
            message = str(refusal.value)
            assert CANARY not in message, sql
            assert "only read-only statements" not in message
            if "canary" in sql or "INTO OUTFILE" in sql or "url(" in sql:
                assert isinstance(refusal.value, QueryRefusedError), (sql, message)
        assert not out.exists()
        assert hits == []

    def test_refusals_name_the_reason(self, seeded: Store, canary: Path) -> None:
        """A refused table function, a foreign table and a write each get their own explanation."""
        cases = {
            f"SELECT * FROM file('{canary}', 'LineAsString')": "table function file()",
            "SELECT * FROM system.query_log": "system.query_log",
            "SELECT * FROM other_db.secret": "outside the store's database",
            "DROP TABLE otel_logs": "only one SELECT",
            "SELECT 1 INTO OUTFILE 'x'": "INTO OUTFILE",
            "SELECT 1 SETTINGS max_threads = 1": "SETTINGS",
            "SELECT sleep(1)": "function sleep()",
        }
        for sql, reason in cases.items():
            with pytest.raises(QueryRefusedError, match=reason.replace("(", r"\(").replace(")", r"\)")):
                seeded.read(sql)

    def test_engine_errors_are_not_called_refusals(self, seeded: Store) -> None:
        """An unknown column is the engine's error, not a read-only refusal."""
        with pytest.raises(QueryError, match="UNKNOWN_IDENTIFIER") as failure:
            seeded.read("SELECT no_such_column FROM otel_logs")
        assert not isinstance(failure.value, QueryRefusedError)
        with pytest.raises(QueryError, match=r"(?i)syntax error"):
            seeded.read("SELEC 1")

    def test_parameters_are_bound_server_side_never_formatted(self, seeded: Store) -> None:
        """A parameter no placeholder uses is refused, so the driver can never format it into the SQL."""
        injection = {"a": "x' UNION ALL SELECT s FROM other_db.secret --"}
        with pytest.raises(QueryRefusedError, match="not used by a"):
            seeded.read("SELECT '%(a)s' AS v", injection)
        with pytest.raises(QueryRefusedError, match="plain identifier"):
            seeded.read("SELECT 1", {"$a$": b"x"})
        rows = seeded.read("SELECT {a:String} AS v", injection).rows
        assert rows == [(injection["a"],)]


class TestLegitimateQueries:
    def test_analytics_still_work(self, seeded: Store) -> None:
        """Aggregates, CTEs, window functions, joins, JSON and lambda functions, IN subqueries run."""
        for sql, expected in LEGITIMATE:
            result = seeded.read(sql)
            if expected is not None:
                assert result.rows == expected, sql
            else:
                assert result.rows, sql

    def test_parameters(self, seeded: Store) -> None:
        """Values are bound as {name:Type} parameters."""
        rows = seeded.read("SELECT count() FROM audit_predictions WHERE ModelName = {m:String}", {"m": "alpha"}).rows
        assert rows == [(2,)]


class TestSessionsStaySeparate:
    def test_a_refused_write_then_a_write_succeeds(self, seeded: Store) -> None:
        """After refused and failed reads, the writer is not read-only: DDL and new records go in."""
        for sql in ("DROP TABLE otel_logs", "INSERT INTO otel_logs (Body) VALUES ('x')", "SELECT nope"):
            with pytest.raises(QueryError):
                seeded.read(sql)
        before = _count(seeded)
        seeded.command("CREATE TABLE IF NOT EXISTS after_refusal (a Int8) ENGINE = Memory")
        otel_audit.configure(store=seeded, service_name="sandbox-test", schedule_delay_ms=50, redact=False)
        with otel_audit.audit_prediction(model="gamma", version="v1", input={"i": 9}) as p:
            p.output = "ok"
        otel_audit.shutdown()
        assert otel_audit.stats()["dropped"] == 0
        assert _count(seeded) == before + 1
        assert seeded.query("SELECT getSetting('readonly')").rows == [(2,)]  # the read session, by design

    @pytest.mark.slow
    def test_a_long_read_does_not_hold_up_the_writer(self, seeded: Store) -> None:
        """While a read runs (until its time limit), an insert completes."""
        from otel_audit.store.embedded import EmbeddedStore

        assert isinstance(seeded, EmbeddedStore)
        seeded.limits = QueryLimits(max_execution_time_s=5)
        outcome: list[BaseException] = []

        def long_read() -> None:
            try:
                seeded.read("SELECT count() FROM numbers(100000000000)")
            except QueryError as error:
                outcome.append(error)

        reader = threading.Thread(target=long_read)
        reader.start()
        time.sleep(0.5)
        seeded.insert_columns("other_db.secret", [["while-reading"]], ["s"])
        assert reader.is_alive(), "the insert waited for the read to finish"
        reader.join(30)
        assert outcome and "TIMEOUT_EXCEEDED" in str(outcome[0])
        assert seeded.query("SELECT count() FROM other_db.secret WHERE s = 'while-reading'").rows == [(1,)]


class TestLimits:
    def test_result_rows_are_capped(self, seeded: Store) -> None:
        """A result larger than the pinned row limit is an error that names the limit."""
        seeded.limits = QueryLimits(max_result_rows=10)  # type: ignore[attr-defined]
        with pytest.raises(QueryError, match="TOO_MANY_ROWS_OR_BYTES"):
            seeded.read("SELECT number FROM numbers(1000)")
        assert len(seeded.read("SELECT number FROM numbers(5)").rows) == 5

    def test_env_sets_the_limits(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """OTEL_AUDIT_QUERY_* variables set the pinned limits; bad values fall back to defaults."""
        from otel_audit.store.connect import query_limits

        monkeypatch.setenv("OTEL_AUDIT_QUERY_TIMEOUT_S", "7")
        monkeypatch.setenv("OTEL_AUDIT_QUERY_MAX_ROWS", "nope")
        limits = query_limits()
        assert limits.max_execution_time_s == 7 and limits.max_result_rows == QueryLimits().max_result_rows


class TestCli:
    def test_query_refuses_and_explains(self, seeded: Store, canary: Path) -> None:
        """`otel-audit query` prints one line naming the refusal, exit 2, and nothing of the file."""
        result = CliRunner().invoke(
            app, ["query", f"SELECT * FROM file('{canary}', 'LineAsString')", "--store", seeded.dsn]
        )
        assert result.exit_code == 2
        assert "refused: table function file()" in result.output and CANARY not in result.output

    def test_query_answers(self, seeded: Store) -> None:
        """A legitimate statement is answered as before."""
        result = CliRunner().invoke(
            app, ["query", "SELECT count() AS n FROM audit_predictions", "--store", seeded.dsn, "-f", "json"]
        )
        assert result.exit_code == 0, result.output
        assert json.loads(result.output) == [{"n": 3}]
