"""Helpers for testing code that audits predictions, without a store.

Usage::

    from otel_audit.testing import capture_audit

    def test_scoring_is_audited():
        with capture_audit() as audit:
            score_application(application)
        [record] = audit.records
        assert record.model == "credit_scorer"
        assert record.input_hash == otel_audit.hash_input(application.features)

``capture_audit`` configures otel-audit with in-memory exporters for the length of the block
(no redaction unless asked), flushes on exit, and restores nothing else: configure your real
pipeline again afterwards if the test process needs one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult

from otel_audit import semconv
from otel_audit.emit.runtime import configure, shutdown

__all__ = ["AuditCapture", "CapturedPrediction", "InMemoryLogRecordExporter", "capture_audit"]


class InMemoryLogRecordExporter(LogRecordExporter):
    """Keeps every exported log record in a list (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[ReadableLogRecord] = []

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        with self._lock:
            self._records.extend(batch)
        return LogRecordExportResult.SUCCESS

    @property
    def records(self) -> list[ReadableLogRecord]:
        """A copy of what was exported so far."""
        with self._lock:
            return list(self._records)

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


@dataclass(frozen=True)
class CapturedPrediction:
    """One audited prediction as the store would receive it."""

    model: str
    version: str
    input_hash: str
    request_id: str
    outcome: str
    user_id: str | None
    input: Any
    output: Any
    attributes: dict[str, Any]
    trace_id: int
    span_id: int

    @classmethod
    def from_record(cls, readable: ReadableLogRecord) -> CapturedPrediction:
        """Build it from an exported ``ai.prediction`` log record."""
        record = readable.log_record
        attributes = dict(record.attributes or {})
        user = attributes.get(semconv.USER_ID)
        body = record.body if isinstance(record.body, dict) else {}
        return cls(
            model=str(attributes.get(semconv.GEN_AI_REQUEST_MODEL, "")),
            version=str(attributes.get(semconv.ML_MODEL_VERSION, "")),
            input_hash=str(attributes.get(semconv.AUDIT_INPUT_HASH, "")),
            request_id=str(attributes.get(semconv.AUDIT_REQUEST_ID, "")),
            outcome=str(attributes.get(semconv.AUDIT_OUTCOME, "")),
            user_id=None if user is None else str(user),
            input=body.get(semconv.BODY_INPUT),
            output=body.get(semconv.BODY_OUTPUT),
            attributes=attributes,
            trace_id=record.trace_id or 0,
            span_id=record.span_id or 0,
        )


class AuditCapture:
    """What :func:`capture_audit` collected; read :attr:`records` after the block."""

    def __init__(self, exporter: InMemoryLogRecordExporter) -> None:
        self._exporter = exporter

    @property
    def records(self) -> list[CapturedPrediction]:
        """Every ``ai.prediction`` record exported so far, in export order."""
        return [
            CapturedPrediction.from_record(readable)
            for readable in self._exporter.records
            if readable.log_record.event_name == semconv.EVENT_PREDICTION
        ]


@contextmanager
def capture_audit(*, redact: bool = False) -> Iterator[AuditCapture]:
    """Configure otel-audit to export into memory for the block; flush and shut down at exit."""
    exporter = InMemoryLogRecordExporter()
    runtime = configure(store=False, log_exporters=[exporter], spans=False, redact=redact, schedule_delay_ms=10)
    try:
        yield AuditCapture(exporter)
    finally:
        runtime.flush(30)
        shutdown()
