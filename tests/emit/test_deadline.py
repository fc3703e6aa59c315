"""One deadline for flush and shutdown: every stage of the pipeline shares it."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk._logs import LogRecordProcessor, ReadWriteLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

import otel_audit
from otel_audit.deadline import Deadline

_SLACK_S = 0.5


class _SlowLogs(LogRecordExporter):
    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s

    def export(self, batch: Sequence[Any]) -> LogRecordExportResult:
        time.sleep(self.delay_s)
        return LogRecordExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class _SlowSpans(SpanExporter):
    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        time.sleep(self.delay_s)
        return SpanExportResult.SUCCESS


class _SlowEmit(LogRecordProcessor):
    """Runs on the finisher's thread for every record: makes the finisher a slow stage too."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        time.sleep(self.delay_s)

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def _three_slow_stages(predictions: int) -> otel_audit.AuditRuntime:
    runtime = otel_audit.configure(
        store=False,
        log_processors=[_SlowEmit(0.01)],  # the finisher: ~10 ms per prediction
        log_exporters=[_SlowLogs(0.5)],  # the log processor: 0.5 s per batch of 5
        span_exporters=[_SlowSpans(0.5)],  # the span processor: likewise
        export_batch_size=5,
        schedule_delay_ms=10,
    )
    for index in range(predictions):
        with otel_audit.audit_prediction(model="slow", version="1", input=index):
            pass
    return runtime


class TestDeadline:
    def test_remaining_and_expired(self) -> None:
        """A deadline counts down to zero and then is expired; an unbounded one never is."""
        deadline = Deadline(0.05)
        left = deadline.remaining()
        assert left is not None and 0 < left <= 0.05 and not deadline.expired
        time.sleep(0.06)
        assert deadline.remaining() == 0 and deadline.expired and deadline.remaining_millis() == 0
        never = Deadline(None)
        assert never.remaining() is None and not never.expired and not never.bounded
        assert Deadline.from_millis(2000).remaining_millis() <= 2000


class TestOneDeadline:
    def test_flush_with_three_slow_stages_keeps_its_timeout(self) -> None:
        """flush(t) returns False within t (plus slack) when finisher, span and log stages are all slow."""
        runtime = _three_slow_stages(80)
        started = time.monotonic()
        assert runtime.flush(1.5) is False
        assert time.monotonic() - started < 1.5 + _SLACK_S
        runtime.shutdown(0.1)

    def test_shutdown_keeps_its_timeout_and_counts_the_rest(self) -> None:
        """shutdown(t) returns within t (plus slack); what could not be exported is counted as dropped."""
        runtime = _three_slow_stages(80)
        started = time.monotonic()
        runtime.shutdown(1.5)
        assert time.monotonic() - started < 1.5 + _SLACK_S
        assert otel_audit.stats()["dropped"] > 0
