"""Wiring: providers, processors, exporters and the export-thread half of each prediction.

:func:`configure` builds an :class:`AuditRuntime`: its own ``TracerProvider`` and
``LoggerProvider`` (standard ``OTEL_*`` variables honoured), audit processors that never drop
silently, a ClickHouse exporter for the store and/or OTLP exporters, and a *finisher* thread
that turns queued :class:`~otel_audit.emit.prediction.Prediction` objects into a finished span
and an ``ai.prediction`` log record.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.context import Context
from opentelemetry.sdk._logs import LoggerProvider, LogRecordProcessor
from opentelemetry.sdk._logs.export import LogRecordExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter
from opentelemetry.trace import Status, StatusCode, set_span_in_context

from otel_audit import envvars, semconv
from otel_audit.emit.hashing import Encoded, canonical_json, encode
from otel_audit.emit.prediction import CallInput, Prediction, error_type, label_of, new_request_id
from otel_audit.errors import ConfigError
from otel_audit.export.batching import BatchWorker
from otel_audit.export.processors import AuditLogRecordProcessor, AuditSpanProcessor
from otel_audit.export.rows import attach_body_json
from otel_audit.stats import pipeline_stats
from otel_audit.store.connect import Store

__all__ = ["AuditRuntime", "audit_runtime", "configure", "get_runtime", "shutdown"]

_logger = logging.getLogger(__name__)

_DEFAULT_QUEUE_SIZE = 16384
_DEFAULT_BATCH_SIZE = 8192
_DEFAULT_DELAY_MS = 1000
_FINISH_BATCH = 512
_FINISH_DELAY_S = 0.05
_ALLOWED_ATTRIBUTE_TYPES = (str, bool, int, float)
_RETRY_CONFIGURE_S = 60.0

_NO_SPAN = Context()

_runtime: AuditRuntime | None = None
_runtime_lock = threading.Lock()
_retry_at = [0.0]  # audited calls do not configure from the environment again before this


def _encode(prediction: Prediction) -> tuple[Encoded, Encoded]:
    """Return the encoded input and output of *prediction*; never raises."""
    try:
        raw = prediction.input
        if isinstance(raw, CallInput):
            raw = raw.resolve()
        encoded_input = encode(raw)
    except Exception as error:  # noqa: BLE001 - an odd input must not cost the record
        pipeline_stats.add("predictions", "encode_errors")
        encoded_input = encode({"$unencodable": f"{type(error).__name__}: {error}"})
    try:
        encoded_output = encode(prediction.output)
    except Exception as error:  # noqa: BLE001
        pipeline_stats.add("predictions", "encode_errors")
        encoded_output = encode({"$unencodable": f"{type(error).__name__}: {error}"})
    return encoded_input, encoded_output


def _extra_attributes(attributes: Mapping[str, Any] | None, into: dict[str, Any]) -> None:
    if not attributes:
        return
    try:
        items = list(attributes.items())
    except Exception:  # noqa: BLE001 - odd extra attributes must not cost the record
        pipeline_stats.add("predictions", "attribute_errors")
        return
    for key, value in items:
        if key in into or key == semconv.LOG_RECORD_UID:
            continue  # never let an extra attribute overwrite an audit fact or the record's identity
        if isinstance(value, _ALLOWED_ATTRIBUTE_TYPES):
            into[str(key)] = value
        elif isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
            into[str(key)] = tuple(value)  # string arrays (per-row batch hashes) stay arrays
        else:
            try:
                into[str(key)] = str(value)
            except Exception as error:  # noqa: BLE001
                pipeline_stats.add("predictions", "attribute_errors")
                into[str(key)] = f"$unencodable: {error_type(error)}"


class AuditRuntime:
    """Everything one configuration of otel-audit owns. Build it with :func:`configure`."""

    def __init__(
        self,
        *,
        tracer_provider: TracerProvider,
        logger_provider: LoggerProvider,
        queue_size: int,
        block_timeout_s: float | None,
        store: Store | None,
        cache_body_json: bool = True,
    ) -> None:
        self._cache_body_json = cache_body_json
        self.tracer_provider = tracer_provider
        self.logger_provider = logger_provider
        self.tracer = tracer_provider.get_tracer(semconv.SCOPE_NAME, _version())
        self.logger = logger_provider.get_logger(semconv.SCOPE_NAME, _version())
        self.store = store
        self._finisher: BatchWorker[Prediction] = BatchWorker(
            "otel-audit-predictions",
            self._finish_batch,
            signal="predictions",
            max_queue_size=queue_size,
            max_batch_size=_FINISH_BATCH,
            schedule_delay_s=_FINISH_DELAY_S,
            block_timeout_s=block_timeout_s,
        )
        self._closed = False
        atexit.register(self.shutdown)

    # -- caller thread --------------------------------------------------------------------
    def prediction(self, **kwargs: Any) -> Prediction:
        """Return a :class:`Prediction` bound to this runtime (see ``audit_prediction``)."""
        return Prediction(self, **kwargs)

    def submit(self, prediction: Prediction) -> None:
        """Queue a finished prediction; waits if the queue is full (see BatchWorker)."""
        if self._finisher.put(prediction):
            return
        # Dropped after the block timeout: the span still has to end.
        span = prediction.span
        if span is not None:
            span.end(end_time=prediction.end_ns)

    encode = staticmethod(_encode)

    # -- export thread --------------------------------------------------------------------
    def _finish_batch(self, batch: Sequence[Prediction]) -> None:
        for prediction in batch:
            try:
                self._finish(prediction)
            except Exception:
                _logger.exception("otel-audit could not finish a prediction record")
                pipeline_stats.drop("predictions", "finish_error", 1)

    def _finish(self, p: Prediction) -> None:
        encoded_input, encoded_output = p.encoded or _encode(p)
        error = p.error
        latency_ms = p.latency_ms if p.latency_ms is not None else (p.end_ns - p.start_ns) / 1e6
        attributes: dict[str, Any] = {
            semconv.GEN_AI_REQUEST_MODEL: p.model,
            semconv.ML_MODEL_VERSION: p.version,
            semconv.GEN_AI_OPERATION_NAME: p.operation,
            semconv.AUDIT_INPUT_HASH: encoded_input.sha256,
            semconv.AUDIT_REQUEST_ID: p._request_id or new_request_id(),  # noqa: SLF001
            semconv.AUDIT_OUTCOME: semconv.OUTCOME_ERROR if error is not None else semconv.OUTCOME_OK,
            semconv.AUDIT_LATENCY_MS: latency_ms,
            semconv.AUDIT_BATCH_SIZE: p.batch_size,
            semconv.AUDIT_SCHEMA_VERSION: semconv.SCHEMA_VERSION,
        }
        if p.pipeline_version:
            attributes[semconv.ML_PIPELINE_VERSION] = p.pipeline_version
        if p.user_id is not None:
            attributes[semconv.USER_ID] = str(p.user_id)
        if p.extractor_errors:
            attributes[semconv.AUDIT_EXTRACTOR_ERROR] = tuple(p.extractor_errors)
        body: dict[str, Any] = {semconv.BODY_INPUT: encoded_input.value, semconv.BODY_OUTPUT: encoded_output.value}
        error_text = ""
        if error is not None:
            kind = error_type(error)
            message = str(error)
            attributes[semconv.ERROR_TYPE] = kind
            attributes[semconv.ERROR_MESSAGE] = message
            body[semconv.BODY_ERROR] = {"type": kind, "message": message}
            error_text = f'"{semconv.BODY_ERROR}":{canonical_json(body[semconv.BODY_ERROR])[1]},'
        _extra_attributes(p.scope_attributes, attributes)
        _extra_attributes(p.attributes, attributes)

        span = p.span
        if span is not None:
            span.set_attributes(attributes)
            if error is not None:
                span.record_exception(error, timestamp=p.end_ns)
                span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
            span.end(end_time=p.end_ns)
        # The label is content derived from the output: the log record carries it (where it is
        # redacted, sealed by hash and erasable like the output), the span does not.
        label = p.label if p.label is not None else (label_of(p.output) if error is None else "")
        if label:
            attributes[semconv.AUDIT_OUTPUT_LABEL] = str(label)
        # The record's own identity, made once here so a retried export keeps it; spans have their ids.
        attributes[semconv.LOG_RECORD_UID] = uuid.uuid4().hex
        record = LogRecord(
            timestamp=p.start_ns,
            observed_timestamp=p.end_ns,
            # The span's context, not the export thread's: this is what correlates the two.
            context=set_span_in_context(span) if span is not None else _NO_SPAN,
            severity_number=SeverityNumber.ERROR if error is not None else SeverityNumber.INFO,
            severity_text="ERROR" if error is not None else "INFO",
            body=body,
            attributes=attributes,
            event_name=semconv.EVENT_PREDICTION,
        )
        if self._cache_body_json:
            # Nothing runs between here and the exporters, so the canonical text stays true.
            attach_body_json(
                record,
                f'{{{error_text}"{semconv.BODY_INPUT}":{encoded_input.text},'
                f'"{semconv.BODY_OUTPUT}":{encoded_output.text}}}',
            )
        self.logger.emit(record)

    # -- lifecycle ------------------------------------------------------------------------
    def flush(self, timeout_s: float = 60.0) -> bool:
        """Export everything audited so far; ``False`` if *timeout_s* ran out first."""
        millis = int(timeout_s * 1000)
        return (
            self._finisher.force_flush(timeout_s)
            and self.tracer_provider.force_flush(millis)
            and self.logger_provider.force_flush(millis)
        )

    def shutdown(self, timeout_s: float = 30.0) -> None:
        """Flush and stop; records still queued after *timeout_s* are counted as dropped."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.shutdown)
        self._finisher.shutdown(timeout_s)
        self.tracer_provider.shutdown()
        self.logger_provider.shutdown()
        dropped = pipeline_stats.dropped()
        if dropped:
            _logger.error("otel-audit dropped %d record(s) in this process; see otel_audit.stats()", dropped)


def _version() -> str:
    from otel_audit import __version__

    return __version__


def _otlp_exporters(endpoint: str, protocol: str | None) -> tuple[LogRecordExporter, SpanExporter]:
    protocol = protocol or envvars.env_str("OTEL_EXPORTER_OTLP_PROTOCOL") or "http/protobuf"
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        insecure = endpoint.startswith("http://")
        return OTLPLogExporter(endpoint=endpoint, insecure=insecure), OTLPSpanExporter(
            endpoint=endpoint, insecure=insecure
        )
    if protocol != "http/protobuf":
        raise ConfigError(f"OTLP protocol {protocol!r} is not supported; use http/protobuf or grpc")
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HTTPLogs
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HTTPSpans

    base = endpoint.rstrip("/")
    return HTTPLogs(endpoint=base + "/v1/logs"), HTTPSpans(endpoint=base + "/v1/traces")


def _queue_policy(
    queue_size: int | None,
    block_timeout_ms: float | None,
    export_batch_size: int | None,
    schedule_delay_ms: float | None,
) -> dict[str, Any]:
    """Resolve the queueing options: argument > OTEL_AUDIT_* > OTEL_BLRP_* > default."""
    size = (
        queue_size
        if queue_size is not None
        else envvars.env_int(envvars.OTEL_AUDIT_QUEUE_SIZE, _DEFAULT_QUEUE_SIZE, minimum=1)
    )
    if size < 1:
        raise ConfigError(f"queue_size must be at least 1, not {size}")
    block = (
        block_timeout_ms
        if block_timeout_ms is not None
        else envvars.env_int(envvars.OTEL_AUDIT_BLOCK_TIMEOUT_MS, -1, minimum=-1)
    )
    batch = export_batch_size or envvars.env_int(
        envvars.OTEL_AUDIT_EXPORT_BATCH_SIZE,
        envvars.env_int("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", _DEFAULT_BATCH_SIZE, minimum=1),
        minimum=1,
    )
    delay = (
        schedule_delay_ms
        if schedule_delay_ms is not None
        else envvars.env_int(
            envvars.OTEL_AUDIT_SCHEDULE_DELAY_MS,
            envvars.env_int("OTEL_BLRP_SCHEDULE_DELAY", _DEFAULT_DELAY_MS, minimum=0),
            minimum=0,
        )
    )
    return {
        "max_queue_size": size,
        "max_export_batch_size": batch,
        "schedule_delay_millis": delay,
        "block_timeout_millis": None if block < 0 else block,
    }


def _resource(service_name: str | None, attributes: Mapping[str, Any] | None) -> Resource:
    merged: dict[str, Any] = dict(attributes or {})
    if service_name:
        merged[SERVICE_NAME] = service_name
    resource = Resource.create(merged)
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: "otel-audit"}))
    return resource


def _redactor(redact: bool | str | Path | None, *, direct_store: bool) -> Any:
    """The Redactor to run in-process, or None (see configure's *redact*)."""
    if redact is None:
        redact = envvars.env_bool(envvars.OTEL_AUDIT_REDACTION, direct_store)
    if redact is False:
        return None
    from otel_audit.redact import Redactor, load_rules

    return Redactor(load_rules(None if redact is True else redact))


def _choose_store(store: Store | str | Literal[False] | None, endpoint: str | None) -> Store | str | Literal[False]:
    """Argument > OTEL_AUDIT_STORE (``none`` = no store) > default path unless OTLP is set."""
    if store is not None:
        return store
    from_env = envvars.env_str(envvars.OTEL_AUDIT_STORE)
    if from_env and from_env.lower() == "none":
        return False
    if from_env:
        return from_env
    return False if endpoint else envvars.default_store_dsn()


def configure(
    store: Store | str | Literal[False] | None = None,
    *,
    otlp_endpoint: str | None = None,
    otlp_protocol: str | None = None,
    service_name: str | None = None,
    resource_attributes: Mapping[str, Any] | None = None,
    spans: bool | None = None,
    ttl_days: int | None = None,
    queue_size: int | None = None,
    block_timeout_ms: float | None = None,
    export_batch_size: int | None = None,
    schedule_delay_ms: float | None = None,
    redact: bool | str | Path | None = None,
    log_processors: Sequence[LogRecordProcessor] = (),
    log_exporters: Sequence[LogRecordExporter] = (),
    span_exporters: Sequence[SpanExporter] = (),
) -> AuditRuntime:
    """Build the process-wide audit pipeline and return it (replacing any previous one).

    Args:
        store: store DSN or :class:`Store`; ``False`` for none. ``None`` means
            ``OTEL_AUDIT_STORE`` or, unless an OTLP endpoint is configured, the default
            on-disk store (``chdb://~/.local/share/otel-audit/store``).
        otlp_endpoint: also send records over OTLP (``OTEL_EXPORTER_OTLP_ENDPOINT`` otherwise).
        otlp_protocol: ``http/protobuf`` (default) or ``grpc``.
        service_name: ``service.name`` (else ``OTEL_SERVICE_NAME``, else ``otel-audit``).
        resource_attributes: merged over ``OTEL_RESOURCE_ATTRIBUTES``.
        spans: also export spans (``OTEL_AUDIT_SPANS``, default true).
        ttl_days: retention when the schema is created (``OTEL_AUDIT_TTL_DAYS``, default 365).
        queue_size, block_timeout_ms, export_batch_size, schedule_delay_ms: queueing policy
            (``OTEL_AUDIT_*``); ``block_timeout_ms=-1`` waits for room forever (the default).
        redact: redact personal data in-process before export (``docs/redaction.md``): ``True``,
            ``False``, or a rule-file path. Default ``OTEL_AUDIT_REDACTION``, else on when
            writing to a store directly and off for OTLP only (a collector redacts there).
        log_processors: run on each log record before export (after redaction).
        log_exporters, span_exporters: extra exporters (each behind an audit processor).

    Raises:
        ConfigError: an argument is invalid. StoreError: the store cannot be opened.
    """
    from otel_audit.export.clickhouse import ClickHouseLogRecordExporter, ClickHouseSpanExporter

    global _runtime
    policy = _queue_policy(queue_size, block_timeout_ms, export_batch_size, schedule_delay_ms)
    with_spans = spans if spans is not None else envvars.env_bool(envvars.OTEL_AUDIT_SPANS, True)
    endpoint = otlp_endpoint or envvars.env_str("OTEL_EXPORTER_OTLP_ENDPOINT")
    resource = _resource(service_name, resource_attributes)
    store = _choose_store(store, endpoint)

    logs: list[LogRecordExporter] = list(log_exporters)
    traces: list[SpanExporter] = list(span_exporters)
    opened: Store | None = None
    if store is not False:
        log_exporter = ClickHouseLogRecordExporter(store, ttl_days=ttl_days)
        opened = log_exporter.store
        logs.append(log_exporter)
        if with_spans:
            traces.append(ClickHouseSpanExporter(opened, create_schema=False))
    if endpoint:
        otlp_logs, otlp_spans = _otlp_exporters(endpoint, otlp_protocol)
        logs.append(otlp_logs)
        if with_spans:
            traces.append(otlp_spans)
    if not logs:
        raise ConfigError("nothing to export to: give a store, an OTLP endpoint or an exporter")
    processors = list(log_processors)
    redactor = _redactor(redact, direct_store=store is not False)
    if redactor is not None:
        from otel_audit.redact import RedactingLogRecordProcessor, RedactingSpanExporter

        processors.insert(0, RedactingLogRecordProcessor(redactor))
        traces = [RedactingSpanExporter(exporter, redactor) for exporter in traces]

    tracer_provider = TracerProvider(resource=resource, shutdown_on_exit=False)
    for index, span_exporter in enumerate(traces):
        tracer_provider.add_span_processor(
            AuditSpanProcessor(span_exporter, name=f"otel-audit-spans-{index}", **policy)
        )
    logger_provider = LoggerProvider(resource=resource, shutdown_on_exit=False)
    for processor in processors:
        logger_provider.add_log_record_processor(processor)
    for index, log_exporter_ in enumerate(logs):
        logger_provider.add_log_record_processor(
            AuditLogRecordProcessor(log_exporter_, name=f"otel-audit-logs-{index}", **policy)
        )
    runtime = AuditRuntime(
        tracer_provider=tracer_provider,
        logger_provider=logger_provider,
        queue_size=policy["max_queue_size"],
        block_timeout_s=None if policy["block_timeout_millis"] is None else policy["block_timeout_millis"] / 1000,
        store=opened,
        cache_body_json=not processors,
    )
    with _runtime_lock:
        previous, _runtime = _runtime, runtime
    if previous is not None:
        previous.shutdown()
    return runtime


def audit_runtime() -> AuditRuntime:
    """:func:`get_runtime` for an audited call: after configuring from the environment failed, it
    is not tried again for a minute (each try may open a store), and this raises at once."""
    runtime = _runtime
    if runtime is not None and not runtime._closed:  # noqa: SLF001
        return runtime
    if time.monotonic() < _retry_at[0]:
        raise ConfigError("otel-audit could not be configured from the environment recently; not retried yet")
    try:
        return get_runtime()
    except Exception:
        _retry_at[0] = time.monotonic() + _RETRY_CONFIGURE_S
        raise


def get_runtime() -> AuditRuntime:
    """Return the configured runtime, configuring one from the environment on first use."""
    runtime = _runtime
    if runtime is not None and not runtime._closed:  # noqa: SLF001
        return runtime
    with _runtime_lock:
        runtime = _runtime
        if runtime is not None and not runtime._closed:  # noqa: SLF001
            return runtime
    _logger.info("otel-audit was not configured; configuring from the environment")
    return configure()


def shutdown(timeout_s: float = 30.0) -> None:
    """Flush and stop the process-wide runtime, if any; the next audited call configures afresh."""
    global _runtime
    with _runtime_lock:
        runtime, _runtime = _runtime, None
    _retry_at[0] = 0.0
    if runtime is not None:
        runtime.shutdown(timeout_s)
