"""The SDK exporter contract: the entry-point exporters return FAILURE and never raise; insert raises, typed."""

from __future__ import annotations

import logging
import time
from importlib.metadata import entry_points
from typing import Any

import pyarrow as pa
import pytest
from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExportResult
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExportResult
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from otel_audit import semconv
from otel_audit.errors import DATA_ERROR_CODES, EngineCode, StoreError
from otel_audit.export.batching import RecordsRejected
from otel_audit.export.clickhouse import ClickHouseLogRecordExporter, ClickHouseSpanExporter
from otel_audit.stats import pipeline_stats
from otel_audit.store.base import engine_code
from otel_audit.store.connect import Store, open_store

_SDK_LOGGER = "opentelemetry.sdk._shared_internal"


def _exporter_class(group: str) -> Any:
    [entry] = entry_points(group=group, name="otel_audit_clickhouse")
    return entry.load()


def _record(index: int = 0) -> ReadableLogRecord:
    return ReadableLogRecord(
        log_record=LogRecord(
            timestamp=time.time_ns() + index,
            trace_id=0xABC + index,
            span_id=0x10 + index,
            severity_number=SeverityNumber.INFO,
            body={"input": {"i": index}, "output": 1},
            attributes={semconv.GEN_AI_REQUEST_MODEL: "m", semconv.ML_MODEL_VERSION: "1"},
            event_name=semconv.EVENT_PREDICTION,
        ),
        resource=Resource({"service.name": "svc"}),
        instrumentation_scope=InstrumentationScope("scope", "1.0"),
    )


def _no_exception_escaped(caplog: pytest.LogCaptureFixture) -> None:
    escaped = [r for r in caplog.records if r.name == _SDK_LOGGER and r.exc_info]
    assert not escaped, [r.getMessage() for r in escaped]


@pytest.fixture
def from_env(store_dsn: str, monkeypatch: pytest.MonkeyPatch) -> Store:
    """The test's store, named only by OTEL_AUDIT_STORE: the SDK builds entry-point exporters with no arguments."""
    monkeypatch.setenv("OTEL_AUDIT_STORE", store_dsn)
    return open_store(store_dsn)


class TestEntryPointExporters:
    def test_log_exporter_under_the_sdk_batch_processor(
        self, from_env: Store, caplog: pytest.LogCaptureFixture
    ) -> None:
        """With its table dropped, the log exporter returns FAILURE, logs why, counts the drop; nothing escapes."""
        exporter = _exporter_class("opentelemetry_logs_exporter")()
        assert isinstance(exporter, ClickHouseLogRecordExporter)
        from_env.command("DROP TABLE otel_logs")
        provider = LoggerProvider(resource=Resource({"service.name": "svc"}), shutdown_on_exit=False)
        provider.add_log_record_processor(BatchLogRecordProcessor(exporter, schedule_delay_millis=60_000))
        logger = provider.get_logger("t")
        with caplog.at_level(logging.WARNING):
            for index in range(3):
                logger.emit(_record(index).log_record)
            assert provider.force_flush(10_000)
            assert exporter.export([_record(9)]) is LogRecordExportResult.FAILURE
            provider.shutdown()
        _no_exception_escaped(caplog)
        ours = [r.getMessage() for r in caplog.records if r.name == "otel_audit.export.clickhouse"]
        assert len(ours) == 2 and all("UNKNOWN_TABLE" in line and "FAILURE" in line for line in ours)
        assert pipeline_stats.snapshot()["counters"]["logs.dropped.export_failed"] == 4

    def test_span_exporter_under_the_sdk_batch_processor(
        self, from_env: Store, caplog: pytest.LogCaptureFixture
    ) -> None:
        """With its table dropped, the span exporter returns FAILURE, logs why, counts the drop; nothing escapes."""
        exporter = _exporter_class("opentelemetry_traces_exporter")()
        assert isinstance(exporter, ClickHouseSpanExporter)
        from_env.command("DROP TABLE otel_traces")
        provider = TracerProvider(shutdown_on_exit=False)
        provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=60_000))
        tracer = provider.get_tracer("t")
        with caplog.at_level(logging.WARNING):
            for _ in range(2):
                tracer.start_span("predict m").end()
            assert provider.force_flush(10_000)
            span = tracer.start_span("predict m")
            span.end()
            assert exporter.export([span]) is SpanExportResult.FAILURE  # type: ignore[list-item]
            provider.shutdown()
        _no_exception_escaped(caplog)
        assert any("otel_traces" in r.getMessage() for r in caplog.records if r.name == "otel_audit.export.clickhouse")
        assert pipeline_stats.snapshot()["counters"]["spans.dropped.export_failed"] >= 3

    def test_read_only_store(self, store: Store, caplog: pytest.LogCaptureFixture) -> None:
        """A store whose session refuses writes (readonly) makes export() return FAILURE, naming READONLY."""
        exporter = ClickHouseLogRecordExporter(store, create_schema=False)
        store.command("SET readonly = 1")
        try:
            with caplog.at_level(logging.WARNING):
                assert exporter.export([_record()]) is LogRecordExportResult.FAILURE
        finally:
            # readonly = 1 forbids changing settings too: a fresh session for the rest of the run.
            store.close()
        assert any("READONLY" in r.getMessage() for r in caplog.records)

    def test_after_shutdown(self, store: Store) -> None:
        """export() after shutdown() returns FAILURE and counts the records, as the SDK's exporters do."""
        exporter = ClickHouseLogRecordExporter(store, create_schema=False)
        exporter.shutdown()
        assert exporter.export([_record()]) is LogRecordExportResult.FAILURE
        assert pipeline_stats.snapshot()["counters"]["logs.dropped.after_shutdown"] == 1


class TestInsertPath:
    def test_insert_raises_a_store_error_with_the_engine_code(self, store: Store) -> None:
        """insert() raises StoreError carrying the engine's code and name; export() would return FAILURE."""
        exporter = ClickHouseLogRecordExporter(store, create_schema=False)
        store.command("DROP TABLE otel_logs")
        with pytest.raises(StoreError) as raised:
            exporter.insert([_record()])
        assert (raised.value.code, raised.value.name) == (EngineCode.UNKNOWN_TABLE, "UNKNOWN_TABLE")
        assert not raised.value.data_error

    def test_data_the_store_refuses_is_rejected_by_code(self, store: Store) -> None:
        """An insert the engine refuses as data (CANNOT_PARSE_TEXT) raises RecordsRejected with that code."""
        store.command("CREATE TABLE numbers_only (n Int32) ENGINE = MergeTree ORDER BY n")

        class NumbersOnly(ClickHouseLogRecordExporter):
            _table = "numbers_only"

        exporter = NumbersOnly(store, create_schema=False)
        with pytest.raises(RecordsRejected) as raised:
            exporter.insert_encoded(lambda rows: pa.table({"n": [str(r) for r in rows]}), ["x"], token="t")
        assert raised.value.code in DATA_ERROR_CODES and raised.value.name == "CANNOT_PARSE_TEXT"
        assert exporter.export([_record()]) is LogRecordExportResult.FAILURE  # the wrong table for log rows

    def test_engine_code_reads_the_engine_message_format(self) -> None:
        """The engine's own message format gives its code and name (how a driver-wrapped error is read)."""
        text = "Code: 53. DB::Exception: Cannot convert String to UInt8 (in column x). (TYPE_MISMATCH)"
        assert engine_code(text) == (53, "TYPE_MISMATCH")
        assert engine_code(RuntimeError("wrapped: " + text)) == (53, "TYPE_MISMATCH")
        assert engine_code(StoreError("no engine here")) == (None, None)
        assert engine_code(StoreError("x", name="READONLY")) == (EngineCode.READONLY, "READONLY")
