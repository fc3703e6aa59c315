"""The otel-audit CLI, in-process on the test's store (real chDB)."""

from __future__ import annotations

import csv
import io
import json

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

    def test_bad_arguments_are_one_line_errors(self, store_dsn: str) -> None:
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
