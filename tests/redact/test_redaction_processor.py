"""The SDK integration: RedactingLogRecordProcessor and RedactingSpanExporter on real providers."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry._logs import LogRecord
from opentelemetry.sdk._logs import LoggerProvider, LogRecordLimits, ReadWriteLogRecord
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode
from redaction_helpers import RULES_PATH, SECRET

from otel_audit import semconv
from otel_audit.redact import (
    REDACTION_COUNT,
    REDACTION_ERROR,
    RedactingLogRecordProcessor,
    RedactingSpanExporter,
    RedactionRules,
    Redactor,
)
from otel_audit.stats import PipelineStats

PII = "ana@example.org"


class ExplodingRedactor(Redactor):
    """A redactor whose every call fails with an exception that quotes personal data."""

    __slots__ = ()

    def apply(self, value: Any, counts: dict[str, int], budget: Any = None) -> Any:
        raise ValueError(f"cannot handle {PII}")

    def apply_attributes(self, attributes: Any, counts: dict[str, int], budget: Any = None) -> Any:
        raise ValueError(f"cannot handle {PII}")


def audit_attributes() -> dict[str, Any]:
    return {
        semconv.GEN_AI_REQUEST_MODEL: "fraud_detector",
        semconv.ML_MODEL_VERSION: "v3.2.1",
        semconv.AUDIT_REQUEST_ID: "5f0c6a6e-8d1b-4e43-9a53-2f7f3e8f3b11",
        semconv.AUDIT_INPUT_HASH: "ab" * 32,
        semconv.USER_ID: "user-00042",
    }


class LogPipeline:
    """A LoggerProvider with the redacting processor first and an in-memory exporter after it."""

    def __init__(self, processor: RedactingLogRecordProcessor) -> None:
        self.exporter = InMemoryLogRecordExporter()
        self.provider = LoggerProvider(resource=Resource.create({"service.name": "t"}), shutdown_on_exit=False)
        self.provider.add_log_record_processor(processor)
        self.provider.add_log_record_processor(SimpleLogRecordProcessor(self.exporter))
        self.logger = self.provider.get_logger(semconv.SCOPE_NAME)

    def emit(self, body: Any, attributes: dict[str, Any]) -> LogRecord:
        record = LogRecord(body=body, attributes=attributes, event_name=semconv.EVENT_PREDICTION)
        self.logger.emit(record)
        return record

    def exported(self) -> list[Any]:
        return [readable.log_record for readable in self.exporter.get_finished_logs()]


@pytest.fixture
def stats() -> PipelineStats:
    return PipelineStats()


@pytest.fixture
def logs(redactor: Redactor, stats: PipelineStats) -> Iterator[LogPipeline]:
    pipeline = LogPipeline(RedactingLogRecordProcessor(redactor, stats=stats))
    yield pipeline
    pipeline.provider.shutdown()


class TestRedactingLogRecordProcessor:
    def test_exporter_sees_only_redacted_data(self, logs: LogPipeline) -> None:
        """The exporter receives the redacted body and attributes, with counts recorded."""
        body = {"input": {"note": f"mail {PII}", "password": "hunter2"}, "output": {"label": "ok"}}
        attributes = {**audit_attributes(), "app.comment": "call +44 20 7946 0958"}
        logs.emit(body, attributes)
        (record,) = logs.exported()
        assert record.body == {"input": {"note": "mail [EMAIL]"}, "output": {"label": "ok"}}
        assert record.attributes["app.comment"] == "call [PHONE]"
        assert record.attributes["audit.redaction.email"] == 1
        assert record.attributes["audit.redaction.phone"] == 1
        assert record.attributes["audit.redaction.credential"] == 1
        assert record.attributes[REDACTION_COUNT] == 3
        for key, value in audit_attributes().items():
            assert record.attributes[key] == value
        assert body["input"]["note"] == f"mail {PII}"  # the caller's object is untouched

    def test_clean_record_counts_zero(self, logs: LogPipeline) -> None:
        """A record with nothing to redact keeps its body object and gets audit.redaction.count=0."""
        body = {"input": [1.0, 2.0], "output": "approve"}
        logs.emit(body, audit_attributes())
        (record,) = logs.exported()
        assert record.body is body
        assert record.attributes[REDACTION_COUNT] == 0
        assert not [key for key in record.attributes if key.startswith("audit.redaction.") and key != REDACTION_COUNT]

    def test_string_body(self, logs: LogPipeline) -> None:
        """Plain string bodies (ordinary log lines) are redacted too."""
        logs.emit(f"user {PII} logged in from 203.0.113.9", {})
        (record,) = logs.exported()
        assert record.body == "user [EMAIL] logged in from [IPV4]"

    def test_second_pass_replaces_counts(self, redactor: Redactor, stats: PipelineStats) -> None:
        """Redacting an already redacted record changes nothing; its counts are the second pass's own."""
        processor = RedactingLogRecordProcessor(redactor, stats=stats)
        record = ReadWriteLogRecord(LogRecord(body=f"to {PII}", attributes={"a": "b"}))
        processor.on_emit(record)
        assert record.log_record.attributes["audit.redaction.email"] == 1
        processor.on_emit(record)
        assert record.log_record.body == "to [EMAIL]"
        assert record.log_record.attributes["audit.redaction.reserved"] == 2
        assert "audit.redaction.email" not in record.log_record.attributes
        assert record.log_record.attributes[REDACTION_COUNT] == 2

    def test_forged_counts_never_stored(self, logs: LogPipeline) -> None:
        """An application's own audit.redaction.* attributes (PII, fake counts) never reach the exporter."""
        logs.emit(PII, {"audit.redaction.count": 0, "audit.redaction.note": PII, "audit.redaction.error": 0})
        (record,) = logs.exported()
        assert PII not in str(dict(record.attributes))
        assert record.attributes[REDACTION_COUNT] == 4  # three reserved attributes dropped, one e-mail
        assert record.attributes["audit.redaction.reserved"] == 3
        assert "audit.redaction.error" not in record.attributes

    def test_full_attribute_limit_keeps_audit_facts(self, redactor: Redactor, stats: PipelineStats) -> None:
        """When the attribute limit is reached, counts are skipped rather than evicting audit facts."""
        processor = RedactingLogRecordProcessor(redactor, stats=stats)
        attributes = dict(list(audit_attributes().items())[:3])
        record = ReadWriteLogRecord(
            LogRecord(body=PII, attributes=attributes), limits=LogRecordLimits(max_attributes=3)
        )
        processor.on_emit(record)
        assert dict(record.log_record.attributes) == attributes
        assert record.log_record.body == "[EMAIL]"

    def test_fails_closed(self, rules: RedactionRules, stats: PipelineStats, caplog: pytest.LogCaptureFixture) -> None:
        """On an internal error the body is withheld, other attributes removed, the error counted, nothing raised."""
        pipeline = LogPipeline(RedactingLogRecordProcessor(ExplodingRedactor(rules), stats=stats))
        with caplog.at_level(logging.ERROR):
            pipeline.emit({"input": PII}, {**audit_attributes(), "app.note": PII})
        (record,) = pipeline.exported()
        assert set(record.body) == {"redaction_error"}
        assert PII not in str(record.body)
        assert record.attributes[REDACTION_ERROR] == 1
        assert "app.note" not in record.attributes
        assert record.attributes[semconv.GEN_AI_REQUEST_MODEL] == "fraud_detector"
        assert stats.snapshot()["counters"]["logs.redaction.error"] == 1
        assert "ValueError" in caplog.text
        assert PII not in caplog.text
        pipeline.provider.shutdown()

    def test_depth_bomb_fails_closed(self, logs: LogPipeline, stats: PipelineStats) -> None:
        """A body nested beyond the depth limit is withheld, not exported unredacted."""
        body: Any = PII
        for _ in range(200):
            body = [body]
        logs.emit(body, {})
        (record,) = logs.exported()
        assert PII not in repr(record.body)
        assert record.attributes[REDACTION_ERROR] == 1
        assert stats.snapshot()["counters"]["logs.redaction.error"] == 1

    def test_builds_from_rules_and_secret(self) -> None:
        """Given a rule path and a secret, the processor builds its own redactor."""
        processor = RedactingLogRecordProcessor(rules=RULES_PATH, secret=SECRET)
        assert processor.redactor.rules.source == str(RULES_PATH)
        assert processor.force_flush() is True
        processor.shutdown()
        processor.shutdown()

    def test_redactor_and_rules_conflict(self, redactor: Redactor) -> None:
        """Passing a redactor together with rules is refused."""
        with pytest.raises(ValueError, match="either"):
            RedactingLogRecordProcessor(redactor, rules=RULES_PATH)


class SpanPipeline:
    def __init__(self, exporter: RedactingSpanExporter, memory: InMemorySpanExporter) -> None:
        self.memory = memory
        self.provider = TracerProvider(resource=Resource.create({"service.name": "t"}), shutdown_on_exit=False)
        self.provider.add_span_processor(SimpleSpanProcessor(exporter))
        self.tracer = self.provider.get_tracer(semconv.SCOPE_NAME)

    def run(self) -> None:
        with self.tracer.start_as_current_span(f"lookup {PII}", attributes=audit_attributes()) as span:
            span.set_attribute("app.note", f"card 4111 1111 1111 1111 of {PII}")
            span.record_exception(ValueError(f"no account for {PII}"))
            span.set_status(StatusCode.ERROR, f"failed for {PII}")


class TestRedactingSpanExporter:
    def test_exporter_sees_only_redacted_copies(self, redactor: Redactor) -> None:
        """Name, attributes, exception events and status text reach the exporter redacted, with counts."""
        memory = InMemorySpanExporter()
        pipeline = SpanPipeline(RedactingSpanExporter(memory, redactor), memory)
        pipeline.run()
        (span,) = memory.get_finished_spans()
        assert span.name == "lookup [EMAIL]"
        assert span.attributes["app.note"] == "card [CARD] of [EMAIL]"
        assert span.events[0].attributes["exception.message"] == "no account for [EMAIL]"
        assert PII not in span.events[0].attributes["exception.stacktrace"]
        assert span.status.description == "failed for [EMAIL]"
        assert span.attributes[REDACTION_COUNT] >= 5
        for key, value in audit_attributes().items():
            assert span.attributes[key] == value
        assert span.context.trace_id != 0
        assert span.resource.attributes["service.name"] == "t"
        assert PII not in span.to_json()

    def test_fails_closed(self, rules: RedactionRules) -> None:
        """If redaction fails the exporter gets a stripped copy marked with audit.redaction.error."""
        memory = InMemorySpanExporter()
        stats = PipelineStats()
        pipeline = SpanPipeline(RedactingSpanExporter(memory, ExplodingRedactor(rules), stats=stats), memory)
        pipeline.run()
        (span,) = memory.get_finished_spans()
        assert PII not in span.to_json()
        assert span.attributes[REDACTION_ERROR] == 1
        assert span.attributes[semconv.GEN_AI_REQUEST_MODEL] == "fraud_detector"
        assert span.status.status_code is StatusCode.ERROR
        assert stats.snapshot()["counters"]["spans.redaction.error"] == 1

    def test_delegates_lifecycle(self, redactor: Redactor) -> None:
        """force_flush and shutdown reach the wrapped exporter."""
        memory = InMemorySpanExporter()
        exporter = RedactingSpanExporter(memory, redactor)
        assert exporter.force_flush() is True
        exporter.shutdown()
        assert memory._stopped
