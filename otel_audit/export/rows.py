"""Pure mapping of SDK log records and spans to the columns of ``otel_logs`` / ``otel_traces``.

The mapping follows the collector's ClickHouse exporter, so rows look the same whoever wrote
them: hex trace/span ids, ``ServiceName`` from the resource's ``service.name``, a map body stored
as its JSON text, attribute values stringified (booleans as ``true``/``false``, sequences as
JSON arrays), ``SpanKind`` as ``Internal``/``Server``/…, ``StatusCode`` as ``Unset``/``Ok``/``Error``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

__all__ = [
    "LOG_COLUMNS",
    "SPAN_COLUMNS",
    "attribute_text",
    "body_text",
    "log_columns",
    "span_columns",
    "stringify_attributes",
]

LOG_COLUMNS: tuple[str, ...] = (
    "Timestamp", "TraceId", "SpanId", "TraceFlags", "SeverityText", "SeverityNumber",
    "ServiceName", "Body", "ResourceSchemaUrl", "ResourceAttributes", "ScopeSchemaUrl",
    "ScopeName", "ScopeVersion", "ScopeAttributes", "LogAttributes", "EventName",
)  # fmt: skip
"""Columns the log exporter inserts, in the collector exporter's order."""

SPAN_COLUMNS: tuple[str, ...] = (
    "Timestamp", "TraceId", "SpanId", "ParentSpanId", "TraceState", "SpanName", "SpanKind",
    "ServiceName", "ResourceAttributes", "ScopeName", "ScopeVersion", "SpanAttributes",
    "Duration", "StatusCode", "StatusMessage", "Events.Timestamp", "Events.Name",
    "Events.Attributes", "Links.TraceId", "Links.SpanId", "Links.TraceState", "Links.Attributes",
)  # fmt: skip
"""Columns the span exporter inserts."""

_SPAN_KIND = {
    SpanKind.INTERNAL: "Internal",
    SpanKind.SERVER: "Server",
    SpanKind.CLIENT: "Client",
    SpanKind.PRODUCER: "Producer",
    SpanKind.CONSUMER: "Consumer",
}
_STATUS = {StatusCode.UNSET: "Unset", StatusCode.OK: "Ok", StatusCode.ERROR: "Error"}
_dump = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode


def attribute_text(value: Any) -> str:
    """Stringify one attribute value the way the collector's ``AsString`` does."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if kind is bool:
        return "true" if value else "false"
    if kind is int or kind is float:
        return repr(value)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (Sequence, Mapping)):
        return _dump(list(value) if isinstance(value, Sequence) else dict(value))
    return str(value)


def stringify_attributes(attributes: Mapping[str, Any] | None) -> dict[str, str]:
    """Return *attributes* with every value stringified by :func:`attribute_text`."""
    if not attributes:
        return {}
    return {key: attribute_text(value) for key, value in attributes.items()}


def body_text(body: Any) -> str:
    """Return the ``Body`` column: strings as-is, maps and lists as compact JSON."""
    if body is None:
        return ""
    if isinstance(body, str):
        return body
    if isinstance(body, (bytes, bytearray)):
        return base64.b64encode(bytes(body)).decode("ascii")
    return _dump(body)


def _hex_trace(trace_id: int | None) -> str:
    return format(trace_id, "032x") if trace_id else ""


def _hex_span(span_id: int | None) -> str:
    return format(span_id, "016x") if span_id else ""


def log_columns(batch: Sequence[ReadableLogRecord]) -> list[list[Any]]:
    """Return the :data:`LOG_COLUMNS` of *batch*, column by column."""
    columns: list[list[Any]] = [[] for _ in LOG_COLUMNS]
    (ts, trace, span, flags, sev_text, sev_num, service, body, res_url, res_attrs, scope_url,
     scope_name, scope_version, scope_attrs, log_attrs, event) = columns  # fmt: skip
    resource_cache: dict[int, tuple[str, str, dict[str, str]]] = {}
    for readable in batch:
        record = readable.log_record
        resource = readable.resource
        cached = resource_cache.get(id(resource))
        if cached is None:
            attributes = stringify_attributes(resource.attributes)
            cached = (attributes.get("service.name", ""), resource.schema_url or "", attributes)
            resource_cache[id(resource)] = cached
        scope = readable.instrumentation_scope
        ts.append(record.timestamp or record.observed_timestamp or 0)
        trace.append(_hex_trace(record.trace_id))
        span.append(_hex_span(record.span_id))
        flags.append(int(record.trace_flags or 0))
        sev_text.append(record.severity_text or "")
        sev_num.append(record.severity_number.value if record.severity_number else 0)
        service.append(cached[0])
        body.append(body_text(record.body))
        res_url.append(cached[1])
        res_attrs.append(cached[2])
        scope_url.append((scope.schema_url or "") if scope else "")
        scope_name.append(scope.name if scope else "")
        scope_version.append((scope.version or "") if scope else "")
        scope_attrs.append(stringify_attributes(scope.attributes) if scope else {})
        log_attrs.append(stringify_attributes(record.attributes))
        event.append(record.event_name or "")
    return columns


def span_columns(batch: Sequence[ReadableSpan]) -> list[list[Any]]:
    """Return the :data:`SPAN_COLUMNS` of *batch*, column by column."""
    columns: list[list[Any]] = [[] for _ in SPAN_COLUMNS]
    (ts, trace, span_id, parent, state, name, kind, service, res_attrs, scope_name,
     scope_version, span_attrs, duration, status, status_msg, ev_ts, ev_name, ev_attrs,
     link_trace, link_span, link_state, link_attrs) = columns  # fmt: skip
    for span in batch:
        context = span.context
        resource_attrs = stringify_attributes(span.resource.attributes)
        scope = span.instrumentation_scope
        start = span.start_time or 0
        ts.append(start)
        trace.append(_hex_trace(context.trace_id if context else 0))
        span_id.append(_hex_span(context.span_id if context else 0))
        parent.append(_hex_span(span.parent.span_id) if span.parent else "")
        state.append(context.trace_state.to_header() if context and context.trace_state else "")
        name.append(span.name)
        kind.append(_SPAN_KIND.get(span.kind, "Unspecified"))
        service.append(resource_attrs.get("service.name", ""))
        res_attrs.append(resource_attrs)
        scope_name.append(scope.name if scope else "")
        scope_version.append((scope.version or "") if scope else "")
        span_attrs.append(stringify_attributes(span.attributes))
        duration.append(max(0, (span.end_time or start) - start))
        status.append(_STATUS.get(span.status.status_code, "Unset"))
        status_msg.append(span.status.description or "")
        ev_ts.append([event.timestamp for event in span.events])
        ev_name.append([event.name for event in span.events])
        ev_attrs.append([stringify_attributes(event.attributes) for event in span.events])
        link_trace.append([_hex_trace(link.context.trace_id) for link in span.links])
        link_span.append([_hex_span(link.context.span_id) for link in span.links])
        link_state.append([link.context.trace_state.to_header() for link in span.links])
        link_attrs.append([stringify_attributes(link.attributes) for link in span.links])
    return columns
