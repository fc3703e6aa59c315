"""The otel-audit CLI, in-process on the test's store (real chDB)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from otel_audit.cli import app
from otel_audit.store.connect import Store

runner = CliRunner()


def _invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def demo_store(store_dsn: str) -> str:
    """A store filled by `otel-audit demo`."""
    code, out, err = _invoke("demo", "--store", store_dsn, "--count", "600", "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    assert report["model"] == "fraud_detector" and report["total_predictions"] == 200
    assert "audited 600 predictions" in err
    return store_dsn


class TestReports:
    def test_demo_versions_and_json_report(self, demo_store: str) -> None:
        """demo rolls fraud_detector from v3.2.0 to v3.2.1 halfway; the JSON report shows both."""
        code, out, _ = _invoke(
            "report", "model-usage", "--model", "fraud_detector", "--store", demo_store, "-f", "json"
        )
        assert code == 0
        report = json.loads(out)
        assert report["versions_used"] == {"v3.2.0": 100, "v3.2.1": 100}
        assert report["unique_users"] == 5
        assert sum(report["prediction_distribution"].values()) == 200

    def test_data_access_csv_lists_every_request(self, demo_store: str, store: Store) -> None:
        """The CSV data-access report has one row per prediction made for the user."""
        code, out, _ = _invoke("report", "data-access", "--user", "analyst_jane", "--store", demo_store, "-f", "csv")
        assert code == 0
        rows = list(csv.DictReader(io.StringIO(out)))
        expected = store.query("SELECT count() FROM audit_predictions WHERE UserId = 'analyst_jane'").rows[0][0]
        assert len(rows) == expected > 0
        assert set(rows[0]) >= {"timestamp", "request_id", "model", "version", "outcome", "input_hash"}

    def test_request_and_input_reports(self, demo_store: str, store: Store) -> None:
        """A stored request id and its input hash are found again through the CLI."""
        request_id, digest = store.query("SELECT RequestId, InputHash FROM audit_predictions LIMIT 1").rows[0]
        code, out, _ = _invoke("report", "request", request_id, "--store", demo_store, "-f", "json")
        assert code == 0 and json.loads(out)["records"][0]["input_hash"] == digest
        code, out, _ = _invoke("report", "input", digest, "--store", demo_store, "-f", "json")
        assert code == 0 and request_id in {p["request_id"] for p in json.loads(out)["predictions"]}

    def test_version_at_table(self, demo_store: str) -> None:
        """The table format renders the version-at report."""
        code, out, _ = _invoke(
            "report", "version-at", "--model", "credit_scorer", "--at", "2100-01-01", "--store", demo_store
        )
        assert code == 0
        assert "latest_before" in out and "v1.5.0" in out

    def test_query_is_read_only(self, demo_store: str) -> None:
        """query runs SELECTs and refuses writes with one line."""
        code, out, _ = _invoke(
            "query", "SELECT count() AS n FROM audit_predictions", "--store", demo_store, "-f", "json"
        )
        assert code == 0 and json.loads(out) == [{"n": 600}]
        code, _, err = _invoke("query", "DROP TABLE audit_predictions", "--store", demo_store)
        assert code == 2 and "refused: only one SELECT" in err
        code, _, err = _invoke("query", "INSERT INTO otel_logs (Body) VALUES ('x')", "--store", demo_store)
        assert code == 2 and "refused: only one SELECT" in err

    def test_bad_arguments_are_one_line_errors(self, store: Store, store_dsn: str) -> None:
        """Bad time, hash and format give one-line errors and exit code 2."""
        code, _, err = _invoke("report", "model-usage", "--model", "m", "--since", "yesterday", "--store", store_dsn)
        assert code == 2 and "ISO 8601" in err
        code, _, err = _invoke("report", "input", "nothex", "--store", store_dsn)
        assert code == 2 and "SHA-256" in err
        code, _, err = _invoke("report", "model-usage", "--model", "m", "-f", "xml", "--store", store_dsn)
        assert code == 2 and "--format" in err

    def test_schema_command(self, store_dsn: str) -> None:
        """schema creates the tables and prints the version."""
        code, out, _ = _invoke("schema", "--store", store_dsn, "--ttl-days", "200")
        assert code == 0 and out.startswith("schema version ")
        code, _, err = _invoke("schema", "--store", store_dsn, "--ttl-days", "30")
        assert code == 2 and "six months" in err


_READ_ONLY = (
    ("report", "model-usage", "--model", "fraud_detector"),
    ("report", "data-access", "--user", "analyst_jane"),
    ("report", "compliance", "--model", "fraud_detector"),
    ("query", "SELECT 1"),
    ("verify",),
    ("prove", "req-1"),
    ("evidence", "--model", "fraud_detector", "--out", "pack", "--key", "{key}"),
    ("archive", "--before", "2026-04-01", "--to", "archive", "--unsigned"),
    ("status",),
)
"""Every command that only reads the store, with the arguments it needs."""


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.fixture(scope="module")
def signing_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seal signing key made by `otel-audit keygen`, outside the test's folder."""
    folder = tmp_path_factory.mktemp("keys")
    assert _invoke("keygen", "audit.test", "--out", str(folder))[0] == 0
    return folder / "audit.test.key"


class TestNoSuchStore:
    @pytest.mark.parametrize("command", _READ_ONLY, ids=lambda c: c[0] if c[0] != "report" else c[1])
    def test_misspelt_path_is_exit_5_and_creates_nothing(
        self, command: tuple[str, ...], signing_key: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A read-only command on a path that does not exist exits 5 naming the path, and creates nothing."""
        monkeypatch.chdir(tmp_path)
        missing = tmp_path / "audit-stor"
        arguments = [argument.format(key=signing_key) for argument in command]
        code, _, err = _invoke(*arguments, "--store", f"chdb://{missing}")
        assert code == 5
        line = _one_line(err)
        assert f"no audit store at {missing}" in line and "does not exist" in line
        assert not missing.exists()
        assert list(tmp_path.iterdir()) == []

    def test_two_slash_dsn_is_a_relative_path_and_says_so(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """chdb://tmp/x is the relative path tmp/x: the message shows where it looked and suggests chdb:///tmp/x."""
        monkeypatch.chdir(tmp_path)
        code, _, err = _invoke("report", "model-usage", "--model", "m", "--store", "chdb://tmp/audit")
        assert code == 5
        line = _one_line(err)
        assert str(tmp_path / "tmp" / "audit") in line
        assert "chdb://tmp/audit is the relative path tmp/audit; did you mean chdb:///tmp/audit?" in line
        assert not (tmp_path / "tmp").exists()

    def test_folder_without_a_store_is_left_untouched(self, tmp_path: Path) -> None:
        """A folder that exists but holds no chDB store is refused before the engine writes its files into it."""
        folder = tmp_path / "not-a-store"
        folder.mkdir()
        (folder / "notes.txt").write_text("mine")
        code, _, err = _invoke("query", "SELECT 1", "--store", f"chdb://{folder}")
        assert code == 5 and "holds no chDB store" in _one_line(err)
        assert sorted(path.name for path in folder.iterdir()) == ["notes.txt"]

    def test_unknown_database_is_exit_5_and_not_created(self, store: Store, engine_path: Path) -> None:
        """?database= naming no database exits 5, lists the databases that hold a store, and creates none."""
        wanted = store.database + "x"
        code, _, err = _invoke("report", "outcomes", "--store", f"chdb://{engine_path}?database={wanted}")
        assert code == 5
        line = _one_line(err)
        assert f"has no database {wanted!r}" in line
        assert f"closest first: ?database={store.database}," in line or line.endswith(f"?database={store.database}")
        databases = store.query("SELECT name FROM system.databases").rows
        assert (wanted,) not in databases

    def test_database_without_schema_is_exit_5(self, store_dsn: str) -> None:
        """A database a writer created but that holds no otel-audit schema is not a store to read."""
        from otel_audit.store.connect import open_store

        bare = open_store(store_dsn)  # created, no schema applied
        code, _, err = _invoke("query", "SELECT 1", "--store", store_dsn)
        assert code == 5 and "holds no otel-audit store" in _one_line(err)
        tables = bare.query("SELECT count() FROM system.tables WHERE database = currentDatabase()").rows[0][0]
        assert tables == 0
