"""The ClickHouse exporters against real chDB: row mapping, retries without duplicates."""

from __future__ import annotations

import json
import re
import time

from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from otel_audit import semconv
from otel_audit.answer import queries
from otel_audit.export.clickhouse import ClickHouseLogRecordExporter
from otel_audit.store.connect import Store

# Recent, fixed timestamps: rows older than the TTL (365 days) would be dropped on insert.
_BASE_NS = (time.time_ns() // 10**9 - 3600) * 10**9


def _record(index: int, *, span_id: int | None = None) -> ReadableLogRecord:
    attributes = {
        semconv.GEN_AI_REQUEST_MODEL: "m",
        semconv.ML_MODEL_VERSION: "1",
        semconv.AUDIT_REQUEST_ID: f"r{index}",
        semconv.AUDIT_LATENCY_MS: 1.5,
        semconv.AUDIT_BATCH_SIZE: 4,
        "flag": True,
        "tags": ("a", "b"),
    }
    return ReadableLogRecord(
        log_record=LogRecord(
            timestamp=_BASE_NS + index,
            observed_timestamp=_BASE_NS + index + 7,  # a redelivery carries the record's own observed time
            trace_id=0xABC + index,
            span_id=span_id if span_id is not None else 0x10 + index,
            severity_number=SeverityNumber.INFO,
            severity_text="INFO",
            body={"input": {"i": index}, "output": [1, 2]},
            attributes=attributes,
            event_name=semconv.EVENT_PREDICTION,
        ),
        resource=Resource({"service.name": "svc", "deployment.environment.name": "prod"}),
        instrumentation_scope=InstrumentationScope("scope", "1.0"),
    )


class TestLogExporter:
    def test_row_mapping_matches_the_collector_exporter(self, store: Store) -> None:
        """Ids are hex, attributes stringified, the map body stored as JSON, ServiceName from the resource."""
        exporter = ClickHouseLogRecordExporter(store, create_schema=False)
        exporter.export([_record(1)])
        [row] = store.query("SELECT *, `__otel_materialized_deployment.environment.name` AS env FROM otel_logs").dicts()
        assert row["TraceId"] == format(0xABC + 1, "032x")
        assert row["SpanId"] == format(0x11, "016x")
        assert row["ServiceName"] == "svc"
        assert row["SeverityNumber"] == 9 and row["SeverityText"] == "INFO"
        assert json.loads(row["Body"]) == {"input": {"i": 1}, "output": [1, 2]}
        assert row["LogAttributes"]["flag"] == "true"
        assert row["LogAttributes"]["tags"] == '["a","b"]'
        assert row["LogAttributes"][semconv.AUDIT_LATENCY_MS] == "1.5"
        assert row["ScopeName"] == "scope" and row["ScopeVersion"] == "1.0"
        assert row["env"] == "prod"
        [typed] = store.query(
            "SELECT ModelName, LatencyMs, BatchSize, Input, Attributes, RecordId FROM audit_predictions"
        ).dicts()
        uid = typed["Attributes"].pop(semconv.LOG_RECORD_UID)  # no uid sent: the exporter derived one
        assert re.fullmatch(r"[0-9a-f]{64}", uid) and typed.pop("RecordId") == uid
        assert typed == {
            "ModelName": "m",
            "LatencyMs": 1.5,
            "BatchSize": 4,
            "Input": '{"i":1}',
            "Attributes": {"flag": "true", "tags": '["a","b"]'},
        }

    def test_retried_batch_is_not_stored_twice(self, store: Store) -> None:
        """Exporting the same batch again (a retry after a lost acknowledgement) adds no rows."""
        exporter = ClickHouseLogRecordExporter(store, create_schema=False)
        batch = [_record(i) for i in range(50)]
        exporter.export(batch)
        exporter.export(batch)
        assert store.query("SELECT count() FROM otel_logs").rows[0][0] == 50
        assert store.query("SELECT count() FROM audit_predictions").rows[0][0] == 50

    def test_duplicates_from_other_batches_are_reported_once(self, store: Store) -> None:
        """A record delivered twice in different batches is stored twice but reported once."""
        exporter = ClickHouseLogRecordExporter(store, create_schema=False)
        exporter.export([_record(i) for i in range(10)])
        exporter.export([_record(i) for i in range(5, 12)])
        assert store.query("SELECT count() FROM audit_predictions").rows[0][0] == 17
        assert queries.model_usage(store, "m")["total_predictions"] == 12
