"""Redaction inside the OpenTelemetry SDK pipeline, before any exporter sees a record.

Logs: :class:`RedactingLogRecordProcessor` rewrites each ``ReadWriteLogRecord`` in place in
``on_emit``. The SDK calls processors in the order they were added and hands all of them the same
record, so adding it **first** means every later processor and exporter only sees redacted data::

    provider = LoggerProvider()
    provider.add_log_record_processor(RedactingLogRecordProcessor())   # first
    provider.add_log_record_processor(BatchLogRecordProcessor(exporter))

Spans: an ended span is a ``ReadableSpan`` whose attributes are frozen (``Span.end()`` makes
them immutable before any ``on_end`` runs), and every span processor receives that same object.
Rewriting it would mean poking private fields behind the back of the other processors. So spans
are redacted the way the SDK composes exporters: :class:`RedactingSpanExporter` wraps an
exporter and hands it redacted *copies*, built with the public ``ReadableSpan`` constructor. It
runs on the export thread (off the caller's path) and covers the wrapped exporter only, which is
explicit in the wiring::

    tracer_provider.add_span_processor(BatchSpanProcessor(RedactingSpanExporter(exporter)))

Both record what they did as attributes (``audit.redaction.<name>`` per detector or key rule,
``audit.redaction.count`` in total; ``audit.redaction.*`` attributes the application set are
dropped first and counted as ``audit.redaction.reserved``, so counts are never forged) and never
raise into the caller. If redaction itself fails they fail **closed**: the body is replaced by
``{"redaction_error": ...}``, every attribute not on the allow-list is removed,
``audit.redaction.error=1`` is set, and the failure is counted in
:data:`otel_audit.stats.pipeline_stats` (``logs.redaction.error`` / ``spans.redaction.error``)
and logged without the data. A record that needs more text inspected than the rule file's
``limits.max_record_chars`` is withheld the same way, with the body :data:`WITHHELD_BODY`,
``audit.redaction.over_budget=1`` and the counter ``logs.redaction.over_budget`` /
``spans.redaction.over_budget``.

Configuration (argument > environment > default):
    rules: a :class:`~otel_audit.redact.rules.RedactionRules`, or a path; else
        ``OTEL_AUDIT_REDACTION_RULES``; else the packaged ``redaction.yaml``.
    secret: the HMAC key for pseudonyms; else ``OTEL_AUDIT_REDACTION_SECRET``.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import Any, Final

from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk._logs import LogRecordProcessor, ReadWriteLogRecord
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.sdk.util import BoundedList
from opentelemetry.trace import Link
from opentelemetry.trace.status import Status, StatusCode

from otel_audit.redact.engine import (
    REDACTION_ATTRIBUTE_PREFIX,
    REDACTION_COUNT,
    REDACTION_ERROR,
    REDACTION_OVER_BUDGET,
    RedactionBudgetError,
    Redactor,
    count_attributes,
)
from otel_audit.redact.rules import RedactionRules, load_rules
from otel_audit.stats import PipelineStats, pipeline_stats

__all__ = [
    "ERROR_BODY_KEY",
    "WITHHELD_BODY",
    "RedactingLogRecordProcessor",
    "RedactingSpanExporter",
    "redact_span",
]

_logger = logging.getLogger(__name__)

ERROR_BODY_KEY: Final = "redaction_error"
"""Key of the marker body that replaces a record whose redaction failed."""

WITHHELD_BODY: Final = {"$redaction": "withheld: record over the redaction budget"}
"""Body of a record withheld because it went over the redaction budget (a fresh copy each time)."""

_ERROR_SPAN_NAME: Final = "[REDACTION_ERROR]"
_WITHHELD_SPAN_NAME: Final = "[REDACTION_WITHHELD]"
_LOG_INTERVAL_S: Final = 10.0


def _build_redactor(
    redactor: Redactor | None, rules: RedactionRules | str | Path | None, secret: str | bytes | None
) -> Redactor:
    if redactor is not None:
        if rules is not None or secret is not None:
            raise ValueError("give either a Redactor or rules/secret, not both")
        return redactor
    loaded = rules if isinstance(rules, RedactionRules) else load_rules(rules)
    return Redactor(loaded, secret=secret)


class _FailureLog:
    """Logs redaction failures at most every few seconds, naming where but never the data."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = -_LOG_INTERVAL_S
        self._suppressed = 0

    def report(self, signal: str, exc: BaseException) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last < _LOG_INTERVAL_S:
                self._suppressed += 1
                return
            self._last, suppressed, self._suppressed = now, self._suppressed, 0
        # The exception message may quote the value being redacted: log the type and place only.
        frames = traceback.extract_tb(exc.__traceback__)
        where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
        _logger.error(
            "otel-audit redaction of a %s record failed (%s at %s); its data was withheld%s",
            signal,
            type(exc).__name__,
            where,
            f" ({suppressed} similar failures not logged)" if suppressed else "",
        )


class RedactingLogRecordProcessor(LogRecordProcessor):
    """Redacts each log record's body and attributes in place; add it before any exporting processor.

    Args:
        redactor: a ready :class:`Redactor`; or give *rules* / *secret* and one is built.
        rules: rules or a rule-file path (default: ``OTEL_AUDIT_REDACTION_RULES`` or the packaged file).
        secret: HMAC key for pseudonyms (default: ``OTEL_AUDIT_REDACTION_SECRET``).
        stats: where failures are counted.

    Raises:
        RedactionRuleError: the rule file is invalid. ConfigError: a pseudonym secret is missing.
        ValueError: both *redactor* and *rules*/*secret* were given.
    """

    def __init__(
        self,
        redactor: Redactor | None = None,
        *,
        rules: RedactionRules | str | Path | None = None,
        secret: str | bytes | None = None,
        stats: PipelineStats = pipeline_stats,
    ) -> None:
        self._redactor = _build_redactor(redactor, rules, secret)
        self._is_allowed = self._redactor.rules.is_allowed
        self._stats = stats
        self._failures = _FailureLog()

    @property
    def redactor(self) -> Redactor:
        """The redactor applied to every record."""
        return self._redactor

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        """Redact *log_record* in place; never raises (fails closed instead)."""
        record = log_record.log_record
        try:
            counts: dict[str, int] = {}
            budget = self._redactor.budget()
            body = record.body
            new_body = self._redactor.apply(body, counts, budget) if body is not None else None
            attributes = record.attributes
            new_attributes = self._redactor.apply_attributes(attributes, counts, budget) if attributes else None
            # Everything is computed before anything is written: a failure above leaves no half-redacted record.
            if new_body is not body:
                record.body = new_body
            _write_attributes(record, attributes, new_attributes, count_attributes(counts))
        except RedactionBudgetError:
            self._stats.add("logs", "redaction.over_budget")
            self._fail_closed(record, dict(WITHHELD_BODY), REDACTION_OVER_BUDGET)
        except Exception as exc:  # noqa: BLE001 - telemetry must never break the caller
            self._stats.add("logs", "redaction.error")
            self._failures.report("log", exc)
            marker = {ERROR_BODY_KEY: f"redaction failed ({type(exc).__name__}); the data was withheld"}
            self._fail_closed(record, marker, REDACTION_ERROR)

    def _fail_closed(self, record: Any, marker: dict[str, str], flag: str) -> None:
        try:
            record.body = marker
            attributes = record.attributes
            kept = {
                k: v
                for k, v in (attributes or {}).items()
                if self._is_allowed(k) and not k.startswith(REDACTION_ATTRIBUTE_PREFIX)
            }
            kept[flag] = 1
            kept[REDACTION_COUNT] = 1
            try:
                _write_attributes(record, attributes, kept, {})
            except Exception:  # noqa: BLE001 - an odd attribute container: replace it
                record.attributes = kept
        except Exception:  # noqa: BLE001 - last resort: keep nothing
            record.body = marker
            record.attributes = {flag: 1, REDACTION_COUNT: 1}

    def shutdown(self) -> None:
        """Nothing to release (idempotent)."""

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Nothing is buffered; always ``True``."""
        return True


def _write_attributes(record: Any, old: Any, new: Mapping[str, Any] | None, extra: Mapping[str, Any]) -> None:
    """Make *record*'s attributes equal *new* plus *extra*, in place when the container allows."""
    if new is None:
        new = {}
    if isinstance(old, MutableMapping):
        if new is not old:
            for key in [key for key in old if key not in new]:
                del old[key]
            for key, value in new.items():
                if key not in old or old[key] is not value:
                    old[key] = value
        # A full BoundedAttributes evicts its OLDEST entry on insert (an audit fact): add counts only if they fit.
        room = _room(old)
        for key, value in extra.items():
            if key in old or room > 0:
                if key not in old:
                    room -= 1
                old[key] = value
        return
    record.attributes = {**new, **extra}


def _room(attributes: MutableMapping[str, Any]) -> float:
    maxlen = getattr(attributes, "maxlen", None)
    return float("inf") if maxlen is None else maxlen - len(attributes)


# -- spans --------------------------------------------------------------------------------------


def redact_span(redactor: Redactor, span: ReadableSpan) -> ReadableSpan:
    """Return a redacted copy of *span*: name, attributes, event and link attributes, status text.

    The copy carries ``audit.redaction.*`` count attributes (the span's own ``audit.redaction.*``
    attributes are dropped). Resource and scope are shared. One budget covers the whole span.

    Raises:
        RedactionBudgetError: the span holds more text than the budget.
        Exception: whatever redaction raised; :class:`RedactingSpanExporter` fails closed on it.
    """
    counts: dict[str, int] = {}
    budget = redactor.budget()
    name = redactor.apply(span.name, counts, budget)
    attributes = dict(redactor.apply_attributes(span.attributes or {}, counts, budget))
    events = [
        Event(event.name, _frozen(redactor.apply_attributes(event.attributes or {}, counts, budget)), event.timestamp)
        for event in span.events
    ]
    links = [
        Link(link.context, _frozen(redactor.apply_attributes(link.attributes or {}, counts, budget)))
        for link in span.links
    ]
    status = span.status
    if status.description:
        description = redactor.apply(status.description, counts, budget)
        if description is not status.description:
            status = Status(status.status_code, description)
    attributes.update(count_attributes(counts))
    return _copy_span(span, name=name, attributes=attributes, events=events, links=links, status=status)


def _fail_closed_span(redactor: Redactor, span: ReadableSpan, *, over_budget: bool = False) -> ReadableSpan:
    is_allowed = redactor.rules.is_allowed
    attributes = {
        k: v
        for k, v in (span.attributes or {}).items()
        if is_allowed(k) and not k.startswith(REDACTION_ATTRIBUTE_PREFIX)
    }
    attributes[REDACTION_OVER_BUDGET if over_budget else REDACTION_ERROR] = 1
    attributes[REDACTION_COUNT] = 1
    events = [Event(event.name, None, event.timestamp) for event in span.events]
    links = [Link(link.context) for link in span.links]
    code = span.status.status_code
    reason = "withheld: over the redaction budget" if over_budget else "redaction failed"
    status = Status(code, reason) if code is StatusCode.ERROR else Status(code)
    name = _WITHHELD_SPAN_NAME if over_budget else _ERROR_SPAN_NAME
    return _copy_span(span, name=name, attributes=attributes, events=events, links=links, status=status)


def _frozen(attributes: Mapping[str, Any]) -> BoundedAttributes:
    return BoundedAttributes(maxlen=None, attributes=attributes, immutable=True)


def _copy_span(
    span: ReadableSpan,
    *,
    name: str,
    attributes: Mapping[str, Any],
    events: Sequence[Event],
    links: Sequence[Link],
    status: Status,
) -> ReadableSpan:
    frozen = _frozen(attributes)
    frozen.dropped = span.dropped_attributes
    bounded_events: BoundedList[Event] = BoundedList(None)
    bounded_events.extend(events)
    bounded_events.dropped = span.dropped_events
    bounded_links: BoundedList[Link] = BoundedList(None)
    bounded_links.extend(links)
    bounded_links.dropped = span.dropped_links
    return ReadableSpan(
        name=name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=frozen,
        events=bounded_events,
        links=bounded_links,
        kind=span.kind,
        status=status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


class RedactingSpanExporter(SpanExporter):
    """Hands *exporter* redacted copies of the spans it is given (see the module docstring).

    Args:
        exporter: the exporter to protect; it only ever sees redacted copies.
        redactor, rules, secret, stats: as :class:`RedactingLogRecordProcessor`.
    """

    def __init__(
        self,
        exporter: SpanExporter,
        redactor: Redactor | None = None,
        *,
        rules: RedactionRules | str | Path | None = None,
        secret: str | bytes | None = None,
        stats: PipelineStats = pipeline_stats,
    ) -> None:
        self._exporter = exporter
        self._redactor = _build_redactor(redactor, rules, secret)
        self._stats = stats
        self._failures = _FailureLog()

    @property
    def redactor(self) -> Redactor:
        """The redactor applied to every span."""
        return self._redactor

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Redact *spans* and export the copies with the wrapped exporter."""
        redacted: list[ReadableSpan] = []
        for span in spans:
            copy = self._redact(span)
            if copy is not None:
                redacted.append(copy)
        if not redacted:
            return SpanExportResult.SUCCESS
        return self._exporter.export(redacted)

    def _redact(self, span: ReadableSpan) -> ReadableSpan | None:
        over_budget = False
        try:
            return redact_span(self._redactor, span)
        except RedactionBudgetError:
            self._stats.add("spans", "redaction.over_budget")
            over_budget = True
        except Exception as exc:  # noqa: BLE001 - never export unredacted data, never raise
            self._stats.add("spans", "redaction.error")
            self._failures.report("span", exc)
        try:
            return _fail_closed_span(self._redactor, span, over_budget=over_budget)
        except Exception:  # noqa: BLE001 - not even a marker copy: drop it, counted
            self._stats.drop("spans", "redaction_error", 1)
            return None

    def shutdown(self) -> None:
        """Shut the wrapped exporter down."""
        self._exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Flush the wrapped exporter."""
        return bool(self._exporter.force_flush(timeout_millis))
