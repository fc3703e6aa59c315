"""Archive whole months of audit rows to Parquet, and restore them exactly.

Usage::

    otel-audit archive --before 2026-04-01 --to /archive/2026q1     # March and earlier
    otel-audit restore /archive/2026q1 --into otel_audit_restored   # a separate database

:func:`archive_months` writes, for every whole calendar month (UTC) that ends on or before the
first day of *before*'s month, one Parquet file of ``audit_predictions`` and one of the matching
prediction log rows of ``otel_logs`` (``EventName = 'ai.prediction'``), every stored row including
at-least-once duplicates, plus ``manifest.json`` with each file's row count and SHA-256. It never
deletes: the store's TTL removes rows later.

:func:`restore_archive` verifies every file against the manifest, then loads it into a separate,
empty database it sets up for the purpose: tables with **no TTL** (ClickHouse drops rows older
than a table's TTL at its next merge, so restoring year-old rows into the live tables would lose
them again) and **without** the ``otel_logs`` → ``audit_predictions`` view, so both tables come
back exactly as archived instead of the view deriving a second copy. The restored database is an
evidence copy: query it with ``--store …?database=NAME``, do not ingest into it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from otel_audit.errors import ConfigError, StoreError
from otel_audit.store.connect import Store
from otel_audit.store.schema import apply_schema, schema_version
from otel_audit.store.sql import query_sql

__all__ = ["ARCHIVE_FORMAT", "ArchivedFile", "archive_months", "month_cutoff", "restore_archive", "verify_archive"]

ARCHIVE_FORMAT = "otel-audit-archive/1"
"""``format`` field of the manifest; restore refuses any other."""

TABLES = ("audit_predictions", "otel_logs")
"""Archived tables, in restore order."""

_MANIFEST = "manifest.json"
Progress = Callable[[str, int], None]
"""Called after each file with a short description and the total number of files."""


@dataclasses.dataclass(frozen=True)
class ArchivedFile:
    """One Parquet file of an archive, as listed in its manifest."""

    table: str
    month: str
    path: str
    rows: int
    sha256: str

    @classmethod
    def from_dict(cls, entry: dict[str, Any]) -> ArchivedFile:
        """Read one manifest entry; raises :class:`ConfigError` when a field is missing or wrong."""
        try:
            made = cls(
                str(entry["table"]), str(entry["month"]), str(entry["path"]), int(entry["rows"]), str(entry["sha256"])
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ConfigError(f"bad manifest entry {entry!r}: {error}") from None
        if made.table not in TABLES or Path(made.path).name != made.path:
            raise ConfigError(f"bad manifest entry {entry!r}: unknown table or a path outside the archive")
        return made


def _pyarrow() -> Any:
    import pyarrow.parquet as pq

    return pq


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def month_cutoff(before: dt.date | dt.datetime | str) -> dt.datetime:
    """First instant (UTC) not archived: the first day of *before*'s month.

    Raises:
        ConfigError: *before* is not a date.
    """
    if isinstance(before, str):
        try:
            before = dt.date.fromisoformat(before.strip()[:10])
        except ValueError:
            raise ConfigError(f"--before {before!r} is not a date (YYYY-MM-DD)") from None
    return dt.datetime(before.year, before.month, 1)


def _next_month(month: dt.datetime) -> dt.datetime:
    return dt.datetime(month.year + month.month // 12, month.month % 12 + 1, 1)


def archive_months(
    store: Store, before: dt.date | dt.datetime | str, directory: Path, *, progress: Progress | None = None
) -> list[ArchivedFile]:
    """Write every whole month before *before* to Parquet files in *directory*, with a manifest.

    Args:
        store: the store to read.
        before: archive the months that end on or before the first day of this date's month.
        directory: a new or empty folder (an existing manifest is never overwritten).
        progress: called after each file is written (see :data:`Progress`).

    Returns:
        The files written, as recorded in the manifest.

    Raises:
        ConfigError: *directory* already holds an archive, or *before* is not a date.
    """
    pq = _pyarrow()
    cutoff = month_cutoff(before)
    directory.mkdir(parents=True, exist_ok=True)
    if (directory / _MANIFEST).exists():
        raise ConfigError(f"{directory} already holds an archive ({_MANIFEST}); choose a new folder")
    months = [row[0] for row in store.query(query_sql("archive_months"), {"cutoff": cutoff}).rows]
    files: list[ArchivedFile] = []
    for month in months:
        start = dt.datetime(month.year, month.month, 1)
        label = start.strftime("%Y-%m")
        for table in TABLES:
            data = store.query_arrow(query_sql(f"archive_{table}"), {"start": start, "end": _next_month(start)})
            name = f"{table}-{label}.parquet"
            pq.write_table(data, directory / name, compression="zstd")
            files.append(ArchivedFile(table, label, name, data.num_rows, _sha256(directory / name)))
            if progress:
                progress(f"{table} {label}: {data.num_rows} rows", len(months) * len(TABLES))
    manifest = {
        "format": ARCHIVE_FORMAT,
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "before": cutoff.date().isoformat(),
        "source_database": store.database,
        "schema_version": schema_version(store),
        "files": [dataclasses.asdict(f) for f in files],
    }
    (directory / _MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return files


def verify_archive(directory: Path) -> list[ArchivedFile]:
    """Check every file of the archive in *directory* against its manifest (size in rows and SHA-256).

    Raises:
        ConfigError: no manifest, an unknown format, a missing file or a checksum/row-count mismatch.
    """
    pq = _pyarrow()
    try:
        manifest = json.loads((directory / _MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ConfigError(f"{directory} holds no readable {_MANIFEST}: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != ARCHIVE_FORMAT:
        raise ConfigError(f"{directory / _MANIFEST} is not an {ARCHIVE_FORMAT} manifest")
    files = [ArchivedFile.from_dict(entry) for entry in manifest.get("files", [])]
    for entry in files:
        path = directory / entry.path
        if not path.is_file():
            raise ConfigError(f"archive file {path} is missing")
        if _sha256(path) != entry.sha256:
            raise ConfigError(f"archive file {path} does not match its SHA-256 in the manifest")
        rows = pq.ParquetFile(path).metadata.num_rows
        if rows != entry.rows:
            raise ConfigError(f"archive file {path} has {rows} rows, the manifest says {entry.rows}")
    return files


def restore_archive(store: Store, directory: Path, *, progress: Progress | None = None) -> list[ArchivedFile]:
    """Load the verified archive in *directory* into *store*'s database, which must be empty.

    The database gets the schema with no TTL and without the audit view (see the module
    docstring), so every archived row comes back unchanged.

    Raises:
        ConfigError: the archive fails verification.
        StoreError: the target database already holds audit rows or a schema with a TTL.
    """
    pq = _pyarrow()
    files = verify_archive(directory)
    if schema_version(store):
        counts = store.query(query_sql("restore_row_counts")).dicts()[0]
        if any(counts.values()):
            raise StoreError(
                f"database {store.database} already holds audit rows ({counts}); restore into a new, empty database "
                "(--into NAME)"
            )
        state = store.query(query_sql("restore_target_state"), {"database": store.database}).dicts()[0]
        if state["ttl_tables"] or state["views"]:
            raise StoreError(
                f"database {store.database} has the live schema (TTL, audit view); restore into a new database"
            )
    else:
        apply_schema(store, ttl_days=0, landing_days=0)
        store.command("DROP VIEW IF EXISTS audit_predictions_mv")
    for entry in files:
        store.insert_arrow(entry.table, pq.read_table(directory / entry.path))
        if progress:
            progress(f"{entry.table} {entry.month}: {entry.rows} rows", len(files))
    return files
