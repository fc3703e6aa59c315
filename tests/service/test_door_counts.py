"""serve's door writes the ``audit.redaction.*`` counts into each record's attributes."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from otel_audit import semconv
from otel_audit.export.otlp import any_value_to_python
from otel_audit.redact import Redactor, count_attributes
from otel_audit.redact.rules import load_rules
from otel_audit.service.redaction import _record_counts, _set_any, _update_attributes, redact_logs_request

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


_KEYS = st.sampled_from(["a", "b", "dup", semconv.AUDIT_REDACTION_COUNT, semconv.AUDIT_REDACTION_PREFIX + "email"])
_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats()
    | st.text(max_size=4)
    | st.binary(max_size=3),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(["x", "y"]), children, max_size=2)
    ),
    max_leaves=6,
)


class TestDoorCountsAgainstTheDictUpdate:
    @settings(max_examples=300, deadline=None)
    @given(
        st.lists(st.tuples(_KEYS, _VALUES), max_size=6),
        st.dictionaries(st.sampled_from(["email", "phone", "reserved"]), st.integers(0, 3), max_size=3),
    )
    def test_appending_is_the_dict_update_for_any_attributes(
        self, attributes: list[tuple[str, Any]], counts: dict[str, int]
    ) -> None:
        """Whatever the attributes (repeated keys, counts already there, any value), the counts end
        up as the whole-container dict update leaves them."""
        fast, general = (
            ExportLogsServiceRequest().resource_logs.add().scope_logs.add().log_records.add() for _ in "ab"
        )
        for record in (fast, general):
            for key, value in attributes:
                entry = record.attributes.add()
                entry.key = key
                _set_any(entry.value, value)
        _record_counts(fast.attributes, counts)
        _update_attributes(general.attributes, count_attributes(counts))
        assert _pairs(fast) == _pairs(general)


def _empty_record() -> Any:
    return ExportLogsServiceRequest().resource_logs.add().scope_logs.add().log_records.add()


def _pairs(record: Any) -> list[tuple[str, str]]:
    # repr keeps NaN comparable and tells 1 from 1.0 and True.
    return [(item.key, repr(any_value_to_python(item.value))) for item in record.attributes]
