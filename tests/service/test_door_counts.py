"""serve's door writes the ``audit.redaction.*`` counts into each record's attributes."""

from __future__ import annotations

from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from otel_audit import semconv
from otel_audit.export.otlp import any_value_to_python
from otel_audit.redact import Redactor
from otel_audit.redact.rules import load_rules
from otel_audit.service.redaction import redact_logs_request

_RULES = load_rules("collector-config/redaction.yaml")


def _redacted(*records: list[tuple[str, Any]]) -> list[list[tuple[str, Any]]]:
    request = ExportLogsServiceRequest()
    log_records = request.resource_logs.add().scope_logs.add().log_records
    for attributes in records:
        record = log_records.add()
        record.event_name = semconv.EVENT_PREDICTION
        for key, value in attributes:
            entry = record.attributes.add()
            entry.key = key
            if isinstance(value, str):
                entry.value.string_value = value
            else:
                entry.value.int_value = value
    redact_logs_request(Redactor(_RULES), request)
    return [[(item.key, any_value_to_python(item.value)) for item in record.attributes] for record in log_records]


class TestDoorCounts:
    def test_counts_follow_the_attributes_in_their_order(self) -> None:
        (attributes,) = _redacted([("b", "x"), ("a", "mail jane.doe@example.org"), ("c", 3)])
        assert attributes == [
            ("b", "x"),
            ("a", "mail [EMAIL]"),
            ("c", 3),
            (semconv.AUDIT_REDACTION_PREFIX + "email", 1),
            (semconv.AUDIT_REDACTION_COUNT, 1),
        ]

    def test_a_repeated_key_keeps_its_first_place_and_last_value(self) -> None:
        (attributes,) = _redacted([("dup", "first"), ("other", "y"), ("dup", "last")])
        assert attributes == [("dup", "last"), ("other", "y"), (semconv.AUDIT_REDACTION_COUNT, 0)]

    def test_counts_sent_by_the_client_are_replaced_not_repeated(self) -> None:
        (attributes,) = _redacted([(semconv.AUDIT_REDACTION_COUNT, 7), ("k", "v")])
        keys = [key for key, _ in attributes]
        assert len(keys) == len(set(keys))
        assert dict(attributes)[semconv.AUDIT_REDACTION_COUNT] == 1  # the dropped one, counted as reserved
        assert dict(attributes)[semconv.AUDIT_REDACTION_PREFIX + "reserved"] == 1

    def test_a_record_without_attributes_gets_the_total(self) -> None:
        (attributes,) = _redacted([])
        assert attributes == [(semconv.AUDIT_REDACTION_COUNT, 0)]
