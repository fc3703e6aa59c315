"""OpenTelemetry SDK exporters that insert columnar batches into the audit store.

The same code serves ``chdb://PATH``, ``chdb://memory`` and ``http(s)://host:8123``. Both
exporters can be built with no arguments (``OTEL_AUDIT_STORE`` names the store), so they work
as ``opentelemetry_logs_exporter`` / ``opentelemetry_traces_exporter`` entry points.

Each batch is one INSERT carrying an ``insert_deduplication_token`` derived from the records'
identities: when a batch is retried after an insert that did reach the store, ClickHouse
discards the repeat instead of storing the records twice.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from otel_audit import envvars
from otel_audit.errors import StoreError
from otel_audit.export.batching import RecordsRejected
from otel_audit.export.rows import LOG_COLUMNS, SPAN_COLUMNS, log_table, span_columns
from otel_audit.store.connect import Store, open_store
from otel_audit.store.schema import DEFAULT_TTL_DAYS, apply_schema

__all__ = ["ClickHouseLogRecordExporter", "ClickHouseSpanExporter", "resolve_store"]

_logger = logging.getLogger(__name__)

_INSERT_SETTINGS = {"deduplicate_blocks_in_dependent_materialized_views": 1}


def resolve_store(store: Store | str | None, *, create_schema: bool, ttl_days: int) -> Store:
    """Return *store* opened (argument > ``OTEL_AUDIT_STORE`` > default path), schema applied."""
    if not isinstance(store, Store):
        dsn = store or envvars.env_str(envvars.OTEL_AUDIT_STORE) or envvars.default_store_dsn()
        store = open_store(dsn)
    if create_schema:
        apply_schema(store, ttl_days=ttl_days)
    return store


def _token(data: Any) -> str:
    """Deduplication token of a batch: a hash of its records' Timestamp, TraceId and SpanId."""
    digest = hashlib.sha256()
    if isinstance(data, list):
        for column in data[:3]:
            digest.update("\x1f".join(map(str, column)).encode())
            digest.update(b"\x1e")
    else:
        for name in ("Timestamp", "TraceId", "SpanId"):
            for chunk in data.column(name).chunks:
                for buffer in chunk.buffers():
                    if buffer is not None:
                        digest.update(buffer)
            digest.update(b"\x1e")
    return digest.hexdigest()


class _ClickHouseExporter:
    """Shared insert logic of the log and span exporters."""

    _table: str
    _columns: tuple[str, ...]

    def __init__(
        self,
        store: Store | str | None = None,
        *,
        table: str | None = None,
        create_schema: bool = True,
        ttl_days: int | None = None,
    ) -> None:
        days = (
            ttl_days
            if ttl_days is not None
            else envvars.env_int(envvars.OTEL_AUDIT_TTL_DAYS, DEFAULT_TTL_DAYS, minimum=0)
        )
        self._store = resolve_store(store, create_schema=create_schema, ttl_days=days)
        if table:
            self._table = table
        self._shutdown = False

    @property
    def store(self) -> Store:
        """The store this exporter writes to."""
        return self._store

    def _insert(self, data: Any, token: str | None = None) -> None:
        """Write one encoded batch (column lists, or an Arrow table) with its dedup token."""
        settings = {**_INSERT_SETTINGS, "insert_deduplication_token": token or _token(data)}
        if isinstance(data, list):
            self._store.insert_columns(self._table, data, self._columns, settings=settings)
        else:
            self._store.insert_arrow(self._table, data, settings=settings)

    def export_encoded(self, encode: Any, batch: Sequence[Any], *, token: str | None = None) -> None:
        """Insert *batch* mapped to columns by *encode*, as one INSERT deduplicated by *token*.

        ``otel-audit serve`` uses it for OTLP requests (:mod:`otel_audit.export.otlp`), so they
        go through the same insert as SDK records; *token* defaults to a hash of the rows.

        Raises:
            RecordsRejected: the store can never take this data.
            StoreError: the write failed and may succeed later.
        """
        self._export(encode, batch, token)

    def _export(self, encode: Any, batch: Sequence[Any], token: str | None = None) -> None:
        """Insert *batch*; raise RecordsRejected for data the store can never take."""
        if self._shutdown:
            raise StoreError("exporter is shut down")
        try:
            data = encode(batch)
        except (TypeError, ValueError, AttributeError, OverflowError) as error:
            raise RecordsRejected(f"cannot map record to {self._table} columns: {error}") from error
        try:
            # Subclasses (tests' fault wrappers) may override _insert(data) without a token.
            self._insert(data) if token is None else self._insert(data, token)
        except StoreError as error:
            if _is_data_error(error):
                raise RecordsRejected(str(error)) from error
            raise

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True

    def shutdown(self) -> None:
        self._shutdown = True


def _is_data_error(error: StoreError) -> bool:
    text = str(error)
    return any(
        name in text for name in ("TYPE_MISMATCH", "CANNOT_PARSE", "ILLEGAL_TYPE_OF_ARGUMENT", "TOO_LARGE_STRING_SIZE")
    )


class ClickHouseLogRecordExporter(_ClickHouseExporter, LogRecordExporter):
    """Inserts log records into ``otel_logs`` (and so, via the view, ``audit_predictions``).

    Args:
        store: a :class:`Store`, a DSN, or ``None`` for ``OTEL_AUDIT_STORE`` / the default path.
        table: target table, ``otel_logs`` by default.
        create_schema: apply ``clickhouse/schema`` first (idempotent).
        ttl_days: retention used if the schema is created (default ``OTEL_AUDIT_TTL_DAYS`` / 365).
    """

    _table = "otel_logs"
    _columns = LOG_COLUMNS

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        """Insert *batch*; exceptions propagate so the processor can retry or bisect."""
        self._export(log_table, batch)
        return LogRecordExportResult.SUCCESS


class ClickHouseSpanExporter(_ClickHouseExporter, SpanExporter):
    """Inserts spans into ``otel_traces``. Arguments as :class:`ClickHouseLogRecordExporter`."""

    _table = "otel_traces"
    _columns = SPAN_COLUMNS

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Insert *spans*; exceptions propagate so the processor can retry or bisect."""
        self._export(span_columns, spans)
        return SpanExportResult.SUCCESS
