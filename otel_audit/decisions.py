"""Decisions on the record: reviews, ground truth and feedback about audited predictions.

Usage::

    import otel_audit

    otel_audit.record_review(record_id=rid, reviewer="rev-7f3a", decision="override",
                             reason="merchant whitelisted", final_output="legit")
    otel_audit.record_ground_truth(request_id="r-123", value="fraud", source="chargeback")
    otel_audit.record_feedback(request_id="r-123", text="the customer disputes this")

Each call emits one log record (``audit.review``, ``audit.ground_truth``, ``audit.feedback``;
``docs/conventions.md``) through the configured runtime's logger provider, so it goes through the
same redaction processors and exporters as a prediction's record, is stored in ``audit_events``,
sealed in the same Merkle tree, and erased with the prediction it names. A decision names its
prediction by *record_id* (the prediction's ``RecordId``), by *request_id*, or both; one naming no
stored prediction is kept and flagged by ``otel-audit report oversight``.

The call does no I/O: the record is queued for export like a prediction's, and every record the
pipeline loses is counted (``otel_audit.stats()``). Bad arguments raise :class:`ValueError`
before anything is queued; a failure inside the pipeline never reaches the caller (it is
counted as ``decisions.dropped.error``).

.. versionadded:: 0.18
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from opentelemetry._logs import LogRecord, SeverityNumber

from otel_audit import semconv
from otel_audit.emit.hashing import canonical_json
from otel_audit.stats import pipeline_stats

if TYPE_CHECKING:
    from otel_audit.emit.runtime import AuditRuntime

__all__ = ["record_feedback", "record_ground_truth", "record_review"]

_logger = logging.getLogger(__name__)
_SIGNAL = "decisions"
_EVALUATION_NAMES = {
    semconv.EVENT_REVIEW: "review",
    semconv.EVENT_GROUND_TRUTH: "ground_truth",
    semconv.EVENT_FEEDBACK: "feedback",
}


def record_review(
    *,
    reviewer: str,
    decision: str,
    record_id: str | None = None,
    request_id: str | None = None,
    reason: str = "",
    final_output: Any = None,
    model: str | None = None,
    at: dt.datetime | None = None,
    attributes: Mapping[str, Any] | None = None,
    runtime: AuditRuntime | None = None,
) -> str:
    """Record a human review of one prediction.

    Args:
        reviewer: the reviewer's pseudonymous id (never a name or an e-mail address).
        decision: ``accept``, ``override`` or ``escalate``.
        record_id: the prediction's ``RecordId``; *record_id* and/or *request_id* is required.
        request_id: the prediction's request id.
        reason: why (content: redacted, sealed by hash, erasable).
        final_output: the output that stands after an ``override`` (any JSON value; stored as
            its canonical JSON text; a string is stored as it is).
        model: the prediction's model name, when known.
        at: when the review was made (default: now).
        attributes: extra attributes (kept in ``audit_events.Attributes``).
        runtime: the :class:`~otel_audit.AuditRuntime` to record through (default: the configured one).

    Returns:
        The review's own record id (``log.record.uid``).

    Raises:
        ValueError: no target, an empty reviewer, or an unknown decision.
    """
    if decision not in semconv.REVIEW_DECISIONS:
        raise ValueError(f"decision must be one of {semconv.REVIEW_DECISIONS}, not {decision!r}")
    fields: dict[str, Any] = {
        semconv.AUDIT_REVIEW_REVIEWER: _required("reviewer", reviewer),
        semconv.AUDIT_REVIEW_DECISION: decision,
    }
    if reason:
        fields[semconv.AUDIT_REVIEW_REASON] = str(reason)
    if final_output is not None:
        fields[semconv.AUDIT_REVIEW_FINAL_OUTPUT] = _text(final_output)
    return _record(
        semconv.EVENT_REVIEW,
        fields,
        record_id=record_id,
        request_id=request_id,
        model=model,
        at=at,
        extra=attributes,
        runtime=runtime,
    )


def record_ground_truth(
    *,
    value: Any,
    source: str,
    record_id: str | None = None,
    request_id: str | None = None,
    model: str | None = None,
    at: dt.datetime | None = None,
    attributes: Mapping[str, Any] | None = None,
    runtime: AuditRuntime | None = None,
) -> str:
    """Record the observed outcome of one prediction.

    Args:
        value: the outcome, comparable with the prediction's output label (a string is stored
            as it is, another value as its canonical JSON text; content, erasable).
        source: where it comes from (``chargeback``, ``manual-audit``, ``customer``…).
        record_id, request_id, model, at, attributes, runtime: as for :func:`record_review`.

    Returns:
        The event's own record id.

    Raises:
        ValueError: no target, no value or no source.
    """
    if value is None:
        raise ValueError("value is required")
    fields = {
        semconv.AUDIT_GROUND_TRUTH_VALUE: _text(value),
        semconv.AUDIT_GROUND_TRUTH_SOURCE: _required("source", source),
    }
    return _record(
        semconv.EVENT_GROUND_TRUTH,
        fields,
        record_id=record_id,
        request_id=request_id,
        model=model,
        at=at,
        extra=attributes,
        runtime=runtime,
    )


def record_feedback(
    *,
    text: str,
    record_id: str | None = None,
    request_id: str | None = None,
    model: str | None = None,
    at: dt.datetime | None = None,
    attributes: Mapping[str, Any] | None = None,
    runtime: AuditRuntime | None = None,
) -> str:
    """Record free-text feedback on one prediction (redacted like any content, erasable).

    Args:
        text: the feedback.
        record_id, request_id, model, at, attributes, runtime: as for :func:`record_review`.

    Returns:
        The event's own record id.

    Raises:
        ValueError: no target or empty text.
    """
    fields = {semconv.AUDIT_FEEDBACK_TEXT: _required("text", text)}
    return _record(
        semconv.EVENT_FEEDBACK,
        fields,
        record_id=record_id,
        request_id=request_id,
        model=model,
        at=at,
        extra=attributes,
        runtime=runtime,
    )


def _required(name: str, value: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string, not {value!r}")
    return value


def _text(value: Any) -> str:
    return value if isinstance(value, str) else canonical_json(value)[1]


def _time_ns(at: dt.datetime | None) -> int:
    if at is None:
        return time.time_ns()
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    delta = at - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def _record(
    event: str,
    fields: dict[str, Any],
    *,
    record_id: str | None,
    request_id: str | None,
    model: str | None,
    at: dt.datetime | None,
    extra: Mapping[str, Any] | None,
    runtime: Any,
) -> str:
    if not record_id and not request_id:
        raise ValueError("a decision names its prediction: give record_id, request_id or both")
    timestamp = _time_ns(at)
    attributes: dict[str, Any] = dict(extra or {})
    attributes.update(fields)
    if record_id:
        attributes[semconv.AUDIT_TARGET_RECORD_ID] = str(record_id)
    if request_id:
        attributes[semconv.AUDIT_REQUEST_ID] = str(request_id)
    if model:
        attributes[semconv.GEN_AI_REQUEST_MODEL] = str(model)
    attributes[semconv.GEN_AI_EVALUATION_NAME] = _EVALUATION_NAMES[event]
    attributes[semconv.AUDIT_SCHEMA_VERSION] = semconv.SCHEMA_VERSION
    uid = uuid.uuid4().hex
    attributes[semconv.LOG_RECORD_UID] = uid
    try:
        if runtime is None:
            from otel_audit.emit.runtime import audit_runtime

            runtime = audit_runtime()
        record = LogRecord(
            timestamp=timestamp,
            observed_timestamp=time.time_ns(),
            severity_number=SeverityNumber.INFO,
            severity_text="INFO",
            attributes=attributes,
            event_name=event,
        )
        runtime.logger.emit(record)
        pipeline_stats.add(_SIGNAL, "recorded")
    except Exception as error:
        pipeline_stats.drop(_SIGNAL, "error", 1, f"{event}: {type(error).__name__}: {error}")
        _logger.debug("recording %s failed", event, exc_info=True)
    return uid
