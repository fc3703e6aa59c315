"""``otel-audit serve``'s intake: decode, validate, redact and spool one OTLP request, and answer it.

Both fronts (:mod:`otel_audit.service.http`, :mod:`otel_audit.service.grpc_front`) hand the
request body to :meth:`Intake.ingest`. A record the store could never take (a malformed id, a
timestamp past 2262) is rejected and counted, and the client gets an OTLP partial success
naming how many and why. Redaction runs here, at the door, so personal data never reaches the
spool or the store. What is accepted is appended to the spool, fsync'd, before the reply.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from otel_audit.export.otlp import MalformedRequestError, decode_request, validate_logs, validate_spans
from otel_audit.service.config import ServeConfig
from otel_audit.service.counters import Counters
from otel_audit.service.redaction import redact_logs_request, redact_traces_request
from otel_audit.service.spool import KIND_LOGS, KIND_SPANS, Spool
from otel_audit.stats import pipeline_stats

__all__ = ["Intake", "export_response", "load_redactor"]

_SIGNALS = {"logs": KIND_LOGS, "spans": KIND_SPANS}
_RESPONSES: dict[str, Any] = {"logs": ExportLogsServiceResponse, "spans": ExportTraceServiceResponse}


def load_redactor(config: ServeConfig) -> Any:
    """The redactor of *config*'s rule file, or ``None`` when redaction is off."""
    if not config.redact:
        return None
    from otel_audit.redact import Redactor, load_rules

    return Redactor(load_rules(config.redaction_rules))


class Intake:
    """Turns OTLP request bodies into spooled, redacted, valid records."""

    def __init__(self, spool: Spool, counters: Counters, *, max_records: int, redactor: Any = None) -> None:
        self._spool = spool
        self._counters = counters
        self._max_records = max_records
        self._redactor = redactor

    @property
    def redacting(self) -> bool:
        """True when requests are redacted before they are spooled."""
        return self._redactor is not None

    def ingest(self, signal_name: str, body: bytes, *, json_encoded: bool) -> Any:
        """Decode, validate and spool one OTLP request; return the OTLP export response.

        Raises:
            MalformedRequestError: the body is not a valid request (nothing is kept).
            SpoolFullError: the spool is full (nothing is kept; the client retries).
        """
        message, encoded = decode_request(signal_name, body, json_encoded=json_encoded)
        validate = validate_logs if signal_name == "logs" else validate_spans
        total, rejected, reason = validate(message)
        if total > self._max_records:
            raise MalformedRequestError(f"{total} records in one request; the limit is {self._max_records}")
        if rejected:
            pipeline_stats.drop(signal_name, "invalid", rejected, reason)
            self._counters.add(f"{signal_name}.rejected", rejected)
        if self._redactor is not None:
            redact = redact_logs_request if signal_name == "logs" else redact_traces_request
            self._counters.add(f"{signal_name}.redactions", redact(self._redactor, message))
        if rejected or self._redactor is not None:
            encoded = message.SerializeToString()
        accepted = total - rejected
        if accepted:
            self._spool.append(_SIGNALS[signal_name], encoded, accepted)
            self._counters.add(f"{signal_name}.accepted", accepted)
        message_text = f"{rejected} record(s) rejected: {reason}" if rejected else ""
        return export_response(signal_name, rejected, message_text)


def export_response(signal_name: str, rejected: int, message: str) -> Any:
    """The OTLP export response: full success, or partial success with the rejected count and why."""
    response = _RESPONSES[signal_name]()
    if rejected:
        if signal_name == "logs":
            response.partial_success.rejected_log_records = rejected
        else:
            response.partial_success.rejected_spans = rejected
        response.partial_success.error_message = message
    return response
