"""The redaction corpus as OTLP log records and spans: sent to a real collector, and redacted in-process.

Both sides start from the same OpenTelemetry SDK records, built by :func:`items` from
``tests/data/redaction_corpus.jsonl`` and ``redaction_near_misses.jsonl``:

* a log record per corpus record, shaped like otel-audit's own (body ``{"input", "output"}``,
  the record's attributes plus ``audit.request.id``); even records carry ``bytes`` values as
  bytes (OTLP ``bytesValue``), odd ones in otel-audit's ``{"$bytes": base64}`` form, as the SDK
  writes them;
* a span per corpus record: its attributes of span types, a name, an error status description
  and an ``exception`` event whose ``exception.message`` hold sentences the record's values were
  planted in (or its string output);
* a log record and a span per near miss (input member ``value``, attribute ``app.value``, span
  name ``predict <value>``).

:func:`send` exports them over OTLP/HTTP (protobuf) with the SDK's exporters, as a client that does
not redact; :func:`in_process` passes them through :class:`RedactingLogRecordProcessor` and
:class:`RedactingSpanExporter` into in-memory exporters. :func:`canonical` turns either output into
exact-typed canonical JSON (a ``bytes`` value never equals its base64 text, an int never a float),
and :func:`contents` into the :class:`~redaction_corpus.StoreContents` that
``tests/redaction_corpus.py`` measures leaks and false positives on.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from collector_helpers import RunningCollector, any_value, key_values
from opentelemetry._logs import LogRecord
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode
from redaction_corpus import NEAR_MISS_KEY, Leaf, StoreContents, _leaves, to_python

from otel_audit import semconv
from otel_audit.emit.hashing import canonical_json, normalize
from otel_audit.redact import RedactingLogRecordProcessor, RedactingSpanExporter, Redactor

MODEL = "corpus_model"
SPAN_PREFIX = "predict "
_SENTENCES = frozenset({"input.sentence", "attribute.sentence", "output.string"})


@dataclass(frozen=True)
class Item:
    """One record of the corpus (or one near miss) as a log record and a span."""

    id: str
    body: Any
    attributes: dict[str, Any]
    span_name: str
    span_attributes: dict[str, Any]
    status: str
    event: dict[str, Any]


def _span_value(value: Any) -> bool:
    """Whether the SDK keeps *value* as a span attribute (scalars and homogeneous scalar lists)."""
    if isinstance(value, (str, bool, int, float)):
        return True
    return (
        isinstance(value, list)
        and bool(value)
        and all(type(item) is type(value[0]) and isinstance(item, (str, bool, int, float)) for item in value)
    )


def items(corpus: Sequence[dict[str, Any]], near_misses: Sequence[dict[str, Any]]) -> list[Item]:
    """The records both sides receive (see the module docstring)."""
    made = []
    for index, record in enumerate(corpus):
        body = {semconv.BODY_INPUT: to_python(record["input"]), semconv.BODY_OUTPUT: to_python(record["output"])}
        attributes = to_python(record["attributes"])
        if index % 2:
            body = normalize(body)
            attributes = {k: normalize(v) if isinstance(v, bytes) else v for k, v in attributes.items()}
        attributes = {**attributes, semconv.AUDIT_REQUEST_ID: record["id"], "gen_ai.request.model": MODEL}
        # Free text of the record (the sentences its values were planted in) for name, status and event.
        sentences = [p["written"] for p in record["planted"] if p["place"] in _SENTENCES] or [""]
        output = record["output"] if isinstance(record["output"], str) else sentences[-1]
        made.append(
            Item(
                id=record["id"],
                body=body,
                attributes=attributes,
                span_name=SPAN_PREFIX + sentences[0],
                span_attributes={k: v for k, v in attributes.items() if _span_value(v)},
                status=output,
                event={"exception.type": "ValueError", "exception.message": f"bad input: {sentences[-1]}"},
            )
        )
    for miss in near_misses:
        value = miss["value"]
        attributes = {NEAR_MISS_KEY: value, semconv.AUDIT_REQUEST_ID: miss["id"], "gen_ai.request.model": MODEL}
        made.append(
            Item(
                id=miss["id"],
                body={semconv.BODY_INPUT: {"value": value}, semconv.BODY_OUTPUT: {"ok": True}},
                attributes=attributes,
                span_name=SPAN_PREFIX + str(value),
                span_attributes=attributes,
                status=str(value),
                event={NEAR_MISS_KEY: value},
            )
        )
    return made


def _emit(logger_provider: LoggerProvider, tracer_provider: TracerProvider | None, records: Iterable[Item]) -> None:
    logger = logger_provider.get_logger(semconv.SCOPE_NAME)
    tracer = tracer_provider.get_tracer(semconv.SCOPE_NAME) if tracer_provider else None
    for item in records:
        logger.emit(LogRecord(body=item.body, attributes=item.attributes, event_name=semconv.EVENT_PREDICTION))
        if tracer is not None:
            span = tracer.start_span(item.span_name, attributes=item.span_attributes)
            span.add_event("exception", item.event)
            span.set_status(Status(StatusCode.ERROR, item.status))
            span.end()


def send(endpoint: str, records: Sequence[Item], *, spans: bool = True) -> None:
    """Export *records* over OTLP/HTTP protobuf to the collector at *endpoint*; returns when all are sent."""
    logger_provider = LoggerProvider(shutdown_on_exit=False)
    logger_provider.add_log_record_processor(
        BatchLogRecordProcessor(OTLPLogExporter(endpoint=f"{endpoint}/v1/logs"), max_export_batch_size=256)
    )
    tracer_provider = TracerProvider(shutdown_on_exit=False) if spans else None
    if tracer_provider is not None:
        tracer_provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces"), max_export_batch_size=256)
        )
    _emit(logger_provider, tracer_provider, records)
    assert logger_provider.force_flush(60_000)
    logger_provider.shutdown()
    if tracer_provider is not None:
        assert tracer_provider.force_flush(60_000)
        tracer_provider.shutdown()


# -- outputs as plain values ---------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """SDK values as the OTLP decoder gives them back: tuples as lists, mappings as dicts."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def in_process(records: Sequence[Item], redactor: Redactor) -> tuple[dict[str, Any], dict[str, Any]]:
    """(logs, spans) by request id, redacted by otel-audit's SDK processors with *redactor*."""
    log_exporter = InMemoryLogRecordExporter()
    logger_provider = LoggerProvider(shutdown_on_exit=False)
    logger_provider.add_log_record_processor(RedactingLogRecordProcessor(redactor))
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(log_exporter))
    span_exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider(shutdown_on_exit=False)
    tracer_provider.add_span_processor(SimpleSpanProcessor(RedactingSpanExporter(span_exporter, redactor)))
    _emit(logger_provider, tracer_provider, records)
    logs = {}
    for readable in log_exporter.get_finished_logs():
        record = readable.log_record
        attributes = _plain(record.attributes or {})
        logs[attributes[semconv.AUDIT_REQUEST_ID]] = {"body": _plain(record.body), "attributes": attributes}
    spans = {}
    for span in span_exporter.get_finished_spans():
        attributes = _plain(span.attributes or {})
        spans[attributes[semconv.AUDIT_REQUEST_ID]] = {
            "name": span.name,
            "status": {"code": span.status.status_code.value, "message": span.status.description or ""},
            "attributes": attributes,
            "events": [{"name": e.name, "attributes": _plain(e.attributes or {})} for e in span.events],
        }
    logger_provider.shutdown()
    tracer_provider.shutdown()
    return logs, spans


def from_collector(requests: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every log record and span the collector's file exporter wrote, as in :func:`in_process`."""
    logs, spans = [], []
    for request in requests:
        for resource_logs in request.get("resourceLogs", []):
            for scope_logs in resource_logs.get("scopeLogs", []):
                for record in scope_logs.get("logRecords", []):
                    logs.append({
                        "body": any_value(record.get("body", {})),
                        "attributes": key_values(record.get("attributes", [])),
                    })  # fmt: skip
        for resource_spans in request.get("resourceSpans", []):
            for scope_spans in resource_spans.get("scopeSpans", []):
                for span in scope_spans.get("spans", []):
                    status = span.get("status", {})
                    spans.append({
                        "name": span.get("name", ""),
                        "status": {"code": int(status.get("code", 0)), "message": status.get("message", "")},
                        "attributes": key_values(span.get("attributes", [])),
                        "events": [
                            {"name": e.get("name", ""), "attributes": key_values(e.get("attributes", []))}
                            for e in span.get("events", [])
                        ],
                    })  # fmt: skip
    return logs, spans


def collect(running: RunningCollector, count: int, timeout: float = 120) -> tuple[list[Any], list[Any]]:
    """Wait until the collector's file sink holds *count* log records and *count* spans; return them."""
    deadline = time.monotonic() + timeout
    while True:
        logs, spans = from_collector(running.records())
        if (len(logs) >= count and len(spans) >= count) or time.monotonic() > deadline:
            return logs, spans
        assert running.process.poll() is None, running.log.read_text(errors="replace")[-3000:]
        time.sleep(0.2)


def by_id(records: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """*records* by their ``audit.request.id`` (the caller checks that each id came once)."""
    return {record["attributes"][semconv.AUDIT_REQUEST_ID]: record for record in records}


# -- comparison ------------------------------------------------------------------------------------


def typed(value: Any) -> Any:  # noqa: PLR0911 - one branch per OTLP AnyValue kind
    """*value* with its OTLP type made explicit, so that canonical JSON tells every kind apart."""
    if value is None:
        return ["empty"]
    if isinstance(value, bool):
        return ["bool", value]
    if isinstance(value, int):
        return ["int", str(value)]
    if isinstance(value, float):
        return ["double", repr(value)]
    if isinstance(value, str):
        return ["string", value]
    if isinstance(value, bytes):
        return ["bytes", base64.b64encode(value).decode("ascii")]
    if isinstance(value, Mapping):
        return ["kvlist", [[str(key), typed(item)] for key, item in sorted(value.items())]]
    if isinstance(value, (list, tuple)):
        return ["array", [typed(item) for item in value]]
    raise TypeError(f"not an OTLP value: {type(value).__name__}")


def canonical(record: Mapping[str, Any]) -> str:
    """Exact-typed canonical JSON of one output record (key order and container types ignored)."""
    return json.dumps(typed(record), ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def data(record: Mapping[str, Any]) -> dict[str, Any]:
    """*record* without the ``audit.redaction.*`` counts (what a second redaction pass may rewrite)."""

    def strip(attributes: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in attributes.items() if not k.startswith(semconv.AUDIT_REDACTION_PREFIX)}

    stripped = {**record, "attributes": strip(record["attributes"])}
    if "events" in record:
        stripped["events"] = [{**event, "attributes": strip(event["attributes"])} for event in record["events"]]
    return stripped


def redact_again(redactor: Redactor, log: Mapping[str, Any] | None, span: Mapping[str, Any] | None) -> tuple[Any, Any]:
    """*log* and *span* (collector output) passed through the Python engine once more."""
    again_log = again_span = None
    if log is not None:
        again_log = {
            "body": redactor.redact(log["body"]).value,
            "attributes": dict(redactor.redact_attributes(log["attributes"]).value),
        }
    if span is not None:
        again_span = {
            "name": redactor.redact(span["name"]).value,
            "status": {**span["status"], "message": redactor.redact(span["status"]["message"]).value},
            "attributes": dict(redactor.redact_attributes(span["attributes"]).value),
            "events": [
                {"name": e["name"], "attributes": dict(redactor.redact_attributes(e["attributes"]).value)}
                for e in span["events"]
            ],
        }
    return again_log, again_span


# -- what a store would hold -------------------------------------------------------------------------


def contents(logs: Mapping[str, dict[str, Any]], spans: Mapping[str, dict[str, Any]]) -> StoreContents:
    """The output records as :class:`StoreContents` (one "row" per log record and per span)."""
    found = StoreContents()
    for record_id, log in logs.items():
        found.rows["logs"] += 1
        found.record_rows[record_id]["logs"] += 1
        leaves = found.by_record[record_id]
        leaves.extend(_leaves(canonical_json(log["body"])[1], "log.body", False, "log.body"))
        leaves.extend(_leaves(log["attributes"], "log.attributes", False, "log.attributes"))
        if record_id.startswith("nm-"):
            body = log["body"]
            value = body.get(semconv.BODY_INPUT, {}).get("value", "<missing>") if isinstance(body, dict) else body
            found.near_miss_values[record_id] += [
                ("log.attributes", log["attributes"].get(NEAR_MISS_KEY, "<missing>")),
                ("log.body", value),
            ]
    for record_id, span in spans.items():
        found.rows["spans"] += 1
        found.record_rows[record_id]["spans"] += 1
        leaves = found.by_record[record_id]
        leaves += [Leaf(span["name"], "span.name", False, "span.name")]
        leaves += [Leaf(span["status"]["message"], "span.status", False, "span.status")]
        leaves.extend(_leaves(span["attributes"], "span.attributes", False, "span.attributes"))
        for event in span["events"]:
            leaves.extend(_leaves(event["attributes"], "span.events", False, "span.events"))
        if record_id.startswith("nm-"):
            found.near_miss_values[record_id] += [
                ("span.attributes", span["attributes"].get(NEAR_MISS_KEY, "<missing>")),
                ("span.name", span["name"].removeprefix(SPAN_PREFIX)),
            ]
    return found
