"""OTLP requests -> otel_logs / otel_traces columns, identical to the SDK path; OTLP decoding rules."""

from __future__ import annotations

import gzip
import json
import time

import pytest
from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from otel_audit import semconv
from otel_audit.export.otlp import (
    MalformedRequestError,
    decode_request,
    otlp_log_table,
    otlp_span_columns,
    validate_logs,
    validate_spans,
)
from otel_audit.export.rows import log_table, span_columns

_BASE_NS = (time.time_ns() // 10**9 - 3600) * 10**9


def _log(index: int) -> ReadableLogRecord:
    return ReadableLogRecord(
        log_record=LogRecord(
            timestamp=_BASE_NS + index,
            trace_id=0xABC + index,
            span_id=0x10 + index,
            severity_number=SeverityNumber.WARN,
            severity_text="WARN",
            body={"input": {"i": index, "nested": [1.5, None, True]}, "output": "é"},
            attributes={
                semconv.GEN_AI_REQUEST_MODEL: "m",
                semconv.AUDIT_LATENCY_MS: 1.25,
                semconv.AUDIT_BATCH_SIZE: 4,
                "flag": False,
                "tags": ("a", "b"),
                "ints": (1, 2),
            },
            event_name=semconv.EVENT_PREDICTION,
        ),
        resource=Resource({"service.name": "svc", "deployment.environment.name": "prod"}, "https://schema/1"),
        instrumentation_scope=InstrumentationScope("scope", "1.0", "https://scope/1", {"k": 7}),
    )


def _spans() -> list:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource({"service.name": "svc"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("scope", "2.0")
    with tracer.start_as_current_span("parent", kind=SpanKind.SERVER) as parent:
        link = Link(parent.get_span_context(), {"why": "test"})
        with tracer.start_as_current_span("child", links=[link], attributes={"n": 3, "b": True}) as child:
            child.add_event("ev", {"x": 1.5})
            child.set_status(Status(StatusCode.ERROR, "boom"))
    provider.shutdown()
    return list(exporter.get_finished_spans())


class TestOtlpLogTable:
    def test_same_columns_as_the_sdk_path(self) -> None:
        """An SDK record encoded as OTLP maps to exactly the row the in-process exporter writes."""
        records = [_log(1), _log(2)]
        request = encode_logs(records)
        assert otlp_log_table([request]).to_pylist() == log_table(records).to_pylist()

    def test_several_requests_concatenate(self) -> None:
        """Records of several requests land in one table, in order."""
        table = otlp_log_table([encode_logs([_log(1)]), encode_logs([_log(2), _log(3)])])
        assert table.column("Timestamp").cast("int64").to_pylist() == [_BASE_NS + 1, _BASE_NS + 2, _BASE_NS + 3]


class TestOtlpSpanColumns:
    def test_same_columns_as_the_sdk_path(self) -> None:
        """SDK spans encoded as OTLP map to exactly the columns the in-process exporter writes."""
        spans = _spans()
        assert otlp_span_columns([encode_spans(spans)]) == span_columns(spans)


class TestDecodeRequest:
    def test_json_ids_are_hex(self) -> None:
        """OTLP/JSON trace and span ids are hex strings, not base64."""
        body = {
            "resourceLogs": [
                {
                    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "js"}}]},
                    "scopeLogs": [
                        {
                            "logRecords": [
                                {
                                    "timeUnixNano": str(_BASE_NS),
                                    "traceId": "5b8efff798038103d269b633813fc60c",
                                    "spanId": "eee19b7ec3c1b174",
                                    "severityNumber": 9,
                                    "body": {"stringValue": "hi"},
                                    "eventName": "ai.prediction",
                                    "unknownField": 1,
                                }
                            ]
                        }
                    ],
                }
            ]
        }
        message, encoded = decode_request("logs", json.dumps(body).encode(), json_encoded=True)
        [row] = otlp_log_table([message]).to_pylist()
        assert row["TraceId"] == "5b8efff798038103d269b633813fc60c"
        assert row["SpanId"] == "eee19b7ec3c1b174"
        assert row["ServiceName"] == "js" and row["Body"] == "hi" and row["EventName"] == "ai.prediction"
        assert ExportLogsServiceRequest.FromString(encoded) == message

    @pytest.mark.parametrize(
        ("body", "json_encoded", "message"),
        [
            (encode_logs([_log(1)]).SerializeToString()[:-7], False, "invalid OTLP protobuf"),
            (b'{"resourceLogs": [', True, "invalid OTLP JSON"),
            (b'{"resourceLogs": {"a": 1}}', True, "must be a JSON array"),
            (b'{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"traceId": "zz"}]}]}]}', True, "not a hex"),
            (b"", True, "invalid OTLP JSON"),
            (b'{"resourceLogs": [{"resource": {"droppedAttributesCount": "x"}}]}', True, "invalid OTLP JSON"),
            (b'{"x": "\xff\xfe"}', True, "not valid UTF-8"),
            (b"[" * 100_000 + b"]" * 100_000, True, "JSON"),
            (b"\n\x05\x12\x03\n\x01\xff", False, "invalid OTLP protobuf"),
        ],
        ids=["truncated", "bad-json", "wrong-shape", "bad-hex", "empty-json", "wrong-type", "utf8", "deep", "utf8-pb"],
    )
    def test_malformed(self, body: bytes, json_encoded: bool, message: str) -> None:
        """Malformed bodies raise MalformedRequestError with a message saying what is wrong."""
        with pytest.raises(MalformedRequestError, match=message):
            decode_request("logs", body, json_encoded=json_encoded)

    def test_deeply_nested_protobuf_is_refused(self) -> None:
        """An AnyValue nested past protobuf's recursion limit is refused, in protobuf and in JSON."""
        value: dict = {"stringValue": "leaf"}
        for _ in range(150):
            value = {"arrayValue": {"values": [value]}}
        body = {"resourceLogs": [{"scopeLogs": [{"logRecords": [{"body": value}]}]}]}
        with pytest.raises(MalformedRequestError):
            decode_request("logs", json.dumps(body).encode(), json_encoded=True)

    def test_empty_protobuf_is_an_empty_request(self) -> None:
        """An empty protobuf body is a valid request with no records."""
        message, _ = decode_request("logs", b"", json_encoded=False)
        assert validate_logs(message) == (0, 0, "")

    def test_gzip_is_not_decoded_here(self) -> None:
        """Content-Encoding is the server's job: a gzip body is not mistaken for protobuf."""
        with pytest.raises(MalformedRequestError):
            decode_request("logs", gzip.compress(b'{"resourceLogs": []}'), json_encoded=True)


class TestValidate:
    def test_bad_records_are_removed_and_counted(self) -> None:
        """Records with malformed ids are removed; the rest stay, and the reason is given."""
        request = encode_logs([_log(1), _log(2), _log(3)])
        request.resource_logs[0].scope_logs[0].log_records[1].trace_id = b"\x01\x02"
        assert validate_logs(request) == (3, 1, "trace_id must be 16 bytes")
        assert otlp_log_table([request]).num_rows == 2

    def test_span_without_ids_is_rejected(self) -> None:
        """A span must have a 16-byte trace id and an 8-byte span id."""
        request = encode_spans(_spans())
        request.resource_spans[0].scope_spans[0].spans[0].span_id = b""
        assert validate_spans(request) == (2, 1, "span_id must be 8 bytes")

    def test_timestamp_past_2262_is_rejected(self) -> None:
        """A timestamp DateTime64(9) cannot hold is rejected instead of failing the insert later."""
        request = encode_logs([_log(1)])
        request.resource_logs[0].scope_logs[0].log_records[0].time_unix_nano = 2**64 - 1
        assert validate_logs(request) == (1, 1, "timestamp after 2262")
