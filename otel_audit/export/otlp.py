"""OTLP wire messages -> the columns of ``otel_logs`` / ``otel_traces``, and OTLP request decoding.

This is the receiving twin of :mod:`otel_audit.export.rows`: an ``ExportLogsServiceRequest`` or
``ExportTraceServiceRequest`` (the opentelemetry-proto messages) becomes the same Arrow table /
column lists the SDK exporters insert, through the same stringification rules
(:func:`~otel_audit.export.rows.attribute_text`, :func:`~otel_audit.export.rows.body_text`), so a
record sent over OTLP is stored exactly like one emitted in-process.

Decoding follows the OTLP specification: binary protobuf, or JSON where ``traceId`` /
``spanId`` / ``parentSpanId`` are hex strings (not base64), enums are integers and unknown fields
are ignored. :func:`validate_logs` / :func:`validate_spans` drop the records the store could
never take (malformed ids, timestamps past 2262) and say why, for OTLP's partial success.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Sequence
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from otel_audit.export.record_id import ContentIds
from otel_audit.export.rows import SPAN_COLUMNS, assemble_log_table, attribute_text, body_text
from otel_audit.semconv import LOG_RECORD_UID

__all__ = [
    "MalformedRequestError",
    "any_value_to_python",
    "count_logs",
    "count_spans",
    "decode_request",
    "otlp_log_table",
    "otlp_span_columns",
    "validate_logs",
    "validate_spans",
]

_MAX_NS = 2**63 - 1  # DateTime64(9) and Arrow's timestamp[ns] are signed 64-bit
_SPAN_KIND = ("Unspecified", "Internal", "Server", "Client", "Producer", "Consumer")
_STATUS = ("Unset", "Ok", "Error")
_EMPTY: list[Any] = []  # shared, never mutated


class MalformedRequestError(ValueError):
    """The body is not a valid OTLP request in the declared encoding."""


# --- AnyValue -> Python value -> the rows.py text rules -------------------------------------


def any_value_to_python(any_value: Any) -> Any:  # noqa: PLR0911 - one return per AnyValue kind
    """Return the Python value of an OTLP ``AnyValue`` (``None`` when empty)."""
    kind = any_value.WhichOneof("value")
    if kind == "string_value":
        return any_value.string_value
    if kind == "int_value":
        return any_value.int_value
    if kind == "bool_value":
        return any_value.bool_value
    if kind == "double_value":
        return any_value.double_value
    if kind == "array_value":
        return [any_value_to_python(item) for item in any_value.array_value.values]
    if kind == "kvlist_value":
        return {item.key: any_value_to_python(item.value) for item in any_value.kvlist_value.values}
    if kind == "bytes_value":
        return any_value.bytes_value
    return None


def _text(any_value: Any) -> str:
    """Stringify an attribute ``AnyValue`` as the SDK path does (empty value -> ``""``)."""
    text = any_value.string_value
    if text:  # a non-empty string_value is the oneof's only member: the common case, one lookup
        return text  # type: ignore[no-any-return]
    value = any_value_to_python(any_value)
    return "" if value is None else attribute_text(value)


def _items(attributes: Iterable[Any], keys: list[str], values: list[str]) -> None:
    keys_append = keys.append
    values_append = values.append
    for item in attributes:
        keys_append(item.key)
        value = item.value
        text = value.string_value
        values_append(text if text else _text(value))


def _attr_dict(attributes: Iterable[Any]) -> dict[str, str]:
    return {item.key: _text(item.value) for item in attributes}


def _service(keys: list[str], values: list[str]) -> str:
    return values[keys.index("service.name")] if "service.name" in keys else ""


# --- requests -> columns --------------------------------------------------------------------


# One flat loop over the 16 columns, as in rows.log_table: splitting it would cost a call per record.
def otlp_log_table(requests: Sequence[ExportLogsServiceRequest]) -> Any:  # noqa: PLR0915
    """Return the log records of *requests* as a ``pyarrow.Table`` with :data:`LOG_COLUMNS`."""

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
    res_off, res_k, res_v = [0], [], []
    scope_off, scope_k, scope_v = [0], [], []
    log_off, log_k, log_v = [0], [], []  # type: ignore[var-annotated]
    for request in requests:
        ids = ContentIds()  # repeats are numbered within one request, which a retry resends whole
        for resource_logs in request.resource_logs:
            r_keys: list[str] = []
            r_values: list[str] = []
            _items(resource_logs.resource.attributes, r_keys, r_values)
            service_name = _service(r_keys, r_values)
            r_url = resource_logs.schema_url
            for scope_logs in resource_logs.scope_logs:
                scope = scope_logs.scope
                s_keys: list[str] = []
                s_values: list[str] = []
                _items(scope.attributes, s_keys, s_values)
                s_url, s_name, s_version = scope_logs.schema_url, scope.name, scope.version
                for record in scope_logs.log_records:
                    ts.append(record.time_unix_nano or record.observed_time_unix_nano)
                    trace.append(record.trace_id.hex())
                    span.append(record.span_id.hex())
                    flags.append(record.flags & 0xFF)
                    sev_text.append(record.severity_text)
                    sev_num.append(record.severity_number)
                    service.append(service_name)
                    text = body_text(any_value_to_python(record.body)) if record.HasField("body") else ""
                    body.append(text)
                    res_url.append(r_url)
                    res_k.extend(r_keys)
                    res_v.extend(r_values)
                    res_off.append(len(res_k))
                    scope_url.append(s_url)
                    scope_name.append(s_name)
                    scope_version.append(s_version)
                    scope_k.extend(s_keys)
                    scope_v.extend(s_values)
                    scope_off.append(len(scope_k))
                    first = len(log_k)
                    _items(record.attributes, log_k, log_v)
                    record_id = ids.missing(
                        record.event_name, log_k[first:], log_v[first:], record.time_unix_nano,
                        record.observed_time_unix_nano, trace[-1], span[-1], record.severity_number,
                        record.severity_text, text, r_keys, r_values, s_name, s_version,
                    )  # fmt: skip
                    if record_id is not None:
                        log_k.append(LOG_RECORD_UID)
                        log_v.append(record_id)
                    log_off.append(len(log_k))
                    event.append(record.event_name)
    return assemble_log_table(
        ts, trace, span, flags, sev_text, sev_num, service, body, res_url, (res_off, res_k, res_v),
        scope_url, scope_name, scope_version, (scope_off, scope_k, scope_v), (log_off, log_k, log_v), event,
    )  # fmt: skip


def otlp_span_columns(requests: Sequence[ExportTraceServiceRequest]) -> list[list[Any]]:
    """Return the spans of *requests* as the :data:`SPAN_COLUMNS`, column by column."""
    columns: list[list[Any]] = [[] for _ in SPAN_COLUMNS]
    (ts, trace, span_id, parent, state, name, kind, service, res_attrs, scope_name,
     scope_version, span_attrs, duration, status, status_msg, ev_ts, ev_name, ev_attrs,
     link_trace, link_span, link_state, link_attrs) = columns  # fmt: skip
    for request in requests:
        for resource_spans in request.resource_spans:
            resource = _attr_dict(resource_spans.resource.attributes)
            service_name = resource.get("service.name", "")
            for scope_spans in resource_spans.scope_spans:
                scope = scope_spans.scope
                for span in scope_spans.spans:
                    start = span.start_time_unix_nano
                    ts.append(start)
                    trace.append(span.trace_id.hex())
                    span_id.append(span.span_id.hex())
                    parent.append(span.parent_span_id.hex())
                    state.append(span.trace_state)
                    name.append(span.name)
                    kind.append(_SPAN_KIND[span.kind] if 0 <= span.kind < len(_SPAN_KIND) else "Unspecified")
                    service.append(service_name)
                    res_attrs.append(resource)
                    scope_name.append(scope.name)
                    scope_version.append(scope.version)
                    span_attrs.append(_attr_dict(span.attributes))
                    duration.append(max(0, span.end_time_unix_nano - start))
                    code = span.status.code
                    status.append(_STATUS[code] if 0 <= code < len(_STATUS) else "Unset")
                    status_msg.append(span.status.message)
                    events = span.events
                    if events:
                        ev_ts.append([event.time_unix_nano for event in events])
                        ev_name.append([event.name for event in events])
                        ev_attrs.append([_attr_dict(event.attributes) for event in events])
                    else:
                        ev_ts.append(_EMPTY)
                        ev_name.append(_EMPTY)
                        ev_attrs.append(_EMPTY)
                    links = span.links
                    if links:
                        link_trace.append([link.trace_id.hex() for link in links])
                        link_span.append([link.span_id.hex() for link in links])
                        link_state.append([link.trace_state for link in links])
                        link_attrs.append([_attr_dict(link.attributes) for link in links])
                    else:
                        link_trace.append(_EMPTY)
                        link_span.append(_EMPTY)
                        link_state.append(_EMPTY)
                        link_attrs.append(_EMPTY)
    return columns


# --- decoding and validation ----------------------------------------------------------------


_ID_KEYS = ("traceId", "trace_id", "spanId", "span_id", "parentSpanId", "parent_span_id")


def _ids_hex_to_base64(item: Any, where: str) -> None:
    """Rewrite OTLP/JSON hex ids of *item* in place to the base64 protobuf's JSON mapping expects."""
    if not isinstance(item, dict):
        raise MalformedRequestError(f"{where} must be a JSON object")
    for key in _ID_KEYS:
        value = item.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise MalformedRequestError(f"{where}.{key} must be a hex string")
        try:
            item[key] = base64.b64encode(bytes.fromhex(value)).decode("ascii")
        except ValueError:
            raise MalformedRequestError(f"{where}.{key} is not a hex string: {value[:40]!r}") from None


def _list(parent: dict[str, Any], names: tuple[str, str], where: str) -> list[Any]:
    value = parent.get(names[0], parent.get(names[1], []))
    if not isinstance(value, list):
        raise MalformedRequestError(f"{where}.{names[0]} must be a JSON array")
    return value


def _fix_json_ids(document: Any, signal: str) -> None:
    if not isinstance(document, dict):
        raise MalformedRequestError("the JSON body must be an object")
    if signal == "logs":
        path = (("resourceLogs", "resource_logs"), ("scopeLogs", "scope_logs"), ("logRecords", "log_records"))
    else:
        path = (("resourceSpans", "resource_spans"), ("scopeSpans", "scope_spans"), ("spans", "spans"))
    for r_index, resource in enumerate(_list(document, path[0], "body")):
        where = f"{path[0][0]}[{r_index}]"
        if not isinstance(resource, dict):
            raise MalformedRequestError(f"{where} must be a JSON object")
        for s_index, scope in enumerate(_list(resource, path[1], where)):
            scope_where = f"{where}.{path[1][0]}[{s_index}]"
            if not isinstance(scope, dict):
                raise MalformedRequestError(f"{scope_where} must be a JSON object")
            for i_index, item in enumerate(_list(scope, path[2], scope_where)):
                item_where = f"{scope_where}.{path[2][0]}[{i_index}]"
                _ids_hex_to_base64(item, item_where)
                if signal == "spans":
                    for l_index, link in enumerate(_list(item, ("links", "links"), item_where)):
                        _ids_hex_to_base64(link, f"{item_where}.links[{l_index}]")


def decode_request(signal: str, body: bytes, *, json_encoded: bool) -> tuple[Message, bytes]:
    """Parse an OTLP request body; return the message and its protobuf encoding.

    The returned bytes always parse back (a JSON body nested deeper than protobuf's recursion
    limit is refused here, not discovered later when the spool is replayed).

    Raises:
        MalformedRequestError: truncated or invalid protobuf, invalid JSON or UTF-8, wrong shapes.
    """
    message_type = ExportLogsServiceRequest if signal == "logs" else ExportTraceServiceRequest
    if not json_encoded:
        try:
            return message_type.FromString(body), body
        except (DecodeError, RecursionError) as error:
            raise MalformedRequestError(f"invalid OTLP protobuf: {error or 'cannot parse'}") from None
    try:
        document = json.loads(body.decode("utf-8"))
        _fix_json_ids(document, signal)
        message = json_format.ParseDict(document, message_type(), ignore_unknown_fields=True)
        encoded = message.SerializeToString()
        message_type.FromString(encoded)
    except UnicodeDecodeError as error:
        raise MalformedRequestError(f"body is not valid UTF-8: {error}") from None
    except RecursionError:
        raise MalformedRequestError("JSON body is nested too deeply") from None
    except (ValueError, json_format.ParseError, DecodeError, TypeError, binascii.Error) as error:
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise MalformedRequestError(f"invalid OTLP JSON: {text[:300]}") from None
    return message, encoded


def count_logs(request: ExportLogsServiceRequest) -> int:
    """Number of log records in *request*."""
    return sum(len(scope.log_records) for resource in request.resource_logs for scope in resource.scope_logs)


def count_spans(request: ExportTraceServiceRequest) -> int:
    """Number of spans in *request*."""
    return sum(len(scope.spans) for resource in request.resource_spans for scope in resource.scope_spans)


def _log_problem(record: Any) -> str | None:
    if len(record.trace_id) not in (0, 16):
        return "trace_id must be 16 bytes"
    if len(record.span_id) not in (0, 8):
        return "span_id must be 8 bytes"
    if record.time_unix_nano > _MAX_NS or record.observed_time_unix_nano > _MAX_NS:
        return "timestamp after 2262"
    if not 0 <= record.severity_number <= 255:
        return "severity_number out of range"
    return None


def _span_problem(span: Any) -> str | None:  # noqa: PLR0911 - one return per rule
    if len(span.trace_id) != 16:
        return "trace_id must be 16 bytes"
    if len(span.span_id) != 8:
        return "span_id must be 8 bytes"
    if len(span.parent_span_id) not in (0, 8):
        return "parent_span_id must be 8 bytes"
    if span.start_time_unix_nano > _MAX_NS or span.end_time_unix_nano > _MAX_NS:
        return "timestamp after 2262"
    for event in span.events:
        if event.time_unix_nano > _MAX_NS:
            return "event timestamp after 2262"
    for link in span.links:
        if len(link.trace_id) not in (0, 16) or len(link.span_id) not in (0, 8):
            return "link ids must be 16 and 8 bytes"
    return None


def _filter(containers: Iterable[Any], field: str, problem: Any) -> tuple[int, int, str]:
    """Remove the items of every container's repeated *field* that have a problem."""
    total = rejected = 0
    first = ""
    for container in containers:
        items = getattr(container, field)
        total += len(items)
        bad = [index for index, item in enumerate(items) if problem(item) is not None]
        if bad:
            if not first:
                first = problem(items[bad[0]])
            rejected += len(bad)
            for index in reversed(bad):
                del items[index]
    return total, rejected, first


def validate_logs(request: ExportLogsServiceRequest) -> tuple[int, int, str]:
    """Drop unstorable records from *request* in place; return ``(total, rejected, reason)``."""
    scopes = [scope for resource in request.resource_logs for scope in resource.scope_logs]
    return _filter(scopes, "log_records", _log_problem)


def validate_spans(request: ExportTraceServiceRequest) -> tuple[int, int, str]:
    """Drop unstorable spans from *request* in place; return ``(total, rejected, reason)``."""
    scopes = [scope for resource in request.resource_spans for scope in resource.scope_spans]
    return _filter(scopes, "spans", _span_problem)
