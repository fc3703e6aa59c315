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

from opentelemetry._logs import LogRecord
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from otel_audit.export.record_id import ContentIds
from otel_audit.semconv import LOG_RECORD_UID

__all__ = [
    "LOG_COLUMNS",
    "SPAN_COLUMNS",
    "assemble_log_table",
    "attach_body_json",
    "attribute_text",
    "body_text",
    "log_columns",
    "log_table",
    "record_body_text",
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
_EMPTY: list[Any] = []  # shared, never mutated
_STATUS = {StatusCode.UNSET: "Unset", StatusCode.OK: "Ok", StatusCode.ERROR: "Error"}
# Sorted keys: a body from otel-audit then stores its input in canonical key order, and any
# reader can re-hash it with hash_input(json.loads(Input)).
_dump = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True, default=str).encode


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
    return {key: value if type(value) is str else attribute_text(value) for key, value in attributes.items()}


_BODY_JSON = "_otel_audit_body_json"


def attach_body_json(record: LogRecord, text: str) -> None:
    """Remember *text* as the JSON of *record*'s current body, so export need not re-encode it.

    Only for a body that nothing will mutate before export: the text is used while
    ``record.body`` is still the same object.
    """
    setattr(record, _BODY_JSON, (record.body, text))


def record_body_text(record: LogRecord) -> str:
    """The ``Body`` column of *record*: its attached JSON if the body is unchanged, else encoded."""
    attached = getattr(record, _BODY_JSON, None)
    if attached is not None and attached[0] is record.body:
        return attached[1]  # type: ignore[no-any-return]
    return body_text(record.body)


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


def _text_items(attributes: Mapping[str, Any] | None, keys: list[str], values: list[str]) -> None:
    """Append the stringified items of *attributes* to *keys* / *values* (the hot loop)."""
    if not attributes:
        return
    for key, value in attributes.items():
        keys.append(key)
        values.append(value if type(value) is str else attribute_text(value))


def _map_array(offsets: list[int], keys: list[str], values: list[str]) -> Any:
    import pyarrow as pa

    return pa.MapArray.from_arrays(
        pa.array(offsets, pa.int32()), pa.array(keys, pa.string()), pa.array(values, pa.string())
    )


MapColumn = tuple[list[int], list[str], list[str]]
"""An Arrow map column as (offsets, keys, values)."""


def assemble_log_table(  # noqa: PLR0917 - one argument per column, in column order
    ts: list[int],
    trace: list[str],
    span: list[str],
    flags: list[int],
    sev_text: list[str],
    sev_num: list[int],
    service: list[str],
    body: list[str],
    res_url: list[str],
    res_map: MapColumn,
    scope_url: list[str],
    scope_name: list[str],
    scope_version: list[str],
    scope_map: MapColumn,
    log_map: MapColumn,
    event: list[str],
) -> Any:
    """The ``pyarrow.Table`` of :data:`LOG_COLUMNS` from its columns (shared by SDK and OTLP mapping)."""
    import pyarrow as pa

    string = pa.string()
    return pa.Table.from_arrays(
        [
            pa.array(ts, pa.timestamp("ns")), pa.array(trace, string), pa.array(span, string),
            pa.array(flags, pa.uint8()), pa.array(sev_text, string), pa.array(sev_num, pa.uint8()),
            pa.array(service, string), pa.array(body, string), pa.array(res_url, string),
            _map_array(*res_map), pa.array(scope_url, string), pa.array(scope_name, string),
            pa.array(scope_version, string), _map_array(*scope_map), _map_array(*log_map), pa.array(event, string),
        ],
        names=list(LOG_COLUMNS),
    )  # fmt: skip


# One flat loop over the 16 columns: splitting it would cost a call per record.
def log_table(batch: Sequence[ReadableLogRecord]) -> Any:  # noqa: PLR0915
    """Return *batch* as a ``pyarrow.Table`` with the :data:`LOG_COLUMNS` (for Arrow inserts)."""

    ts: list[int] = []
    trace: list[str] = []
    span: list[str] = []
    flags: list[int] = []
    sev_text: list[str] = []
    sev_num: list[int] = []
    service: list[str] = []
    body: list[str] = []
    res_url: list[str] = []
    scope_url: list[str] = []
    scope_name: list[str] = []
    scope_version: list[str] = []
    event: list[str] = []
    maps: list[tuple[list[int], list[str], list[str]]] = [
        ([0], [], []) for _ in range(3)
    ]  # resource, scope, log attributes: offsets, keys, values
    (res_off, res_k, res_v), (scope_off, scope_k, scope_v), (log_off, log_k, log_v) = maps
    resource_cache: dict[int, tuple[str, str, list[str], list[str]]] = {}
    scope_cache: dict[int, tuple[str, str, str, list[str], list[str]]] = {}
    ids = ContentIds()
    for readable in batch:
        record = readable.log_record
        resource = readable.resource
        cached = resource_cache.get(id(resource))
        if cached is None:
            keys: list[str] = []
            values: list[str] = []
            _text_items(resource.attributes, keys, values)
            name = values[keys.index("service.name")] if "service.name" in keys else ""
            cached = resource_cache[id(resource)] = (name, resource.schema_url or "", keys, values)
        scope = readable.instrumentation_scope
        scoped = scope_cache.get(id(scope))
        if scoped is None:
            keys, values = [], []
            if scope is not None:
                _text_items(scope.attributes, keys, values)
                scoped = (scope.schema_url or "", scope.name, scope.version or "", keys, values)
            else:
                scoped = ("", "", "", keys, values)
            scope_cache[id(scope)] = scoped
        ts.append(record.timestamp or record.observed_timestamp or 0)
        trace_id = record.trace_id
        trace.append(format(trace_id, "032x") if trace_id else "")
        span_id = record.span_id
        span.append(format(span_id, "016x") if span_id else "")
        flags.append(int(record.trace_flags or 0))
        sev_text.append(record.severity_text or "")
        sev_num.append(record.severity_number.value if record.severity_number else 0)
        service.append(cached[0])
        text = record_body_text(record)
        body.append(text)
        res_url.append(cached[1])
        res_k.extend(cached[2])
        res_v.extend(cached[3])
        res_off.append(len(res_k))
        scope_url.append(scoped[0])
        scope_name.append(scoped[1])
        scope_version.append(scoped[2])
        scope_k.extend(scoped[3])
        scope_v.extend(scoped[4])
        scope_off.append(len(scope_k))
        first = len(log_k)
        _text_items(record.attributes, log_k, log_v)
        record_id = ids.missing(
            record.event_name or "", log_k[first:], log_v[first:], record.timestamp or 0,
            record.observed_timestamp or 0, trace[-1], span[-1], sev_num[-1], sev_text[-1], text,
            cached[2], cached[3], scoped[1], scoped[2],
        )  # fmt: skip
        if record_id is not None:
            log_k.append(LOG_RECORD_UID)
            log_v.append(record_id)
        log_off.append(len(log_k))
        event.append(record.event_name or "")
    return assemble_log_table(
        ts, trace, span, flags, sev_text, sev_num, service, body, res_url, (res_off, res_k, res_v),
        scope_url, scope_name, scope_version, (scope_off, scope_k, scope_v), (log_off, log_k, log_v), event,
    )  # fmt: skip


def log_columns(batch: Sequence[ReadableLogRecord]) -> list[list[Any]]:
    """Return the :data:`LOG_COLUMNS` of *batch* as Python lists, column by column."""
    import pyarrow as pa

    table = log_table(batch)
    columns: list[list[Any]] = []
    for name, column in zip(LOG_COLUMNS, table.columns, strict=True):
        if name == "Timestamp":
            columns.append(column.cast(pa.int64()).to_pylist())
        elif name.endswith("Attributes"):
            columns.append([dict(pairs) for pairs in column.to_pylist()])
        else:
            columns.append(column.to_pylist())
    return columns


def span_columns(batch: Sequence[ReadableSpan]) -> list[list[Any]]:
    """Return the :data:`SPAN_COLUMNS` of *batch*, column by column."""
    columns: list[list[Any]] = [[] for _ in SPAN_COLUMNS]
    (ts, trace, span_id, parent, state, name, kind, service, res_attrs, scope_name,
     scope_version, span_attrs, duration, status, status_msg, ev_ts, ev_name, ev_attrs,
     link_trace, link_span, link_state, link_attrs) = columns  # fmt: skip
    resource_cache: dict[int, dict[str, str]] = {}
    for span in batch:
        context = span.context
        resource_attrs = resource_cache.get(id(span.resource))
        if resource_attrs is None:
            resource_attrs = resource_cache[id(span.resource)] = stringify_attributes(span.resource.attributes)
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
        events = span.events
        if events:
            ev_ts.append([event.timestamp for event in events])
            ev_name.append([event.name for event in events])
            ev_attrs.append([stringify_attributes(event.attributes) for event in events])
        else:
            ev_ts.append(_EMPTY)
            ev_name.append(_EMPTY)
            ev_attrs.append(_EMPTY)
        links = span.links
        if links:
            link_trace.append([_hex_trace(link.context.trace_id) for link in links])
            link_span.append([_hex_span(link.context.span_id) for link in links])
            link_state.append([link.context.trace_state.to_header() for link in links])
            link_attrs.append([stringify_attributes(link.attributes) for link in links])
        else:
            link_trace.append(_EMPTY)
            link_span.append(_EMPTY)
            link_state.append(_EMPTY)
            link_attrs.append(_EMPTY)
    return columns
