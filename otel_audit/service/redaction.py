"""Redact OTLP requests at ``serve``'s door, before they are spooled or stored.

The same :class:`~otel_audit.redact.Redactor` (the one rule file) the SDK processors use, applied
to the decoded protobuf messages: log bodies and attributes, span names, attributes, status
messages, event and link attributes. Each record gets the ``audit.redaction.*`` counts, written
by this door only: ``audit.redaction.*`` attributes the client sent are dropped first (counted as
``audit.redaction.reserved``), so a client can neither store data under that prefix nor forge
counts. A record whose redaction fails is withheld (fail closed): its body is replaced by a
marker, attributes not on the allow-list are removed, and ``audit.redaction.error = 1`` is set.
A record that needs more text inspected than the rule file's ``limits.max_record_chars`` is
withheld the same way, with the body ``{"$redaction": "withheld: record over the redaction
budget"}``, ``audit.redaction.over_budget = 1`` and the counter ``<signal>.redaction_over_budget``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from otel_audit import semconv
from otel_audit.export.otlp import any_value_to_python
from otel_audit.redact import WITHHELD_BODY, RedactionBudgetError, Redactor, ScanBudget, count_attributes
from otel_audit.redact.engine import REDACTION_OVER_BUDGET
from otel_audit.stats import pipeline_stats

__all__ = ["redact_logs_request", "redact_traces_request"]

_WITHHELD = {"redaction_error": "the record's data was withheld"}


def _set_any(target: Any, value: Any) -> None:
    """Write the Python *value* into the ``AnyValue`` message *target*."""
    target.Clear()
    if value is None:
        return
    if isinstance(value, str):
        target.string_value = value
    elif isinstance(value, bool):
        target.bool_value = value
    elif isinstance(value, int):
        target.int_value = value
    elif isinstance(value, float):
        target.double_value = value
    elif isinstance(value, (bytes, bytearray)):
        target.bytes_value = bytes(value)
    elif isinstance(value, Mapping):
        kvlist = target.kvlist_value
        kvlist.SetInParent()
        for key, item in value.items():
            entry = kvlist.values.add()
            entry.key = str(key)
            _set_any(entry.value, item)
    elif isinstance(value, (list, tuple)):
        array = target.array_value
        array.SetInParent()
        for item in value:
            _set_any(array.values.add(), item)
    else:
        target.string_value = str(value)


def _attributes(container: Any) -> dict[str, Any]:
    # A non-empty string_value means the value is that string: one lookup for the common case.
    return {item.key: item.value.string_value or any_value_to_python(item.value) for item in container}


def _write_attributes(container: Any, values: Mapping[str, Any]) -> None:
    del container[:]
    for key, value in values.items():
        entry = container.add()
        entry.key = key
        _set_any(entry.value, value)


def _redact_attributes(redactor: Redactor, container: Any, counts: dict[str, int], budget: ScanBudget) -> None:
    if not container:
        return
    original = _attributes(container)
    redacted = redactor.apply_attributes(original, counts, budget)
    if redacted is not original:
        _write_attributes(container, redacted)


def _record_counts(container: Any, counts: Mapping[str, int]) -> None:
    """Add the counts to *container* as a dict update would: one entry per key, the last value winning."""
    added = count_attributes(counts)
    keys = [item.key for item in container]
    if len(set(keys)) != len(keys) or not added.keys().isdisjoint(keys):
        _update_attributes(container, added)
        return
    # Distinct keys, none of them a count (the door dropped the client's): appending is that update.
    for key, value in added.items():
        entry = container.add()
        entry.key = key
        entry.value.int_value = value


def _update_attributes(container: Any, added: Mapping[str, Any]) -> None:
    """``dict.update`` on the attributes of *container*, rewritten whole."""
    recorded = _attributes(container)
    recorded.update(added)
    _write_attributes(container, recorded)


def _withhold(redactor: Redactor, container: Any, signal: str, *, over_budget: bool = False) -> None:
    kept = {key: value for key, value in _attributes(container).items() if redactor.rules.is_allowed(key)}
    kept[REDACTION_OVER_BUDGET if over_budget else semconv.AUDIT_REDACTION_ERROR] = 1
    kept[semconv.AUDIT_REDACTION_COUNT] = 1
    _write_attributes(container, kept)
    pipeline_stats.add(signal, "redaction_over_budget" if over_budget else "redaction_errors")


def _log_records(request: ExportLogsServiceRequest) -> Iterable[Any]:
    for resource_logs in request.resource_logs:
        for scope_logs in resource_logs.scope_logs:
            yield from scope_logs.log_records


def redact_logs_request(redactor: Redactor, request: ExportLogsServiceRequest) -> int:
    """Redact every log record of *request* in place; return the replacements made."""
    total = 0
    for record in _log_records(request):
        counts: dict[str, int] = {}
        budget = redactor.budget()
        try:
            body = None
            redacted = None
            if record.HasField("body"):
                body = any_value_to_python(record.body)
                redacted = redactor.apply(body, counts, budget)
            _redact_attributes(redactor, record.attributes, counts, budget)
            if redacted is not body:
                _set_any(record.body, redacted)
        except RedactionBudgetError:
            _set_any(record.body, dict(WITHHELD_BODY))
            _withhold(redactor, record.attributes, "logs", over_budget=True)
            continue
        except Exception:  # noqa: BLE001 - fail closed: withhold the data, never pass it on
            _set_any(record.body, _WITHHELD)
            _withhold(redactor, record.attributes, "logs")
            continue
        _record_counts(record.attributes, counts)
        total += sum(counts.values())
    return total


def redact_traces_request(redactor: Redactor, request: ExportTraceServiceRequest) -> int:
    """Redact every span of *request* in place (name, attributes, status, events, links)."""
    total = 0
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                counts: dict[str, int] = {}
                budget = redactor.budget()
                try:
                    span.name = redactor.apply(span.name, counts, budget)
                    if span.status.message:
                        span.status.message = redactor.apply(span.status.message, counts, budget)
                    _redact_attributes(redactor, span.attributes, counts, budget)
                    for event in span.events:
                        _redact_attributes(redactor, event.attributes, counts, budget)
                    for link in span.links:
                        _redact_attributes(redactor, link.attributes, counts, budget)
                except Exception as exc:  # noqa: BLE001 - fail closed
                    over_budget = isinstance(exc, RedactionBudgetError)
                    span.name = "[REDACTION_WITHHELD]" if over_budget else "[REDACTION_ERROR]"
                    span.status.message = ""
                    del span.events[:]
                    for link in span.links:
                        del link.attributes[:]
                    _withhold(redactor, span.attributes, "spans", over_budget=over_budget)
                    continue
                _record_counts(span.attributes, counts)
                total += sum(counts.values())
    return total
