"""SDK processors that feed any exporter through :class:`BatchWorker`: back-pressure, not loss.

Drop-in replacements for ``BatchLogRecordProcessor`` / ``BatchSpanProcessor`` for audit data.
An exporter with a raising ``insert`` method (:class:`BatchInserter`: the ClickHouse exporters)
is driven through it, so that a failure is retried and a rejected record isolated; any other
exporter is driven through ``export``, whose ``FAILURE`` is retried. ``force_flush`` and
``shutdown`` spread one :class:`~otel_audit.deadline.Deadline` over the queue and the exporter.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

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

from otel_audit.deadline import Deadline
from otel_audit.export.batching import BatchWorker, QueuePolicy
from otel_audit.stats import PipelineStats, pipeline_stats

__all__ = ["AuditLogRecordProcessor", "AuditSpanProcessor", "BatchInserter", "ExportFailed"]

_EMPTY_RESOURCE = Resource.get_empty()


class ExportFailed(Exception):  # noqa: N818 - mirrors ExportResult.FAILURE
    """An exporter returned ``FAILURE``; the batch is retried."""


@runtime_checkable
class BatchInserter(Protocol):
    """An exporter with a raising insert path: ``insert(batch)`` returns or raises.

    It raises :class:`~otel_audit.export.batching.RecordsRejected` for records the destination
    will never accept (the batch is bisected), anything else for a failure worth retrying.
    """

    def insert(self, batch: Sequence[Any]) -> None:
        """Write *batch* or raise."""


def _suppressed_export(exporter: Any, signal: str, success: Any) -> Any:
    inserter = exporter if isinstance(exporter, BatchInserter) else None

    def export(batch: Sequence[Any]) -> None:
        # The exporter's own I/O must never be traced or audited.
        token = attach(set_value(_SUPPRESS_INSTRUMENTATION_KEY, True))
        try:
            if inserter is not None:
                inserter.insert(batch)
                return
            result = exporter.export(batch)
        finally:
            detach(token)
        if result is not success:
            raise ExportFailed(f"{type(exporter).__name__} returned {result!r} for {len(batch)} {signal}")

    return export


def _takes_timeout(method: Any) -> bool:
    """True when *method* accepts ``timeout_millis`` (some exporters' ``shutdown`` does)."""
    try:
        return "timeout_millis" in inspect.signature(method).parameters
    except (TypeError, ValueError):
        return False


class _BatchingMixin:
    """The queue, flush and shutdown both audit processors share."""

    _exporter: Any
    _worker: BatchWorker[Any]
    _closed: bool

    def _start_worker(
        self,
        exporter: Any,
        success: Any,
        *,
        signal: str,
        name: str,
        policy: QueuePolicy,
        stats: PipelineStats,
    ) -> None:
        self._exporter = exporter
        self._closed = False
        self._worker = BatchWorker(
            name,
            _suppressed_export(exporter, signal, success),
            signal=signal,
            max_queue_size=policy.max_queue_size,
            max_batch_size=policy.max_export_batch_size,
            schedule_delay_s=policy.schedule_delay_millis / 1000,
            block_timeout_s=policy.block_timeout_s,
            stats=stats,
        )

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Export everything queued, then flush the exporter, all within *timeout_millis*."""
        deadline = Deadline.from_millis(timeout_millis)
        return self._worker.force_flush(deadline) and bool(self._exporter.force_flush(deadline.remaining_millis()))

    def shutdown(self, timeout_millis: int = 30000) -> None:
        """Export what is queued within *timeout_millis* (the rest is counted as dropped), then
        shut the exporter down with what is left of it. Later calls do nothing."""
        if self._closed:
            return
        self._closed = True
        deadline = Deadline.from_millis(timeout_millis)
        self._worker.shutdown(deadline)
        if _takes_timeout(self._exporter.shutdown):
            self._exporter.shutdown(timeout_millis=deadline.remaining_millis())
        else:
            self._exporter.shutdown()


class AuditLogRecordProcessor(_BatchingMixin, LogRecordProcessor):
    """Batches log records to *exporter*; a full queue makes ``on_emit`` wait, never drop.

    Args:
        exporter: any ``LogRecordExporter``; its failures are retried with backoff (through its
            ``insert`` when it is a :class:`BatchInserter`).
        policy: queue capacity, batch size, schedule delay and block timeout
            (:class:`~otel_audit.export.batching.QueuePolicy`; its defaults when not given).
        name: the worker thread's name and the queue's key in the stats.
    """

    def __init__(
        self,
        exporter: LogRecordExporter,
        *,
        policy: QueuePolicy | None = None,
        name: str = "otel-audit-logs",
        stats: PipelineStats = pipeline_stats,
    ) -> None:
        self._start_worker(
            exporter,
            LogRecordExportResult.SUCCESS,
            signal="logs",
            name=name,
            policy=policy or QueuePolicy(),
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
    """Batches ended spans to *exporter* with the same no-loss policy as the log processor (same arguments)."""

    def __init__(
        self,
        exporter: SpanExporter,
        *,
        policy: QueuePolicy | None = None,
        name: str = "otel-audit-spans",
        stats: PipelineStats = pipeline_stats,
    ) -> None:
        policy = policy or QueuePolicy()
        self._start_worker(exporter, SpanExportResult.SUCCESS, signal="spans", name=name, policy=policy, stats=stats)

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        if span.context is not None and span.context.trace_flags.sampled:
            self._worker.put(span)
