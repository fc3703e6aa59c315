"""Every attribute and event name that otel-audit emits: the one place for them.

An audited prediction is one span named ``predict <model>`` and one log record whose
``event_name`` is :data:`EVENT_PREDICTION`, both carrying the attributes below. A service in
any language emits the same records by setting these names (see ``docs/conventions.md``).

OpenTelemetry names are reused where they fit (``gen_ai.request.model``, ``user.id``,
``error.type``); the rest lives in a small ``ml.*`` / ``audit.*`` namespace because the GenAI
conventions have no model version, input hash or outcome attribute.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "AUDIT_BATCH_SIZE",
    "AUDIT_INPUT_HASH",
    "AUDIT_LATENCY_MS",
    "AUDIT_OUTCOME",
    "AUDIT_OUTPUT_LABEL",
    "AUDIT_REDACTION_COUNT",
    "AUDIT_REDACTION_ERROR",
    "AUDIT_REDACTION_PREFIX",
    "AUDIT_REQUEST_ID",
    "AUDIT_SCHEMA_VERSION",
    "BODY_ERROR",
    "BODY_INPUT",
    "BODY_OUTPUT",
    "ERROR_MESSAGE",
    "ERROR_TYPE",
    "EVENT_PREDICTION",
    "GEN_AI_OPERATION_NAME",
    "GEN_AI_REQUEST_MODEL",
    "ML_MODEL_VERSION",
    "ML_PIPELINE_VERSION",
    "OUTCOME_ERROR",
    "OUTCOME_OK",
    "PROMOTED_ATTRIBUTES",
    "SCHEMA_VERSION",
    "SCOPE_NAME",
    "USER_ID",
]

EVENT_PREDICTION: Final = "ai.prediction"
"""``event_name`` of the log record that carries one prediction's input and output."""

SCOPE_NAME: Final = "otel_audit"
"""Instrumentation scope of every span and log record otel-audit creates."""

SCHEMA_VERSION: Final = "1"
"""Value of :data:`AUDIT_SCHEMA_VERSION`; bumped when an attribute changes meaning."""

GEN_AI_REQUEST_MODEL: Final = "gen_ai.request.model"
"""Model name, e.g. ``fraud_detector`` (OTel GenAI convention). Required."""

GEN_AI_OPERATION_NAME: Final = "gen_ai.operation.name"
"""Operation, ``predict`` unless the caller names another (``embeddings``, ``chat``…)."""

ML_MODEL_VERSION: Final = "ml.model.version"
"""Version of the model that answered, e.g. ``v3.2.1`` or a weights fingerprint. Required."""

ML_PIPELINE_VERSION: Final = "ml.pipeline.version"
"""Version of the whole pipeline (pre/post-processing, features), for reproduction."""

AUDIT_INPUT_HASH: Final = "audit.input.hash"
"""Lower-case hex SHA-256 of the canonical JSON encoding of the input (docs/input-hash.md)."""

AUDIT_REQUEST_ID: Final = "audit.request.id"
"""Unique id of the prediction; a UUID4 is generated when the caller gives none. Also the
deduplication key of ``audit_predictions``."""

USER_ID: Final = "user.id"
"""Who asked: the end user or client on whose behalf the prediction ran (OTel ``user.id``)."""

AUDIT_OUTCOME: Final = "audit.outcome"
"""``ok`` or ``error``."""

OUTCOME_OK: Final = "ok"
OUTCOME_ERROR: Final = "error"

AUDIT_LATENCY_MS: Final = "audit.latency_ms"
"""Wall-clock time of the prediction in milliseconds (double)."""

AUDIT_BATCH_SIZE: Final = "audit.batch.size"
"""Number of rows predicted by one call (int, 1 for a single prediction)."""

AUDIT_OUTPUT_LABEL: Final = "audit.output.label"
"""Short label of the output (class, decision) for distribution reports; optional."""

AUDIT_REDACTION_PREFIX: Final = "audit.redaction."
"""Prefix of the per-detector counts in-process redaction records, ``audit.redaction.<name>``."""

AUDIT_REDACTION_COUNT: Final = "audit.redaction.count"
"""Total replacements redaction made on a record (set by the in-process processors, 0 included)."""

AUDIT_REDACTION_ERROR: Final = "audit.redaction.error"
"""``1`` when redaction failed and the record's data was withheld (fail closed)."""

AUDIT_SCHEMA_VERSION: Final = "audit.schema.version"
"""Version of these conventions the record follows (:data:`SCHEMA_VERSION`)."""

ERROR_TYPE: Final = "error.type"
"""Fully qualified exception type when ``audit.outcome`` is ``error`` (OTel convention)."""

ERROR_MESSAGE: Final = "audit.error.message"
"""Exception message when ``audit.outcome`` is ``error``."""

BODY_INPUT: Final = "input"
"""Key of the input in the log record's map body."""

BODY_OUTPUT: Final = "output"
"""Key of the output in the log record's map body."""

BODY_ERROR: Final = "error"
"""Key of the error description (type and message) in the log record's map body."""

PROMOTED_ATTRIBUTES: Final = (
    GEN_AI_REQUEST_MODEL,
    GEN_AI_OPERATION_NAME,
    ML_MODEL_VERSION,
    ML_PIPELINE_VERSION,
    AUDIT_INPUT_HASH,
    USER_ID,
    AUDIT_REQUEST_ID,
    AUDIT_OUTCOME,
    ERROR_TYPE,
    ERROR_MESSAGE,
    AUDIT_OUTPUT_LABEL,
    AUDIT_LATENCY_MS,
    AUDIT_BATCH_SIZE,
)
"""Attributes that get a typed column in ``audit_predictions``; the others stay in its map."""
