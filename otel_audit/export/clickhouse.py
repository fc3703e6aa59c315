"""OpenTelemetry SDK exporters that insert columnar batches into the audit store.

The same code serves ``chdb://PATH``, ``chdb://memory`` and ``http(s)://host:8123``. Both
exporters can be built with no arguments (``OTEL_AUDIT_STORE`` names the store), so they work
as ``opentelemetry_logs_exporter`` / ``opentelemetry_traces_exporter`` entry points.

Two ways in, for two kinds of caller:

* :meth:`~ClickHouseLogRecordExporter.export` follows the SDK's exporter contract, for any SDK
  processor (``BatchLogRecordProcessor``, ``BatchSpanProcessor``): it never raises. A batch the
  store does not take returns ``FAILURE``, is logged with the reason, and is counted as dropped
  (``<signal>.dropped.rejected`` or ``<signal>.dropped.export_failed`` in ``otel_audit.stats()``),
  since those processors do not retry.
* :meth:`~ClickHouseLogRecordExporter.insert` (and :meth:`~ClickHouseLogRecordExporter.insert_encoded`
  for ``otel-audit serve``'s pre-mapped rows) raises instead, with a typed error, so that
  otel-audit's own processors can keep the batch and retry it or isolate its bad records:
  :class:`~otel_audit.export.batching.RecordsRejected` for data the store will never accept
  (decided by the engine's error code, :data:`~otel_audit.errors.DATA_ERROR_CODES`), and
  :class:`~otel_audit.errors.StoreError` for a failure that may pass.

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
from otel_audit.errors import ConfigError, StoreError
from otel_audit.export.batching import RecordsRejected
from otel_audit.export.rows import LOG_COLUMNS, SPAN_COLUMNS, log_table, span_columns
from otel_audit.stats import pipeline_stats
from otel_audit.store.connect import Store, open_store
from otel_audit.store.schema import apply_schema

__all__ = ["ClickHouseLogRecordExporter", "ClickHouseSpanExporter", "inserting", "resolve_store"]

_logger = logging.getLogger(__name__)

_INSERT_SETTINGS = {"deduplicate_blocks_in_dependent_materialized_views": 1}


def resolve_store(store: Store | str | None, *, create_schema: bool, ttl_days: int) -> Store:
    """Return *store* opened (argument > ``OTEL_AUDIT_STORE`` > default path), schema applied.

    Raises:
        ConfigError: ``OTEL_AUDIT_STORE=none`` (no store) and no argument.
    """
    if not isinstance(store, Store):
        dsn = envvars.OTEL_AUDIT_STORE.resolve(store or None)
        if dsn.lower() == envvars.NO_STORE:
            raise ConfigError(f"{envvars.OTEL_AUDIT_STORE}=none names no store; the ClickHouse exporters need one")
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
    _signal: str

    def __init__(
        self,
        store: Store | str | None = None,
        *,
        table: str | None = None,
        create_schema: bool = True,
        ttl_days: int | None = None,
    ) -> None:
        days = envvars.OTEL_AUDIT_TTL_DAYS.resolve(ttl_days)
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

    def insert_encoded(self, encode: Any, batch: Sequence[Any], *, token: str | None = None) -> None:
        """Insert *batch* mapped to columns by *encode*, as one INSERT deduplicated by *token*.

        ``otel-audit serve`` uses it for OTLP requests (:mod:`otel_audit.export.otlp`), so they
        go through the same insert as SDK records; *token* defaults to a hash of the rows.

        Raises:
            RecordsRejected: the store can never take this data.
            StoreError: the write failed and may succeed later.
        """
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
            if error.data_error:
                raise RecordsRejected(str(error), code=error.code, name=error.name) from error
            raise

    def _export(self, insert: Any, batch: Sequence[Any]) -> bool:
        """Run *insert* on *batch* under the SDK's contract: ``False`` (logged, counted) instead of raising."""
        if self._shutdown:
            _logger.warning("%s is shut down; %d %s not exported", type(self).__name__, len(batch), self._signal)
            pipeline_stats.drop(self._signal, "after_shutdown", len(batch))
            return False
        try:
            insert(batch)
        except Exception as error:  # noqa: BLE001 - an SDK exporter never raises into its processor
            reason = "rejected" if isinstance(error, RecordsRejected) else "export_failed"
            code = type(error).__name__
            if isinstance(error, (RecordsRejected, StoreError)) and (error.name or error.code):
                code = str(error.name or error.code)
            _logger.warning(
                "%s could not write %d %s to %s (%s): %s; returning FAILURE, the batch is dropped",
                type(self).__name__,
                len(batch),
                self._signal,
                self._table,
                code,
                error,
            )
            pipeline_stats.drop(self._signal, reason, len(batch), f"{self._table}: {error}")
            return False
        return True

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True

    def shutdown(self) -> None:
        self._shutdown = True


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
    _signal = "logs"

    def insert(self, batch: Sequence[ReadableLogRecord]) -> None:
        """Insert *batch* as one INSERT, raising on failure (see the module docstring).

        Raises:
            RecordsRejected: the store can never take (some of) this data.
            StoreError: the write failed and may succeed later.
        """
        self.insert_encoded(log_table, batch)

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        """Insert *batch*; ``FAILURE`` (logged and counted as dropped) if the store does not take it. Never raises."""
        return LogRecordExportResult.SUCCESS if self._export(self.insert, batch) else LogRecordExportResult.FAILURE


class ClickHouseSpanExporter(_ClickHouseExporter, SpanExporter):
    """Inserts spans into ``otel_traces``. Arguments as :class:`ClickHouseLogRecordExporter`."""

    _table = "otel_traces"
    _columns = SPAN_COLUMNS
    _signal = "spans"

    def insert(self, spans: Sequence[ReadableSpan]) -> None:
        """Insert *spans* as one INSERT, raising on failure (as :meth:`ClickHouseLogRecordExporter.insert`)."""
        self.insert_encoded(span_columns, spans)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Insert *spans*; ``FAILURE`` (logged and counted as dropped) if the store does not take them. Never raises."""
        return SpanExportResult.SUCCESS if self._export(self.insert, spans) else SpanExportResult.FAILURE


class _InsertingSpanExporter(SpanExporter):
    """A span exporter's raising insert path in the shape of an SDK exporter, for the audit processor only.

    The audit span processor calls an exporter's ``insert`` when it has one; a wrapper between
    the two (the redacting exporter) only calls ``export``. Behind such a wrapper this adapter's
    ``export`` is the raising insert, so that the processor still retries and bisects. It is never
    handed to an SDK processor.
    """

    def __init__(self, exporter: ClickHouseSpanExporter) -> None:
        self._exporter = exporter

    @property
    def store(self) -> Store:
        """The store of the wrapped exporter."""
        return self._exporter.store

    def insert(self, spans: Sequence[ReadableSpan]) -> None:
        """:meth:`ClickHouseSpanExporter.insert`."""
        self._exporter.insert(spans)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """:meth:`ClickHouseSpanExporter.insert`: raises what it raises (see the class docstring)."""
        self._exporter.insert(spans)
        return SpanExportResult.SUCCESS

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._exporter.force_flush(timeout_millis)

    def shutdown(self) -> None:
        self._exporter.shutdown()


def inserting(exporter: ClickHouseSpanExporter) -> SpanExporter:
    """*exporter*'s raising insert path, for an audit span processor behind a wrapping exporter."""
    return _InsertingSpanExporter(exporter)
