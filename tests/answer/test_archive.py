"""Parquet archive and restore (otel_audit.store.archive) on the seeded store: exact round trip."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest
from answer_seed import Prediction, Seeded, insert_predictions
from typer.testing import CliRunner

from otel_audit.answer import queries
from otel_audit.cli import app
from otel_audit.errors import ConfigError, StoreError
from otel_audit.store.archive import archive_months, month_cutoff, restore_archive
from otel_audit.store.connect import Store, open_store
from otel_audit.store.schema import apply_schema
from otel_audit.store.sql import query_sql

MARCH = (dt.datetime(2026, 3, 1), dt.datetime(2026, 4, 1))


def _rows(store: Store, table: str, start: dt.datetime, end: dt.datetime) -> list[tuple[object, ...]]:
    return store.query(query_sql(f"archive_{table}"), {"start": start, "end": end}).rows


def _target(store_dsn: str, name: str) -> str:
    return store_dsn.partition("?")[0] + f"?database={store_dsn.rpartition('=')[2]}_{name}"


class TestArchive:
    def test_cli_round_trip_is_exact(self, seeded: Seeded, store_dsn: str, tmp_path: Path) -> None:
        """archive writes March only (whole months before April 15); restore brings both tables back row for row."""
        folder = tmp_path / "archive"
        runner = CliRunner()
        result = runner.invoke(app, ["archive", "--before", "2026-04-15", "--to", str(folder), "--store", store_dsn])
        assert result.exit_code == 0, result.stderr
        manifest = json.loads((folder / "manifest.json").read_text())
        march = [p for p in seeded.predictions if MARCH[0] <= p.timestamp < MARCH[1]]
        duplicates = int(MARCH[0] <= seeded.predictions[0].timestamp < MARCH[1])
        assert {(f["table"], f["month"], f["rows"]) for f in manifest["files"]} == {
            ("audit_predictions", "2026-03", len(march) + duplicates),
            ("otel_logs", "2026-03", len(march) + duplicates),
        }
        assert manifest["before"] == "2026-04-01" and all(len(f["sha256"]) == 64 for f in manifest["files"])

        into = _target(store_dsn, "restored").rpartition("=")[2]
        result = runner.invoke(app, ["restore", str(folder), "--into", into, "--store", store_dsn])
        assert result.exit_code == 0, result.stderr
        restored = open_store(_target(store_dsn, "restored"))
        for table in ("audit_predictions", "otel_logs"):
            assert _rows(restored, table, *MARCH) == _rows(seeded.store, table, *MARCH)
            assert _rows(restored, table, MARCH[1], dt.datetime(2100, 1, 1)) == []
        usage = queries.outcome_mix(restored)
        assert usage["total_predictions"] == len(march)

    def test_restored_rows_outlive_the_ttl(self, store_dsn: str, tmp_path: Path) -> None:
        """Rows older than the live TTL survive a merge once restored (a TTL'd table drops them)."""
        source = open_store(_target(store_dsn, "forever"))
        apply_schema(source, ttl_days=0)
        old = {"timestamp": dt.datetime(2024, 1, 10), "record_id": "a" * 32 + "-" + "b" * 16, "request_id": "old"}
        template = Prediction(
            timestamp=old["timestamp"], model="m", version="v", pipeline="p", user="u", request_id="old",
            record_id=old["record_id"], outcome="ok", error_type="", error_message="", latency_ms=1.0,
            label="x", input={"a": 1}, output={"label": "x"}, redaction={},
        )  # fmt: skip
        insert_predictions(source, [template])
        archive_months(source, "2024-02-01", tmp_path / "a")
        restored = open_store(_target(store_dsn, "old_restored"))
        restore_archive(restored, tmp_path / "a")
        restored.command("OPTIMIZE TABLE audit_predictions FINAL")
        assert len(_rows(restored, "audit_predictions", dt.datetime(2024, 1, 1), dt.datetime(2024, 2, 1))) == 1

        live = open_store(_target(store_dsn, "live"))
        apply_schema(live, ttl_days=365)
        insert_predictions(live, [dataclasses.replace(template)])
        live.command("OPTIMIZE TABLE audit_predictions FINAL")
        assert live.query("SELECT count() FROM audit_predictions").rows[0][0] == 0

    def test_tampered_file_is_refused(self, seeded: Seeded, store_dsn: str, tmp_path: Path) -> None:
        """A changed Parquet file fails verification and nothing is restored."""
        files = archive_months(seeded.store, "2026-04-01", tmp_path / "a")
        path = tmp_path / "a" / files[0].path
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
        target = open_store(_target(store_dsn, "tampered"))
        with pytest.raises(ConfigError, match="SHA-256"):
            restore_archive(target, tmp_path / "a")
        assert target.query("SELECT count() FROM system.tables WHERE database = currentDatabase()").rows[0][0] == 0

    def test_restore_into_live_database_is_refused(self, seeded: Seeded, tmp_path: Path) -> None:
        """Restoring into a database that holds audit rows is refused with a hint."""
        archive_months(seeded.store, "2026-04-01", tmp_path / "a")
        with pytest.raises(StoreError, match="new, empty database"):
            restore_archive(seeded.store, tmp_path / "a")

    def test_existing_archive_and_bad_date(self, seeded: Seeded, tmp_path: Path) -> None:
        """An archive folder is never overwritten, and --before must be a date."""
        archive_months(seeded.store, "2026-04-01", tmp_path / "a")
        with pytest.raises(ConfigError, match="already holds an archive"):
            archive_months(seeded.store, "2026-04-01", tmp_path / "a")
        with pytest.raises(ConfigError, match="not a date"):
            month_cutoff("April")
        assert month_cutoff("2026-12-31") == dt.datetime(2026, 12, 1)
