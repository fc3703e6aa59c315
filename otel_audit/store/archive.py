"""Archive whole months of audit rows to Parquet, and restore them exactly.

Usage::

    otel-audit archive --before 2026-04-01 --out /archive/2026q1 --signing-key audit.key   # March and earlier
    otel-audit restore /archive/2026q1 --verifier-key audit.pub --out otel_audit_restored  # a separate database

:func:`archive_months` writes, for every whole calendar month (UTC) that ends on or before the
first day of *before*'s month, one Parquet file of ``audit_predictions``, one of ``audit_events``
(decisions, access events) and one of the matching log rows of ``otel_logs`` (``EventName`` of a
prediction or an audit event), every stored row including at-least-once duplicates. It adds the
seal as it stands (``audit_seal_leaves`` up to the newest checkpoint, every checkpoint up to it,
``audit_erasures``), ``manifest.json`` with each file's
table, month, row count and SHA-256, and, signed with the seal's key, a ``MANIFEST``
(:mod:`otel_audit.seal.manifest`) over all of them. It signs only months that verify against the
seal (:func:`otel_audit.seal.verify.verify` over the archived period): an archive vouches for
rows that were sealed and unchanged. Folder ``0700``, files ``0600``. It never deletes: the
store's TTL removes rows later.

:func:`restore_archive` checks the ``MANIFEST`` signature with the verifier key, that the folder
holds exactly the signed files (regular files only: a symbolic link or FIFO is refused) and every
checksum, so a forged row (even with its SHA-256 recomputed) or a removed entry is refused and
nothing is loaded. It then loads the files into a separate, empty database it sets up for the
purpose: tables with **no TTL** (ClickHouse drops rows older than a table's TTL at its next merge,
so restoring year-old rows into the live tables would lose them again) and **without** the
``otel_logs`` → ``audit_predictions``/``audit_events`` views, so the tables come back exactly as
archived instead of the views deriving a second copy. Last, it verifies the restored rows against the restored seal.
The restored database is an evidence copy: query it with ``--store …?database=NAME``, and verify
it again at any time (``otel-audit verify --store … --since … --until …``); do not ingest into it.

An archive written with ``signer=None`` (``archive --unsigned``), or by a version before signed
archives (format ``otel-audit-archive/1``), has no ``MANIFEST``: nobody vouches for it, and
:func:`restore_archive` refuses it unless called with ``accept_unverified=True``
(``restore --accept-unverified``), which checks the unsigned checksums only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from otel_audit._files import (
    make_private_dir,
    open_private_file,
    open_regular_file,
    read_regular_file,
    write_private_file,
)
from otel_audit.errors import ConfigError, FileRefusedError, StoreError
from otel_audit.store.connect import Store
from otel_audit.store.schema import apply_schema, schema_version
from otel_audit.store.sql import query_sql

if TYPE_CHECKING:
    from otel_audit.seal.checkpoint import NoteSigner, NoteVerifier

__all__ = [
    "ARCHIVE_FORMAT",
    "ArchiveCheck",
    "ArchivedFile",
    "archive_months",
    "month_cutoff",
    "restore_archive",
    "verify_archive",
]

ARCHIVE_FORMAT = "otel-audit-archive/2"
"""``format`` field of the manifest and first line of the signed ``MANIFEST``."""

_UNSIGNED_FORMATS = ("otel-audit-archive/1",)
"""Older formats: never signed, restored only with ``accept_unverified``."""

TABLES = ("audit_predictions", "audit_events", "otel_logs")
"""Archived tables, by month, in restore order."""

SEAL_TABLES = ("audit_seal_leaves", "audit_seal_checkpoints", "audit_erasures")
"""The seal's tables, archived whole (up to the newest checkpoint) after the monthly files."""

_MANIFEST = "manifest.json"
_NAMES = (_MANIFEST, "MANIFEST")
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
        if made.table not in TABLES + SEAL_TABLES or Path(made.path).name != made.path or made.path in _NAMES:
            raise ConfigError(f"bad manifest entry {entry!r}: unknown table or a path outside the archive")
        return made


def _pyarrow() -> Any:
    import pyarrow.parquet as pq

    return pq


@dataclasses.dataclass(frozen=True)
class ArchiveCheck:
    """What :func:`verify_archive` (and :func:`restore_archive`) established about an archive."""

    files: tuple[ArchivedFile, ...]
    cutoff: dt.datetime
    """The first instant not archived (the manifest's ``before``)."""
    signed: bool
    """The ``MANIFEST`` signature was checked: the key holder vouches for every file."""
    sealed_records: int | None = None
    """Restored rows verified against the archived seal (set by :func:`restore_archive`)."""

    @property
    def rows(self) -> int:
        """Rows in the monthly files."""
        return sum(entry.rows for entry in self.files if entry.table in TABLES)

    @property
    def since(self) -> dt.datetime:
        """The first instant archived: the start of the oldest archived month (the cut-off if none)."""
        months = sorted(entry.month for entry in self.files if entry.table in TABLES)
        return dt.datetime.strptime(months[0], "%Y-%m") if months else self.cutoff


def _file_sha256(path: Path) -> str:
    from otel_audit.seal.manifest import file_sha256

    return file_sha256(path)


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
    store: Store,
    before: dt.date | dt.datetime | str,
    directory: Path,
    *,
    signer: NoteSigner | None,
    progress: Progress | None = None,
) -> list[ArchivedFile]:
    """Write every whole month before *before* to Parquet files in *directory*, with the seal and a manifest.

    Args:
        store: the store to read.
        before: archive the months that end on or before the first day of this date's month.
        directory: a new or empty folder, made ``0700`` (an archive is never overwritten).
        signer: the seal's signing key: sign the archive, after checking that the archived
            months verify against the seal. ``None`` writes an unsigned archive, which
            :func:`restore_archive` loads only with ``accept_unverified=True``.
        progress: called after each file is written (see :data:`Progress`).

    Returns:
        The files written, as recorded in the manifest.

    Raises:
        ConfigError: *directory* already holds an archive or other files, or *before* is not a date.
        SealError: *signer* is given and the archived months do not verify against the seal
            (records not sealed yet, altered or deleted: run ``otel-audit verify``).
    """
    pq = _pyarrow()
    cutoff = month_cutoff(before)
    if (directory / _MANIFEST).exists():
        raise ConfigError(f"{directory} already holds an archive ({_MANIFEST}); choose a new folder")
    if directory.is_dir() and any(directory.iterdir()):
        raise ConfigError(f"{directory} is not empty; an archive needs a new, empty folder")
    months = [row[0] for row in store.query(query_sql("archive_months"), {"cutoff": cutoff}).rows]
    since = dt.datetime(months[0].year, months[0].month, 1) if months else cutoff
    tree_size = _sealed_tree_size(store, signer, since, cutoff)
    make_private_dir(directory)
    total = len(months) * len(TABLES) + len(SEAL_TABLES)
    files: list[ArchivedFile] = []

    def write(table: str, month: str, name: str, sql: str, parameters: dict[str, Any]) -> None:
        data = store.query_arrow(query_sql(sql), parameters)
        with open_private_file(directory / name, exclusive=True) as handle:
            pq.write_table(data, handle, compression="zstd")
        files.append(ArchivedFile(table, month, name, data.num_rows, _file_sha256(directory / name)))
        if progress:
            progress(f"{f'{table} {month}'.strip()}: {data.num_rows} rows", total)

    for month in months:
        start = dt.datetime(month.year, month.month, 1)
        label = start.strftime("%Y-%m")
        bounds = {"start": start, "end": _next_month(start)}
        for table in TABLES:
            write(table, label, f"{table}-{label}.parquet", f"archive_{table}", bounds)
    for table in SEAL_TABLES:
        # The erasure log is archived whole (erasures are not in the tree): no tree size to bind,
        # and a front door's sandbox refuses a parameter its statement does not use.
        bound = {} if table == "audit_erasures" else {"size": tree_size}
        write(table, "", f"{table}.parquet", f"archive_{table}", bound)
    manifest = {
        "format": ARCHIVE_FORMAT,
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "before": cutoff.date().isoformat(),
        "source_database": store.database,
        "schema_version": schema_version(store),
        "seal_tree_size": tree_size,
        "signed_by": str(signer.verifier) if signer else None,
        "files": [dataclasses.asdict(f) for f in files],
    }
    write_private_file(directory / _MANIFEST, json.dumps(manifest, indent=2) + "\n", exclusive=True)
    if signer is not None:
        from otel_audit.seal.manifest import write_manifest

        write_manifest(directory, ARCHIVE_FORMAT, [_MANIFEST, *(f.path for f in files)], signer)
    return files


def _sealed_tree_size(store: Store, signer: NoteSigner | None, since: dt.datetime, cutoff: dt.datetime) -> int:
    """The size of the tree to archive: the newest checkpoint, verified over ``[since, cutoff)`` when signing."""
    from otel_audit.seal._errors import SealError
    from otel_audit.seal.stored import load_checkpoints
    from otel_audit.seal.verify import verify

    if signer is None:
        checkpoints = load_checkpoints(store)
        return checkpoints[-1].tree_size if checkpoints else 0
    report = verify(store, signer.verifier, since=since, until=cutoff)
    if not report.ok:
        raise SealError(
            f"the months to archive do not verify against the seal (first: {report.first_bad}); run `otel-audit seal` "
            "if records are not sealed yet, `otel-audit verify` otherwise, or archive --unsigned"
        )
    return report.tree_size


def verify_archive(
    directory: Path, verifier: NoteVerifier | None = None, *, accept_unverified: bool = False
) -> ArchiveCheck:
    """Check the archive in *directory*: its signature, its list of files, every checksum and row count.

    Args:
        directory: the archive folder.
        verifier: the seal's verifier key; the archive's ``MANIFEST`` must be signed by it.
        accept_unverified: accept an archive whose signature is not checked (no *verifier*, or
            an unsigned archive): only the unsigned ``manifest.json`` checksums are checked, which
            catch damage, not forgery.

    Returns:
        The archive's files and cut-off, and whether its signature was checked.

    Raises:
        ConfigError: no *verifier* or no ``MANIFEST``, and not *accept_unverified*; or no
            readable ``manifest.json``.
        SealError: the signature, the list of files, a checksum or a row count does not verify,
            or a file is not a regular file.
    """
    from otel_audit.seal._errors import SealError
    from otel_audit.seal.manifest import MANIFEST, check_folder, open_manifest

    has_manifest = (directory / MANIFEST).exists() or (directory / MANIFEST).is_symlink()
    signed = verifier is not None and has_manifest
    if not signed and not accept_unverified:
        if verifier is None:
            raise ConfigError(
                "restoring an archive checks its signature: pass --verifier-key with the seal's verifier key, or "
                "--accept-unverified to restore rows nobody vouches for"
            )
        raise ConfigError(
            f"{directory} is not a signed archive (written with --unsigned, or before archives were signed): "
            "restore it with --accept-unverified if you accept rows nobody vouches for"
        )
    digests = open_manifest(directory, ARCHIVE_FORMAT, verifier) if verifier is not None and signed else None
    manifest = _read_manifest(directory, digests)
    files = tuple(ArchivedFile.from_dict(entry) for entry in manifest.get("files", []))
    names = [entry.path for entry in files]
    if len(set(names)) != len(names):
        raise SealError(f"{_MANIFEST} lists a file twice")
    if digests is not None:
        if set(digests) != {_MANIFEST, *names}:
            raise SealError(f"{_MANIFEST} lists other files than the signed {MANIFEST}")
        if any(digests[entry.path] != entry.sha256 for entry in files):
            raise SealError(f"{_MANIFEST} names another SHA-256 than the signed {MANIFEST}")
    else:
        extra = [MANIFEST] if has_manifest else []
        check_folder(directory, [_MANIFEST, *names, *extra])
    pq = _pyarrow()
    for entry in files:
        _check_file(directory / entry.path, entry, pq)
    cutoff = month_cutoff(str(manifest.get("before", "")))
    return ArchiveCheck(files, cutoff, signed=digests is not None)


def _read_manifest(directory: Path, digests: dict[str, str] | None) -> dict[str, Any]:
    """``manifest.json``, checked against the signed *digests* when there are any."""
    from otel_audit.seal._errors import SealError
    from otel_audit.seal.manifest import read_listed

    if digests is not None:
        data = read_listed(directory, _MANIFEST, digests.get(_MANIFEST, ""))
    else:
        try:
            data = read_regular_file(directory / _MANIFEST)
        except (OSError, FileRefusedError) as error:
            raise ConfigError(f"{directory} holds no readable {_MANIFEST}: {error}") from None
    try:
        manifest = json.loads(data.decode("utf-8"))
    except ValueError as error:
        raise SealError(f"{_MANIFEST} is not JSON: {error}") from None
    formats = (ARCHIVE_FORMAT,) if digests is not None else (ARCHIVE_FORMAT, *_UNSIGNED_FORMATS)
    if not isinstance(manifest, dict) or manifest.get("format") not in formats:
        raise ConfigError(f"{directory / _MANIFEST} is not an {ARCHIVE_FORMAT} manifest")
    return manifest


def _check_file(path: Path, entry: ArchivedFile, pq: Any) -> None:
    """One archive file: a regular file whose SHA-256 and row count are the manifest's."""
    from otel_audit.seal._errors import SealError

    digest = hashlib.sha256()
    try:
        with open_regular_file(path) as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
            if digest.hexdigest() != entry.sha256:
                raise SealError(f"archive file {entry.path} does not match its SHA-256 in the manifest")
            handle.seek(0)
            rows = pq.ParquetFile(handle).metadata.num_rows
    except FileNotFoundError:
        raise SealError(f"archive file {entry.path} is missing") from None
    except (OSError, ValueError, FileRefusedError) as error:  # pyarrow's ArrowInvalid is a ValueError
        raise SealError(f"archive file {entry.path}: {error}") from None
    if rows != entry.rows:
        raise SealError(f"archive file {entry.path} has {rows} rows, the manifest says {entry.rows}")


def restore_archive(
    store: Store,
    directory: Path,
    *,
    verifier: NoteVerifier | None = None,
    accept_unverified: bool = False,
    progress: Progress | None = None,
) -> ArchiveCheck:
    """Load the verified archive in *directory* into *store*'s database, which must be empty.

    The database gets the schema with no TTL and without the audit view (see the module
    docstring), so every archived row comes back unchanged. With a *verifier* and an archive
    that carries the seal, the restored rows are then verified against it.

    Args:
        store: the target database (new or empty).
        directory: the archive folder.
        verifier: the seal's verifier key (see :func:`verify_archive`).
        accept_unverified: see :func:`verify_archive`.
        progress: called after each file is loaded.

    Returns:
        What was checked, with ``sealed_records`` set when the restored rows were verified.

    Raises:
        ConfigError: the archive is unsigned or no key was given, and not *accept_unverified*.
        SealError: the archive fails verification (nothing is loaded), or the restored rows do
            not verify against the archived seal (they stay in the database, for inspection).
        StoreError: the target database already holds audit rows or a schema with a TTL.
    """
    import pyarrow as pa

    from otel_audit.seal._errors import SealError
    from otel_audit.seal.verify import verify

    pq = _pyarrow()
    checked = verify_archive(directory, verifier, accept_unverified=accept_unverified)
    files = checked.files
    if schema_version(store):
        counts = store.query(query_sql("restore_row_counts")).dicts()[0]
        if any(counts.values()):
            raise StoreError(
                f"database {store.database} already holds audit rows ({counts}); restore into a new, empty database "
                "(--out NAME)"
            )
        state = store.query(query_sql("restore_target_state"), {"database": store.database}).dicts()[0]
        if state["ttl_tables"] or state["views"]:
            raise StoreError(
                f"database {store.database} has the live schema (TTL, audit view); restore into a new database"
            )
    else:
        apply_schema(store, ttl_days=0, landing_days=0)
        store.command("DROP VIEW IF EXISTS audit_predictions_mv")
        store.command("DROP VIEW IF EXISTS audit_events_mv")
    for entry in files:
        try:
            data = read_regular_file(directory / entry.path)
        except (OSError, FileRefusedError) as error:
            raise SealError(f"archive file {entry.path}: {error}") from None
        if hashlib.sha256(data).hexdigest() != entry.sha256:
            raise SealError(f"archive file {entry.path} changed while it was restored")
        store.insert_arrow(entry.table, pq.read_table(pa.BufferReader(data)))
        if progress:
            progress(f"{f'{entry.table} {entry.month}'.strip()}: {entry.rows} rows", len(files))
    if verifier is None or not {entry.table for entry in files} >= set(SEAL_TABLES):
        return checked
    report = verify(store, verifier, since=checked.since, until=checked.cutoff)
    if not report.ok:
        raise SealError(
            f"the restored rows do not verify against the archived seal (first: {report.first_bad}); database "
            f"{store.database} keeps them for inspection"
        )
    return dataclasses.replace(checked, sealed_records=report.records_checked)
