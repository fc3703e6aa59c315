"""SDK processors that feed any exporter through :class:`BatchWorker`: back-pressure, not loss.

Drop-in replacements for ``BatchLogRecordProcessor`` / ``BatchSpanProcessor`` for audit data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry.context import (
    _SUPPRESS_INSTRUMENTATION_KEY,
    Context,
    attach,
    detach,
    set_value,
)
from opentelemetry.sdk._logs import LogRecordProcessor, ReadableLogRecord, ReadWriteLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from otel_audit.export.batching import BatchWorker
from otel_audit.stats import PipelineStats, pipeline_stats

__all__ = ["AuditLogRecordProcessor", "AuditSpanProcessor", "ExportFailed"]

_EMPTY_RESOURCE = Resource.get_empty()


class ExportFailed(Exception):  # noqa: N818 - mirrors ExportResult.FAILURE
    """An exporter returned ``FAILURE``; the batch is retried."""


def _suppressed_export(exporter: Any, signal: str, success: Any) -> Any:
    def export(batch: Sequence[Any]) -> None:
        # The exporter's own I/O must never be traced or audited.
        token = attach(set_value(_SUPPRESS_INSTRUMENTATION_KEY, True))
        try:
            result = exporter.export(batch)
        finally:
            detach(token)
        if result is not success:
            raise ExportFailed(f"{type(exporter).__name__} returned {result!r} for {len(batch)} {signal}")

    return export


class _BatchingMixin:
    """The queue, flush and shutdown both audit processors share."""

    _exporter: Any
    _worker: BatchWorker[Any]

    def _start_worker(
        self,
        exporter: Any,
        success: Any,
        *,
        signal: str,
        name: str,
        max_queue_size: int,
        max_export_batch_size: int,
        schedule_delay_millis: float,
        block_timeout_millis: float | None,
        stats: PipelineStats,
    ) -> None:
        self._exporter = exporter
        self._worker = BatchWorker(
            name,
            _suppressed_export(exporter, signal, success),
            signal=signal,
            max_queue_size=max_queue_size,
            max_batch_size=max_export_batch_size,
            schedule_delay_s=schedule_delay_millis / 1000,
            block_timeout_s=None if block_timeout_millis is None else block_timeout_millis / 1000,
            stats=stats,
        )

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._worker.force_flush(timeout_millis / 1000) and bool(self._exporter.force_flush(timeout_millis))

    def shutdown(self) -> None:
        self._worker.shutdown()
        self._exporter.shutdown()


class AuditLogRecordProcessor(_BatchingMixin, LogRecordProcessor):
    """Batches log records to *exporter*; a full queue makes ``on_emit`` wait, never drop.

    Args:
        exporter: any ``LogRecordExporter``; its failures are retried with backoff.
        max_queue_size, max_export_batch_size, schedule_delay_millis: as the SDK's batch processor.
        block_timeout_millis: ``None`` waits for room forever; otherwise drops (counted) after it.
    """

    def __init__(
        self,
        exporter: LogRecordExporter,
        *,
        max_queue_size: int = 16384,
        max_export_batch_size: int = 8192,
        schedule_delay_millis: float = 1000,
        block_timeout_millis: float | None = None,
        name: str = "otel-audit-logs",
        stats: PipelineStats = pipeline_stats,
    ) -> None:
        self._start_worker(
            exporter,
            LogRecordExportResult.SUCCESS,
            signal="logs",
            name=name,
            max_queue_size=max_queue_size,
            max_export_batch_size=max_export_batch_size,
            schedule_delay_millis=schedule_delay_millis,
            block_timeout_millis=block_timeout_millis,
            stats=stats,
        )

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        self._worker.put(
            ReadableLogRecord(
                log_record=log_record.log_record,
                resource=log_record.resource or _EMPTY_RESOURCE,
                instrumentation_scope=log_record.instrumentation_scope,
                limits=log_record.limits,
            )
        )


class AuditSpanProcessor(_BatchingMixin, SpanProcessor):
    """Batches ended spans to *exporter* with the same no-loss policy as the log processor."""

    def __init__(
        self,
        exporter: SpanExporter,
        *,
        max_queue_size: int = 16384,
        max_export_batch_size: int = 8192,
        schedule_delay_millis: float = 1000,
        block_timeout_millis: float | None = None,
        name: str = "otel-audit-spans",
        stats: PipelineStats = pipeline_stats,
    ) -> None:
        self._start_worker(
            exporter,
            SpanExportResult.SUCCESS,
            signal="spans",
            name=name,
            max_queue_size=max_queue_size,
            max_export_batch_size=max_export_batch_size,
            schedule_delay_millis=schedule_delay_millis,
            block_timeout_millis=block_timeout_millis,
            stats=stats,
        )

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        if span.context is not None and span.context.trace_flags.sampled:
            self._worker.put(span)
