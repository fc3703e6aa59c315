"""Parquet archive and restore (otel_audit.store.archive) on the seeded store: exact round trip, signed."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import shutil
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from answer_seed import Prediction, Seeded, insert_predictions
from typer.testing import CliRunner, Result

from otel_audit.answer import queries
from otel_audit.cli import app
from otel_audit.errors import ConfigError, StoreError
from otel_audit.seal import SealError
from otel_audit.store.archive import archive_months, month_cutoff, restore_archive
from otel_audit.store.connect import Store, open_store
from otel_audit.store.schema import apply_schema
from otel_audit.store.sql import query_sql

MARCH = (dt.datetime(2026, 3, 1), dt.datetime(2026, 4, 1))


def _rows(store: Store, table: str, start: dt.datetime, end: dt.datetime) -> list[tuple[object, ...]]:
    return store.query(query_sql(f"archive_{table}"), {"start": start, "end": end}).rows


def _target(store_dsn: str, name: str) -> str:
    return store_dsn.partition("?")[0] + f"?database={store_dsn.rpartition('=')[2]}_{name}"


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _restore(store_dsn: str, folder: Path, name: str, *args: str) -> Result:
    """`otel-audit restore FOLDER` into the database *name* next to the test's."""
    into = _target(store_dsn, name).rpartition("=")[2]
    return _invoke("restore", str(folder), "--out", into, "--store", store_dsn, *args)


def _tables(store_dsn: str, name: str) -> int:
    target = open_store(_target(store_dsn, name))
    return target.query("SELECT count() FROM system.tables WHERE database = currentDatabase()").rows[0][0]


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    """The seal's key pair, made by `otel-audit keygen`."""
    assert _invoke("keygen", "audit.archive", "--out", str(tmp_path / "keys")).exit_code == 0
    return tmp_path / "keys" / "audit.archive.key", tmp_path / "keys" / "audit.archive.pub"


@pytest.fixture
def signed(seeded: Seeded, store_dsn: str, keys: tuple[Path, Path], tmp_path: Path) -> Path:
    """The seeded store sealed, and March archived by `otel-audit archive --signing-key`."""
    assert _invoke("seal", "--store", store_dsn, "--signing-key", str(keys[0])).exit_code == 0
    folder = tmp_path / "archive"
    result = _invoke(
        "archive", "--before", "2026-04-15", "--out", str(folder), "--store", store_dsn, "--signing-key", str(keys[0])
    )
    assert result.exit_code == 0, result.stderr
    assert "signed by audit.archive" in result.stderr
    return folder


def _rewrite_manifest(folder: Path, change: dict[str, object] | None = None, *, drop: str = "") -> None:
    """Edit manifest.json as a forger would: new row count and SHA-256 for a file, or an entry removed."""
    manifest = json.loads((folder / "manifest.json").read_text())
    change = change or {}
    entries = [entry for entry in manifest["files"] if entry["path"] != drop]
    manifest["files"] = [{**entry, **change} if entry["path"] == change.get("path") else entry for entry in entries]
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


class TestArchive:
    def test_cli_round_trip_is_exact(
        self, seeded: Seeded, store_dsn: str, signed: Path, keys: tuple[Path, Path]
    ) -> None:
        """archive writes March only (whole months before April 15) and the seal, signed; restore brings both tables
        back row for row and verifies them against the seal, and `verify` checks the restored copy again."""
        folder = signed
        manifest = json.loads((folder / "manifest.json").read_text())
        march = [p for p in seeded.predictions if MARCH[0] <= p.timestamp < MARCH[1]]
        duplicates = int(MARCH[0] <= seeded.predictions[0].timestamp < MARCH[1])
        assert {(f["table"], f["month"], f["rows"]) for f in manifest["files"]} == {
            ("audit_predictions", "2026-03", len(march) + duplicates),
            ("audit_events", "2026-03", 0),
            ("otel_logs", "2026-03", len(march) + duplicates),
            ("audit_seal_leaves", "", len(seeded.predictions)),
            ("audit_seal_checkpoints", "", 1),
            ("audit_erasures", "", 0),
        }
        assert manifest["before"] == "2026-04-01" and all(len(f["sha256"]) == 64 for f in manifest["files"])
        assert manifest["seal_tree_size"] == len(seeded.predictions) and (folder / "MANIFEST").is_file()

        result = _restore(store_dsn, folder, "restored", "--verifier-key", str(keys[1]))
        assert result.exit_code == 0, result.stderr
        assert f"signature checked; {len(march) + duplicates} restored records verify against the archived seal" in (
            result.stderr
        )
        restored = open_store(_target(store_dsn, "restored"))
        for table in ("audit_predictions", "otel_logs"):
            assert _rows(restored, table, *MARCH) == _rows(seeded.store, table, *MARCH)
            assert _rows(restored, table, MARCH[1], dt.datetime(2100, 1, 1)) == []
        usage = queries.outcome_mix(restored)
        assert usage["total_predictions"] == len(march)
        window = ("--since", "2026-03-01", "--until", "2026-04-01")
        result = _invoke("verify", "--store", _target(store_dsn, "restored"), "--verifier-key", str(keys[1]), *window)
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout)["records_checked"] == len(march) + duplicates

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
        archive_months(source, "2024-02-01", tmp_path / "a", signer=None)
        restored = open_store(_target(store_dsn, "old_restored"))
        restore_archive(restored, tmp_path / "a", accept_unverified=True)
        restored.command("OPTIMIZE TABLE audit_predictions FINAL")
        assert len(_rows(restored, "audit_predictions", dt.datetime(2024, 1, 1), dt.datetime(2024, 2, 1))) == 1

        live = open_store(_target(store_dsn, "live"))
        apply_schema(live, ttl_days=365)
        insert_predictions(live, [dataclasses.replace(template)])
        live.command("OPTIMIZE TABLE audit_predictions FINAL")
        assert live.query("SELECT count() FROM audit_predictions").rows[0][0] == 0

    def test_tampered_file_is_refused(self, seeded: Seeded, store_dsn: str, tmp_path: Path) -> None:
        """A changed Parquet file fails verification, even of an unsigned archive, and nothing is restored."""
        files = archive_months(seeded.store, "2026-04-01", tmp_path / "a", signer=None)
        path = tmp_path / "a" / files[0].path
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
        target = open_store(_target(store_dsn, "tampered"))
        with pytest.raises(SealError, match="SHA-256"):
            restore_archive(target, tmp_path / "a", accept_unverified=True)
        assert _tables(store_dsn, "tampered") == 0

    def test_restore_into_live_database_is_refused(self, seeded: Seeded, tmp_path: Path) -> None:
        """Restoring into a database that holds audit rows is refused with a hint."""
        archive_months(seeded.store, "2026-04-01", tmp_path / "a", signer=None)
        with pytest.raises(StoreError, match="new, empty database"):
            restore_archive(seeded.store, tmp_path / "a", accept_unverified=True)

    def test_existing_archive_and_bad_date(self, seeded: Seeded, tmp_path: Path) -> None:
        """An archive folder is never overwritten, and --before must be a date."""
        archive_months(seeded.store, "2026-04-01", tmp_path / "a", signer=None)
        with pytest.raises(ConfigError, match="already holds an archive"):
            archive_months(seeded.store, "2026-04-01", tmp_path / "a", signer=None)
        with pytest.raises(ConfigError, match="not a date"):
            month_cutoff("April")
        assert month_cutoff("2026-12-31") == dt.datetime(2026, 12, 1)


def _in_thread(*args: str, timeout: float = 120) -> Result:
    """Run the CLI in a daemon thread and fail (instead of hanging) if it does not return in time."""
    results: list[Result] = []
    thread = threading.Thread(target=lambda: results.append(_invoke(*args)), daemon=True)
    thread.start()
    thread.join(timeout)
    assert results, f"otel-audit {args[0]} blocked for {timeout} s"
    return results[0]


class TestSignedArchive:
    def test_forged_rows_with_recomputed_sha256_are_refused(
        self, signed: Path, store_dsn: str, keys: tuple[Path, Path]
    ) -> None:
        """A Parquet file with a forged user id, its SHA-256 and row count put in manifest.json, is refused; nothing
        is loaded."""
        path = signed / "audit_predictions-2026-03.parquet"
        table = pq.read_table(path)
        forged = table.set_column(
            table.schema.get_field_index("UserId"), "UserId", pa.array(["mallory"] * table.num_rows, pa.string())
        )
        pq.write_table(forged, path, compression="zstd")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        _rewrite_manifest(signed, {"path": path.name, "sha256": digest, "rows": forged.num_rows})
        result = _restore(store_dsn, signed, "forged", "--verifier-key", str(keys[1]))
        assert result.exit_code == 1 and "archive does NOT verify" in result.stderr
        assert "manifest.json: checksum differs" in result.stderr
        assert _tables(store_dsn, "forged") == 0

    def test_removed_entry_is_refused(self, signed: Path, store_dsn: str, keys: tuple[Path, Path]) -> None:
        """A manifest with an entry removed is refused, whether its file is left behind or deleted too."""
        _rewrite_manifest(signed, drop="otel_logs-2026-03.parquet")
        result = _restore(store_dsn, signed, "dropped", "--verifier-key", str(keys[1]))
        assert result.exit_code == 1 and "manifest.json: checksum differs" in result.stderr
        (signed / "otel_logs-2026-03.parquet").unlink()
        result = _restore(store_dsn, signed, "dropped", "--verifier-key", str(keys[1]))
        assert result.exit_code == 1 and "missing: ['otel_logs-2026-03.parquet']" in result.stderr
        assert _tables(store_dsn, "dropped") == 0

    def test_another_key_is_refused(self, signed: Path, store_dsn: str, tmp_path: Path) -> None:
        """An archive re-signed by, or checked with, another key does not verify."""
        assert _invoke("keygen", "audit.archive", "--out", str(tmp_path / "other")).exit_code == 0
        result = _restore(store_dsn, signed, "other", "--verifier-key", str(tmp_path / "other" / "audit.archive.pub"))
        assert result.exit_code == 1 and "not signed by key" in result.stderr

    def test_symlink_and_fifo_are_refused(self, signed: Path, store_dsn: str, keys: tuple[Path, Path]) -> None:
        """An archive file replaced by a symbolic link to its copy, or by a FIFO, is refused at once."""
        name = "otel_logs-2026-03.parquet"
        shutil.move(signed / name, signed.parent / name)
        (signed / name).symlink_to(signed.parent / name)
        result = _restore(store_dsn, signed, "linked", "--verifier-key", str(keys[1]))
        assert result.exit_code == 1 and f"{name} is a symbolic link" in result.stderr
        (signed / name).unlink()
        os.mkfifo(signed / name)
        into = _target(store_dsn, "fifo").rpartition("=")[2]
        for extra in (["--verifier-key", str(keys[1])], ["--accept-unverified"]):
            result = _in_thread("restore", str(signed), "--out", into, "--store", store_dsn, *extra)
            assert result.exit_code == 1 and f"{name} is not a regular file" in result.stderr
        assert _tables(store_dsn, "linked") == 0

    def test_unsigned_archive_needs_an_explicit_flag(
        self, seeded: Seeded, store_dsn: str, keys: tuple[Path, Path], tmp_path: Path
    ) -> None:
        """archive needs a key or --unsigned; restore refuses an unsigned archive, or no key, unless told to accept
        unverified rows, and then says so."""
        folder = tmp_path / "unsigned"
        result = _invoke("archive", "--before", "2026-04-15", "--out", str(folder), "--store", store_dsn)
        assert result.exit_code == 2 and "no signing key" in result.stderr and not folder.exists()
        result = _invoke("archive", "--before", "2026-04-15", "--out", str(folder), "--store", store_dsn, "--unsigned")
        assert result.exit_code == 0 and "UNSIGNED" in result.stderr and not (folder / "MANIFEST").exists()
        result = _restore(store_dsn, folder, "unsigned")
        assert result.exit_code == 2 and "--accept-unverified" in result.stderr
        result = _restore(store_dsn, folder, "unsigned", "--verifier-key", str(keys[1]))
        assert result.exit_code == 2 and "is not a signed archive" in result.stderr
        assert _tables(store_dsn, "unsigned") == 0
        result = _restore(store_dsn, folder, "unsigned", "--accept-unverified")
        assert result.exit_code == 0 and "UNVERIFIED" in result.stderr

    def test_unsigned_archive_with_an_entry_removed_is_refused(
        self, seeded: Seeded, store_dsn: str, tmp_path: Path
    ) -> None:
        """Even unverified, an archive whose manifest lost the entry of a file it holds is refused."""
        archive_months(seeded.store, "2026-04-15", tmp_path / "a", signer=None)
        _rewrite_manifest(tmp_path / "a", drop="otel_logs-2026-03.parquet")
        result = _restore(store_dsn, tmp_path / "a", "unsigned_dropped", "--accept-unverified")
        assert result.exit_code == 1 and "extra: ['otel_logs-2026-03.parquet']" in result.stderr

    def test_unsealed_months_are_not_signed(
        self, seeded: Seeded, store_dsn: str, keys: tuple[Path, Path], tmp_path: Path
    ) -> None:
        """A signed archive vouches for sealed rows only: archive --signing-key refuses months not sealed yet."""
        folder = tmp_path / "a"
        archive = ("archive", "--before", "2026-04-15", "--out", str(folder), "--store", store_dsn)
        result = _invoke(*archive, "--signing-key", str(keys[0]))
        assert result.exit_code == 2 and "unsealed record" in result.stderr and "otel-audit seal" in result.stderr
        assert not (folder / "MANIFEST").exists()


@pytest.fixture(params=[0o022, 0o000], ids=["umask022", "umask000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """The process umask for one test, restored after it."""
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


class TestPrivateArchive:
    def test_archive_files_are_private(self, umask: int, seeded: Seeded, store_dsn: str, tmp_path: Path) -> None:
        """Whatever the umask, the archive folder is 0700 and every file in it 0600."""
        folder = tmp_path / "new" / "archive"
        archive_months(seeded.store, "2026-04-15", folder, signer=None)
        assert _mode(folder) == 0o700
        assert {path.name: _mode(path) for path in folder.iterdir()} == {path.name: 0o600 for path in folder.iterdir()}
