"""Helpers for testing code that audits predictions, without a store.

Usage::

    from otel_audit.testing import capture_audit

    def test_scoring_is_audited():
        with capture_audit() as audit:
            score_application(application)
        [record] = audit.records
        assert record.model == "credit_scorer"
        assert record.input_hash == otel_audit.hash_input(application.features)

``capture_audit`` configures otel-audit with the OpenTelemetry SDK's in-memory exporters
(``InMemoryLogRecordExporter``, ``InMemorySpanExporter``) for the length of the block (no
redaction unless asked), flushes on exit, and restores nothing else: configure your real
pipeline again afterwards if the test process needs one. ``audit.spans`` holds the prediction
spans, for tests of what ran inside a prediction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_audit import semconv
from otel_audit.emit.runtime import configure, shutdown

__all__ = ["AuditCapture", "CapturedPrediction", "capture_audit"]


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
    """What :func:`capture_audit` collected; read :attr:`records` (and :attr:`spans`) after the block.

    Args:
        logs, spans: the SDK's in-memory exporters the block exported into.
    """

    def __init__(self, logs: InMemoryLogRecordExporter, spans: InMemorySpanExporter) -> None:
        self._logs = logs
        self._spans = spans

    @property
    def records(self) -> list[CapturedPrediction]:
        """Every ``ai.prediction`` record exported so far, in export order."""
        return [
            CapturedPrediction.from_record(readable)
            for readable in self._logs.get_finished_logs()
            if readable.log_record.event_name == semconv.EVENT_PREDICTION
        ]

    @property
    def spans(self) -> list[ReadableSpan]:
        """Every prediction span exported so far (``predict <model>``), in export order."""
        return list(self._spans.get_finished_spans())


@contextmanager
def capture_audit(*, redact: bool = False) -> Iterator[AuditCapture]:
    """Configure otel-audit to export into memory for the block; flush and shut down at exit."""
    logs, spans = InMemoryLogRecordExporter(), InMemorySpanExporter()  # type: ignore[no-untyped-call]
    runtime = configure(
        store=False, log_exporters=[logs], span_exporters=[spans], spans=False, redact=redact, schedule_delay_ms=10
    )
    try:
        yield AuditCapture(logs, spans)
    finally:
        runtime.flush(30)
        shutdown()
