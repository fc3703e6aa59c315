"""A structlog processor that audits the predictions an application already logs.

The migration path from the tutorial otel-audit grew from (``docs/structlog.md``): a service that
logs every prediction with structlog, ::

    logger.info("ai_prediction", request_id=..., model={"name": ..., "version": ...},
                input=..., output=..., user_id=..., latency_ms=...)

adds one line to its structlog configuration and every such event becomes an audited prediction
(span ``predict <model>`` and ``ai.prediction`` record, redacted, exported, sealed like any
other)::

    import structlog
    from otel_audit.emit.structlog import PredictionAuditor

    structlog.configure(processors=[
        PredictionAuditor(),                     # the one new line: before anything that renames keys
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso"),
        structlog.dev.ConsoleRenderer(),
    ])

What an event gives (every other event passes untouched):

=====================================  ==============================================================
event key                              recorded as
=====================================  ==============================================================
``event == "ai_prediction"``           the trigger (another name: ``PredictionAuditor(event=...)``)
``model`` ``{"name", "version"}``      model and version; also ``model.name``/``model.version`` or
                                       ``model_name``/``model_version`` keys; other members of
                                       ``model`` become attributes ``model.<key>``
``request_id``, ``user_id``            request id and user id, as text
``input``, ``output``                  input (hashed, ``docs/input-hash.md``) and output, exactly
``latency_ms``                         the latency, exactly as given (``0`` when absent)
``timestamp``                          when the prediction ended: an ISO 8601 time with a UTC offset
                                       (the tutorial's ``datetime.now(timezone.utc).isoformat()``),
                                       an aware ``datetime`` or Unix seconds; anything else is kept
                                       as an attribute and the time the processor ran is used
any other key                          an attribute of the record: strings, numbers and booleans as
                                       they are, mappings and lists as canonical JSON text
=====================================  ==============================================================

structlog's own bookkeeping (``level``, ``logger``, ``exc_info``, ``stack_info``…) is not
recorded. An event without a model name or version is not audited: it is counted as
``predictions.dropped.invalid_event`` and logged (once a minute, naming the missing key, never
the event's values).

The processor returns the event dict it was given, unchanged, to the next processor: the
application's log output does not change. It never raises into the application: whatever fails
is counted and logged, as on every other audited path (:mod:`otel_audit.emit.call`). Input and
output are encoded when the event is logged (``snapshot=True``), so the application may change
them afterwards; ``PredictionAuditor(snapshot=False)`` defers that to the export thread.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, MutableMapping
from typing import Any

from otel_audit.emit import call
from otel_audit.emit.api import record_prediction
from otel_audit.emit.hashing import canonical_json
from otel_audit.stats import pipeline_stats

__all__ = ["DEFAULT_EVENT", "PredictionAuditor"]

DEFAULT_EVENT = "ai_prediction"
"""The event name the tutorial logs its predictions under."""

_FACTS = frozenset(
    {
        "event",
        "request_id",
        "user_id",
        "input",
        "output",
        "latency_ms",
        "timestamp",
        "model",
        "model.name",
        "model.version",
        "model_name",
        "model_version",
    }
)
_STRUCTLOG_KEYS = frozenset(
    {
        "level",
        "logger",
        "logger_name",
        "exc_info",
        "exception",
        "stack",
        "stack_info",
        "positional_args",
        "_record",
        "_from_structlog",
    }
)
_PLAIN = (str, bool, int, float)


class InvalidPredictionEventError(ValueError):
    """An ``ai_prediction`` event lacks a fact every record needs (its model name or version)."""


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _ended_at(value: Any) -> dt.datetime | None:
    """The end time an event's ``timestamp`` names, or ``None`` when it names none unambiguously."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is not None else None
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo is not None else None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0:
        return dt.datetime.fromtimestamp(value, dt.timezone.utc)
    return None


def _latency(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        latency = float(value)
    except (TypeError, ValueError):
        return None
    return latency if math.isfinite(latency) and latency >= 0 else None


def _attribute(value: Any) -> Any:
    """An extra key's value as an attribute: plain values as they are, structures as canonical JSON."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, (Mapping, list, tuple)):
        return canonical_json(value)[1]
    return value  # the runtime records anything else as its text


def prediction_facts(event_dict: Mapping[str, Any]) -> dict[str, Any]:
    """The :func:`~otel_audit.record_prediction` arguments an ``ai_prediction`` event gives.

    Raises:
        InvalidPredictionEventError: the event names no model name or version.
    """
    model = event_dict.get("model")
    attributes: dict[str, Any] = {}
    if isinstance(model, Mapping):
        name, version = model.get("name"), model.get("version")
        attributes.update({f"model.{key}": _attribute(v) for key, v in model.items() if key not in ("name", "version")})
    else:
        name = event_dict.get("model.name", event_dict.get("model_name", model))
        version = event_dict.get("model.version", event_dict.get("model_version"))
    if name is None or name == "":
        raise InvalidPredictionEventError("model name (model.name)")
    if version is None or version == "":
        raise InvalidPredictionEventError("model version (model.version)")
    latency = _latency(event_dict.get("latency_ms"))
    if latency is None and event_dict.get("latency_ms") is not None:
        attributes["latency_ms"] = _attribute(event_dict["latency_ms"])  # kept, not guessed
    ended_at = _ended_at(event_dict.get("timestamp"))
    if ended_at is None and event_dict.get("timestamp") is not None:
        attributes["timestamp"] = _attribute(event_dict["timestamp"])
    for key, value in event_dict.items():
        if key not in _FACTS and key not in _STRUCTLOG_KEYS and value is not None:
            attributes[str(key)] = _attribute(value)
    return {
        "model": str(name),
        "version": str(version),
        "input": event_dict.get("input"),
        "output": event_dict.get("output"),
        "user_id": _text(event_dict.get("user_id")),
        "request_id": _text(event_dict.get("request_id")),
        "latency_ms": latency,
        "ended_at": ended_at,
        "attributes": attributes or None,
    }


class PredictionAuditor:
    """A structlog processor: audit each ``ai_prediction`` event, then pass it on unchanged.

    Args:
        event: the event name that marks a prediction (default ``"ai_prediction"``).
        snapshot: encode input and output when the event is logged (default), rather than
            later on the export thread.

    Raises:
        ValueError: *event* is empty.
    """

    __slots__ = ("_event", "_snapshot")

    def __init__(self, event: str = DEFAULT_EVENT, *, snapshot: bool = True) -> None:
        if not isinstance(event, str) or not event:
            raise ValueError(f"event must be a non-empty string, not {event!r}")
        self._event = event
        self._snapshot = snapshot

    def __repr__(self) -> str:
        return f"PredictionAuditor(event={self._event!r}, snapshot={self._snapshot!r})"

    def __getstate__(self) -> dict[str, Any]:
        return {"event": self._event, "snapshot": self._snapshot}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._event = state["event"]
        self._snapshot = state["snapshot"]

    def __call__(self, logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> Any:
        """Audit *event_dict* if it is a prediction; return it unchanged. Never raises."""
        if event_dict.get("event") != self._event:
            return event_dict
        try:
            record_prediction(**prediction_facts(event_dict), snapshot=self._snapshot)
        except InvalidPredictionEventError as missing:
            pipeline_stats.drop("predictions", "invalid_event", 1)
            call.warn_once(
                "structlog.invalid",
                f"otel-audit: an {self._event!r} event without a {missing} was not audited",
            )
        except Exception:  # noqa: BLE001 - auditing must never break the application's logging
            pipeline_stats.drop("predictions", "setup_error", 1)
            call.warn_once("structlog.error", f"otel-audit could not audit an {self._event!r} event")
        return event_dict
