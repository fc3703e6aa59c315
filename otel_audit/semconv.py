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
    "CONTENT_ATTRIBUTES",
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

# -- auto-instrumentation (batch rows, GenAI client calls, HTTP requests) ----------------------
__all__ += [  # one additive block per feature keeps parallel edits mergeable
    "AUDIT_BATCH_INPUT_HASHES",
    "AUDIT_BATCH_OUTPUTS",
    "AUDIT_BATCH_TRUNCATED",
    "AUDIT_INSTRUMENTATION",
    "GEN_AI_RESPONSE_FINISH_REASONS",
    "GEN_AI_RESPONSE_ID",
    "GEN_AI_RESPONSE_MODEL",
    "GEN_AI_SYSTEM",
    "GEN_AI_USAGE_INPUT_TOKENS",
    "GEN_AI_USAGE_OUTPUT_TOKENS",
    "HTTP_REQUEST_METHOD",
    "HTTP_RESPONSE_STATUS_CODE",
    "HTTP_ROUTE",
    "ML_FRAMEWORK",
    "ML_MODEL_REVISION",
    "ML_MODEL_TASK",
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


# -- auto-instrumentation ------------------------------------------------------------------------
AUDIT_BATCH_INPUT_HASHES: Final = "audit.batch.input_hashes"
"""Per-row input hashes of a batch call (string array, row order; ``hash_input(X[i])``). Bounded
by ``OTEL_AUDIT_BATCH_MAX_ROWS``; stored as a JSON array text in the attribute map."""

AUDIT_BATCH_OUTPUTS: Final = "audit.batch.outputs"
"""Per-row outputs of a batch call (string array of each row output's canonical JSON), same
order and bound as :data:`AUDIT_BATCH_INPUT_HASHES`."""

CONTENT_ATTRIBUTES: Final = (AUDIT_BATCH_OUTPUTS,)
"""Attributes that carry prediction content, like the body's input and output: the seal's leaf
commits to their SHA-256, not their text, so that erasure can replace them by a tombstone."""

AUDIT_BATCH_TRUNCATED: Final = "audit.batch.truncated"
"""``true`` when the batch had more rows than the per-row attributes hold."""

AUDIT_INSTRUMENTATION: Final = "audit.instrumentation"
"""Which instrumentor recorded the prediction (``sklearn``, ``torch``, ``transformers``,
``openai``, ``asgi``); absent for hand-written audit calls."""

ML_FRAMEWORK: Final = "ml.framework"
"""Framework and version that ran the model, e.g. ``sklearn 1.9.1``."""

ML_MODEL_TASK: Final = "ml.model.task"
"""Task of a transformers pipeline, e.g. ``text-classification``."""

ML_MODEL_REVISION: Final = "ml.model.revision"
"""Revision (commit hash) of a hub model, when known."""

GEN_AI_SYSTEM: Final = "gen_ai.system"
"""GenAI provider, e.g. ``openai`` (OTel GenAI convention)."""

GEN_AI_RESPONSE_MODEL: Final = "gen_ai.response.model"
"""Model that answered, as reported by the provider (OTel GenAI convention)."""

GEN_AI_RESPONSE_ID: Final = "gen_ai.response.id"
"""Provider's id of the completion (OTel GenAI convention)."""

GEN_AI_RESPONSE_FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
"""Finish reason of each choice (string array, OTel GenAI convention)."""

GEN_AI_USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
"""Prompt tokens (int, OTel GenAI convention)."""

GEN_AI_USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
"""Completion tokens (int, OTel GenAI convention)."""

HTTP_ROUTE: Final = "http.route"
"""Route template of an audited HTTP request (OTel HTTP convention)."""

HTTP_REQUEST_METHOD: Final = "http.request.method"
"""HTTP method of an audited request (OTel HTTP convention)."""

HTTP_RESPONSE_STATUS_CODE: Final = "http.response.status_code"
"""HTTP status of an audited request (OTel HTTP convention)."""


# -- record identity ----------------------------------------------------------------------------
__all__ += ["LOG_RECORD_UID"]

LOG_RECORD_UID: Final = "log.record.uid"
"""A log record's unique id (OpenTelemetry general log attribute): otel-audit's SDK path sets a
fresh random one (32 lower-case hex digits) on every prediction record; a sender in another
language should set one too. When a record has none, otel-audit's ingest derives it from the
record's content (``otel_audit/export/record_id.py``). It becomes ``audit_predictions.RecordId``."""


# -- guarded audited calls ------------------------------------------------------------------------
__all__ += ["AUDIT_EXTRACTOR_ERROR"]

AUDIT_EXTRACTOR_ERROR: Final = "audit.extractor.error"
"""Extractors that raised while the prediction was audited (string array, one
``<extractor>: <error type>`` entry each, e.g. ``output: KeyError``). The extractors are
``@audited``'s ``input``, ``user_id`` and ``output`` callables and an instrumentor's ``output`` and
``finish`` steps; the fact an extractor failed to give is recorded as null (``user.id`` falls back
to the enclosing ``audit_scope``). Absent when every extractor succeeded."""


# -- decisions on the record and other audit events -----------------------------------------------
__all__ += [
    "ACCESS_OUTCOMES",
    "ACCESS_OUTCOME_ERROR",
    "ACCESS_OUTCOME_OK",
    "ACCESS_OUTCOME_REFUSED",
    "AUDIT_ACCESS_ACTOR",
    "AUDIT_ACCESS_COMMAND",
    "AUDIT_ACCESS_OUTCOME",
    "AUDIT_ACCESS_PERIOD_END",
    "AUDIT_ACCESS_PERIOD_START",
    "AUDIT_ACCESS_RECORDS",
    "AUDIT_ACCESS_SUBJECT",
    "AUDIT_ACCESS_SUBJECT_KIND",
    "AUDIT_EVENTS",
    "AUDIT_EVENT_CONTENT_ATTRIBUTES",
    "AUDIT_EVENT_PROMOTED_ATTRIBUTES",
    "AUDIT_FEEDBACK_TEXT",
    "AUDIT_GROUND_TRUTH_SOURCE",
    "AUDIT_GROUND_TRUTH_VALUE",
    "AUDIT_REVIEW_DECISION",
    "AUDIT_REVIEW_FINAL_OUTPUT",
    "AUDIT_REVIEW_REASON",
    "AUDIT_REVIEW_REVIEWER",
    "AUDIT_TARGET_RECORD_ID",
    "DECISION_ACCEPT",
    "DECISION_ESCALATE",
    "DECISION_EVENTS",
    "DECISION_OVERRIDE",
    "EVENT_ACCESS",
    "EVENT_FEEDBACK",
    "EVENT_GROUND_TRUTH",
    "EVENT_REVIEW",
    "GEN_AI_EVALUATION_NAME",
    "GEN_AI_EVALUATION_RESULT",
    "REVIEW_DECISIONS",
]

EVENT_REVIEW: Final = "audit.review"
"""``event_name`` of a human review of one prediction (accept, override or escalate)."""

EVENT_GROUND_TRUTH: Final = "audit.ground_truth"
"""``event_name`` of the observed outcome of one prediction, once known."""

EVENT_FEEDBACK: Final = "audit.feedback"
"""``event_name`` of free-text feedback on one prediction (content: redacted, erasable)."""

EVENT_ACCESS: Final = "audit.access"
"""``event_name`` of one read of the audit trail (a report, an export, a query through serve)."""

DECISION_EVENTS: Final = (EVENT_REVIEW, EVENT_GROUND_TRUTH, EVENT_FEEDBACK)
"""The decision events: appended, never edited, each naming one prediction."""

AUDIT_EVENTS: Final = (*DECISION_EVENTS, EVENT_ACCESS)
"""Every event ``audit_events`` keeps (and the seal covers) besides predictions."""

AUDIT_TARGET_RECORD_ID: Final = "audit.target.record_id"
"""On a decision event: the ``RecordId`` (``log.record.uid``) of the prediction it is about.
A decision names its prediction by this, or by :data:`AUDIT_REQUEST_ID` (the prediction's
request id), or both."""

AUDIT_REVIEW_REVIEWER: Final = "audit.review.reviewer"
"""Pseudonymous id of the reviewer (never a name or an e-mail address)."""

AUDIT_REVIEW_DECISION: Final = "audit.review.decision"
"""``accept``, ``override`` or ``escalate``."""

DECISION_ACCEPT: Final = "accept"
DECISION_OVERRIDE: Final = "override"
DECISION_ESCALATE: Final = "escalate"
REVIEW_DECISIONS: Final = (DECISION_ACCEPT, DECISION_OVERRIDE, DECISION_ESCALATE)

AUDIT_REVIEW_REASON: Final = "audit.review.reason"
"""Why the reviewer decided so (free text: content, redacted and erasable)."""

AUDIT_REVIEW_FINAL_OUTPUT: Final = "audit.review.final_output"
"""The output that stands after an override (canonical JSON text; content, erasable)."""

AUDIT_GROUND_TRUTH_VALUE: Final = "audit.ground_truth.value"
"""The observed outcome, comparable with the prediction's ``audit.output.label`` (content)."""

AUDIT_GROUND_TRUTH_SOURCE: Final = "audit.ground_truth.source"
"""Where the outcome comes from, e.g. ``chargeback``, ``manual-audit``, ``customer``."""

AUDIT_FEEDBACK_TEXT: Final = "audit.feedback.text"
"""Free-text feedback (content: redacted like any content, erasable)."""

AUDIT_ACCESS_ACTOR: Final = "audit.access.actor"
"""Who read the audit trail (an operator or service id; pseudonymous)."""

AUDIT_ACCESS_COMMAND: Final = "audit.access.command"
"""What was run, e.g. ``report usage``, ``query`` (serve's query door), ``evidence``."""

AUDIT_ACCESS_SUBJECT: Final = "audit.access.subject"
"""Whose data was read: the keyed pseudonym of the data subject, empty when not one user's."""

AUDIT_ACCESS_PERIOD_START: Final = "audit.access.period.start"
"""Start of the period read (RFC 3339 UTC text), empty when unbounded."""

AUDIT_ACCESS_PERIOD_END: Final = "audit.access.period.end"
"""End of the period read (RFC 3339 UTC text, exclusive), empty when unbounded."""

AUDIT_ACCESS_RECORDS: Final = "audit.access.records"
"""Records returned (int)."""

AUDIT_ACCESS_SUBJECT_KIND: Final = "audit.access.subject.kind"
"""What :data:`AUDIT_ACCESS_SUBJECT` pseudonymises: ``user``, ``request``, ``model``, ``input``
(an input hash) or ``record`` (a record id: ``prove --event``); absent when the read was about no
one subject."""

AUDIT_ACCESS_OUTCOME: Final = "audit.access.outcome"
"""``ok``, ``refused`` (by the query sandbox) or ``error`` (the read failed)."""

ACCESS_OUTCOME_OK: Final = "ok"
ACCESS_OUTCOME_REFUSED: Final = "refused"
ACCESS_OUTCOME_ERROR: Final = "error"
"""The read failed (a store or query error, an unknown model): what it returned is 0 records."""
ACCESS_OUTCOMES: Final = (ACCESS_OUTCOME_OK, ACCESS_OUTCOME_REFUSED, ACCESS_OUTCOME_ERROR)

AUDIT_EVENT_CONTENT_ATTRIBUTES: Final = (
    AUDIT_REVIEW_REASON,
    AUDIT_REVIEW_FINAL_OUTPUT,
    AUDIT_GROUND_TRUTH_VALUE,
    AUDIT_FEEDBACK_TEXT,
)
"""Decision attributes that carry content: the seal's event leaf commits to their SHA-256, and
``otel-audit erase`` replaces them by a tombstone."""

AUDIT_EVENT_PROMOTED_ATTRIBUTES: Final = (
    LOG_RECORD_UID,
    AUDIT_TARGET_RECORD_ID,
    AUDIT_REQUEST_ID,
    GEN_AI_REQUEST_MODEL,
    AUDIT_REVIEW_REVIEWER,
    AUDIT_REVIEW_DECISION,
    *AUDIT_EVENT_CONTENT_ATTRIBUTES,
    AUDIT_GROUND_TRUTH_SOURCE,
    AUDIT_ACCESS_ACTOR,
    AUDIT_ACCESS_COMMAND,
    AUDIT_ACCESS_SUBJECT,
    AUDIT_ACCESS_PERIOD_START,
    AUDIT_ACCESS_PERIOD_END,
    AUDIT_ACCESS_RECORDS,
    AUDIT_ACCESS_OUTCOME,
)
"""Attributes that get a typed column in ``audit_events``; the others stay in its map."""

GEN_AI_EVALUATION_RESULT: Final = "gen_ai.evaluation.result"
"""OTel GenAI event name for an evaluation of a GenAI output (development status). Not used for
decisions: it has no reviewer, no override and no record reference (docs/conventions.md)."""

GEN_AI_EVALUATION_NAME: Final = "gen_ai.evaluation.name"
"""OTel GenAI: name of the evaluation; otel-audit's SDK sets it on a decision event to the
event's kind (``review``, ``ground_truth``, ``feedback``), so GenAI-aware tools can group them.
The evaluation's ``score.label`` and ``explanation`` are not set: they would copy content
(decision reason, observed outcome) outside the attributes that erasure tombstones."""
