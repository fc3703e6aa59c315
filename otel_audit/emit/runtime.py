"""Wiring: :func:`configure` builds the process's audit pipeline, an :class:`AuditRuntime`.

The runtime owns its own ``TracerProvider`` and ``LoggerProvider`` (standard ``OTEL_*`` variables
honoured), audit processors that never drop silently, a ClickHouse exporter for the store and/or
OTLP exporters, and the :class:`~otel_audit.emit.finisher.PredictionFinisher` whose thread turns
queued predictions into spans and ``ai.prediction`` log records. :meth:`AuditRuntime.flush` and
:meth:`AuditRuntime.shutdown` give all of these one :class:`~otel_audit.deadline.Deadline`.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from opentelemetry import trace
from opentelemetry.sdk._logs import LoggerProvider, LogRecordProcessor
from opentelemetry.sdk._logs.export import LogRecordExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter

from otel_audit import envvars, semconv
from otel_audit.deadline import Deadline
from otel_audit.emit.finisher import PredictionFinisher, encode_prediction
from otel_audit.emit.hashing import Encoded
from otel_audit.emit.prediction import Prediction
from otel_audit.errors import ConfigError
from otel_audit.export.batching import QueuePolicy
from otel_audit.export.processors import AuditLogRecordProcessor, AuditSpanProcessor
from otel_audit.stats import pipeline_stats
from otel_audit.store.connect import Store
from otel_audit.version import __version__

__all__ = ["AuditRuntime", "audit_runtime", "configure", "get_runtime", "shutdown"]

_logger = logging.getLogger(__name__)

_RETRY_CONFIGURE_S = 60.0

_runtime: AuditRuntime | None = None
_runtime_lock = threading.Lock()
_retry_at = [0.0]  # audited calls do not configure from the environment again before this


class AuditRuntime:
    """Everything one configuration of otel-audit owns. Build it with :func:`configure`.

    Args:
        tracer_provider, logger_provider: the providers predictions are recorded through.
        policy: the queueing policy (also that of the finisher's queue).
        store: the store written directly, if any.
        cache_body_json: see :class:`~otel_audit.emit.finisher.PredictionFinisher`.
        processors: the audit processors inside the providers, shut down first with what is
            left of the deadline (the providers' own shutdown takes none).
    """

    def __init__(
        self,
        *,
        tracer_provider: TracerProvider,
        logger_provider: LoggerProvider,
        policy: QueuePolicy,
        store: Store | None,
        cache_body_json: bool = True,
        processors: Sequence[AuditSpanProcessor | AuditLogRecordProcessor] = (),
    ) -> None:
        self.tracer_provider = tracer_provider
        self.logger_provider = logger_provider
        self.tracer: trace.Tracer = tracer_provider.get_tracer(semconv.SCOPE_NAME, __version__)
        self.logger = logger_provider.get_logger(semconv.SCOPE_NAME, __version__)
        self.store = store
        self.policy = policy
        self._processors = tuple(processors)
        self._finisher = PredictionFinisher(self.logger, policy, cache_body_json=cache_body_json)
        self._closed = False
        atexit.register(self.shutdown)

    # -- caller thread --------------------------------------------------------------------
    def prediction(
        self,
        *,
        model: str,
        version: str,
        input: Any = None,  # noqa: A002 - the audit vocabulary
        user_id: str | None = None,
        request_id: str | None = None,
        pipeline_version: str | None = None,
        operation: str = "predict",
        batch_size: int = 1,
        attributes: Mapping[str, Any] | None = None,
        snapshot: bool = False,
    ) -> Prediction:
        """Return a :class:`Prediction` recorded by this runtime (arguments as ``audit_prediction``)."""
        return Prediction(
            self,
            model=model,
            version=version,
            input=input,
            user_id=user_id,
            request_id=request_id,
            pipeline_version=pipeline_version,
            operation=operation,
            batch_size=batch_size,
            attributes=attributes,
            snapshot=snapshot,
        )

    def submit(self, prediction: Prediction) -> None:
        """Queue a stopped prediction for the finisher; waits if the queue is full."""
        self._finisher.submit(prediction)

    def encode(self, prediction: Prediction) -> tuple[Encoded, Encoded]:
        """The encoded input and output of *prediction*; never raises."""
        return encode_prediction(prediction)

    # -- lifecycle ------------------------------------------------------------------------
    def flush(self, timeout_s: float = 60.0) -> bool:
        """Export everything audited so far; ``False`` if *timeout_s* ran out first.

        One deadline covers every stage: the finisher, then the span and log processors (each
        provider spreads what is left over its processors, and each processor over its exporter).
        """
        deadline = Deadline(timeout_s)
        return (
            self._finisher.flush(deadline)
            and self.tracer_provider.force_flush(deadline.remaining_millis())
            and self.logger_provider.force_flush(deadline.remaining_millis())
        )

    def shutdown(self, timeout_s: float = 30.0) -> None:
        """Flush and stop within *timeout_s* in all; records still queued then are counted as dropped."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.shutdown)
        deadline = Deadline(timeout_s)
        self._finisher.shutdown(deadline)
        for processor in self._processors:
            processor.shutdown(deadline.remaining_millis())
        self.tracer_provider.shutdown()
        self.logger_provider.shutdown()
        dropped = pipeline_stats.dropped()
        if dropped:
            _logger.error("otel-audit dropped %d record(s) in this process; see otel_audit.stats()", dropped)


def _otlp_exporters(endpoint: str, protocol: str | None) -> tuple[LogRecordExporter, SpanExporter]:
    protocol = envvars.OTEL_EXPORTER_OTLP_PROTOCOL.resolve(protocol)
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
        redact = envvars.OTEL_AUDIT_REDACTION.resolve(default=direct_store)
    if redact is False:
        return None
    from otel_audit.redact import Redactor, load_rules

    return Redactor(load_rules(None if redact is True else redact))


def _choose_store(store: Store | str | Literal[False] | None, endpoint: str | None) -> Store | str | Literal[False]:
    """Argument > ``OTEL_AUDIT_STORE`` (``none`` = no store) > the default path, unless OTLP is set."""
    if store is not None:
        return store
    configured = envvars.OTEL_AUDIT_STORE.from_env()
    if configured is not None:
        return False if configured.lower() == envvars.NO_STORE else configured
    return False if endpoint else envvars.OTEL_AUDIT_STORE.default


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
            (``OTEL_AUDIT_*``, :class:`~otel_audit.export.batching.QueuePolicy`);
            ``block_timeout_ms=-1`` waits for room forever (the default); ``export_batch_size=0``
            is an error.
        redact: redact personal data in-process before export (``docs/redaction.md``): ``True``,
            ``False``, or a rule-file path. Default ``OTEL_AUDIT_REDACTION``, else on when
            writing to a store directly and off for OTLP only (a collector redacts there).
        log_processors: run on each log record before export (after redaction).
        log_exporters, span_exporters: extra exporters (each behind an audit processor).

    Raises:
        ConfigError: an argument is invalid. StoreError: the store cannot be opened.
    """
    from otel_audit.export.clickhouse import ClickHouseLogRecordExporter, ClickHouseSpanExporter, inserting

    global _runtime
    policy = QueuePolicy.resolve(
        queue_size=queue_size,
        block_timeout_ms=block_timeout_ms,
        export_batch_size=export_batch_size,
        schedule_delay_ms=schedule_delay_ms,
    )
    with_spans = envvars.OTEL_AUDIT_SPANS.resolve(spans)
    endpoint = envvars.OTEL_EXPORTER_OTLP_ENDPOINT.resolve(otlp_endpoint or None)
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
            # Behind the audit processor the store's raising insert path is used (retry, bisect);
            # wrapped here so that the redacting exporter below hands it redacted copies.
            traces.append(inserting(ClickHouseSpanExporter(opened, create_schema=False)))
    if endpoint:
        otlp_logs, otlp_spans = _otlp_exporters(endpoint, otlp_protocol)
        logs.append(otlp_logs)
        if with_spans:
            traces.append(otlp_spans)
    if not logs:
        raise ConfigError("nothing to export to: give a store, an OTLP endpoint or an exporter")
    log_processors_ = list(log_processors)
    redactor = _redactor(redact, direct_store=store is not False)
    if redactor is not None:
        from otel_audit.redact import RedactingLogRecordProcessor, RedactingSpanExporter

        log_processors_.insert(0, RedactingLogRecordProcessor(redactor))
        traces = [RedactingSpanExporter(exporter, redactor) for exporter in traces]

    audit_processors: list[AuditSpanProcessor | AuditLogRecordProcessor] = []
    tracer_provider = TracerProvider(resource=resource, shutdown_on_exit=False)
    for index, span_exporter in enumerate(traces):
        span_processor = AuditSpanProcessor(span_exporter, name=f"otel-audit-spans-{index}", policy=policy)
        tracer_provider.add_span_processor(span_processor)
        audit_processors.append(span_processor)
    logger_provider = LoggerProvider(resource=resource, shutdown_on_exit=False)
    for processor in log_processors_:
        logger_provider.add_log_record_processor(processor)
    for index, log_exporter_ in enumerate(logs):
        log_processor = AuditLogRecordProcessor(log_exporter_, name=f"otel-audit-logs-{index}", policy=policy)
        logger_provider.add_log_record_processor(log_processor)
        audit_processors.append(log_processor)
    runtime = AuditRuntime(
        tracer_provider=tracer_provider,
        logger_provider=logger_provider,
        policy=policy,
        store=opened,
        cache_body_json=not log_processors_,
        processors=audit_processors,
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
