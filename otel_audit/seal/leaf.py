"""The canonical form of an audit record and its Merkle leaf hash.

A leaf commits to one row of ``audit_predictions`` through this JSON object (version 3), encoded
with :func:`otel_audit.emit.hashing.canonical_json` (RFC 8785 after normalization):

======================  ============================================================
key                     value
======================  ============================================================
``v``                   ``3``
``timestamp``           ``Timestamp`` as ``YYYY-MM-DD hh:mm:ss.nnnnnnnnn`` (UTC, 9 digits)
``record_id`` …         ``RecordId``, ``ModelName``, ``ModelVersion``, ``PipelineVersion``,
                        ``Operation``, ``InputHash``, ``UserId``, ``RequestId``, ``Outcome``,
                        ``ErrorType``, ``ErrorMessage``, ``ServiceName``, ``TraceId``,
                        ``SpanId`` (strings, snake_case keys)
``output_label_sha256`` lower-case hex SHA-256 of the UTF-8 ``OutputLabel`` text (a label is
                        derived from the output: content, erasable like it)
``latency_ms``        ``LatencyMs`` (number)
``batch_size``        ``BatchSize`` (integer)
``attributes``        ``Attributes`` (object of strings); the value of a content attribute
                      (:data:`~otel_audit.semconv.CONTENT_ATTRIBUTES`, the batch outputs)
                      is replaced by ``sha256:<hex of its text>``
``input_sha256``      lower-case hex SHA-256 of the UTF-8 ``Input`` text
``output_sha256``     lower-case hex SHA-256 of the UTF-8 ``Output`` text
====================  ==============================================================

The leaf data is the UTF-8 canonical JSON; the leaf hash is SHA-256(0x00 || data). Because the
leaf holds hashes of ``Input`` and ``Output`` rather than the text, the content can be replaced by
a *tombstone* ``{"$erased":{"at":"<time>","sha256":"<hex of the original text>"}}`` (GDPR
erasure) and the leaf still verifies: :func:`content_sha256` reads the hash from the tombstone.
Version 2 extends this to the content attributes (version 1 committed to their text, so a batch
call's outputs could not be erased). Version 3 commits to the output label's hash instead of its
text, so that erasure covers it too. Leaves sealed before (versions 1 and 2: ``output_label`` as
text; version 1 also the content attributes' text) still verify, since :func:`leaf_hashes` gives
the hash of every version a row can have been sealed as, newest first.

**Audit events** (rows of ``audit_events``: reviews, ground truth, feedback, access events) are
sealed into the same tree with an event leaf, version 4, which a prediction leaf never is:

=============================  ========================================================
key                            value
=============================  ========================================================
``v``                          ``4``
``kind``                       ``EventName`` (``audit.review``, ``audit.ground_truth``,
                               ``audit.feedback``, ``audit.access``)
``timestamp``                  as for a prediction
``record_id`` …                ``RecordId``, ``TargetRecordId``, ``TargetRequestId``,
                               ``ModelName``, ``Actor``, ``Decision``,
                               ``GroundTruthSource``, ``AccessCommand``, ``AccessSubject``,
                               ``AccessPeriodStart``, ``AccessPeriodEnd``, ``AccessOutcome``,
                               ``ServiceName``, ``TraceId``, ``SpanId`` (strings, snake_case)
``access_records``             ``AccessRecords`` (integer)
``attributes``                 ``Attributes`` (object of strings)
``reason_sha256`` …            lower-case hex SHA-256 of ``Reason``, ``FinalOutput``,
                               ``GroundTruthValue``, ``FeedbackText`` (content: erasable
                               by tombstone, like a prediction's input and output)
=============================  ========================================================

A row is an event row when it has an ``event_name`` key (``_seal_event_columns.sql``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from otel_audit import semconv
from otel_audit.emit.hashing import canonical_json, flat_canonical_bytes
from otel_audit.seal.merkle import hash_leaf

__all__ = [
    "EVENT_CONTENT_FIELDS",
    "EVENT_FIELDS",
    "EVENT_LEAF_VERSION",
    "LEAF_VERSION",
    "RECORD_FIELDS",
    "content_sha256",
    "event_leaf_object",
    "is_erased",
    "is_tombstone",
    "leaf_data",
    "leaf_hash",
    "leaf_hashes",
    "leaf_object",
    "record_kind",
]

LEAF_VERSION = 3

RECORD_FIELDS = (
    "timestamp",
    "record_id",
    "model_name",
    "model_version",
    "pipeline_version",
    "operation",
    "input_hash",
    "user_id",
    "request_id",
    "outcome",
    "error_type",
    "error_message",
    "latency_ms",
    "batch_size",
    "service_name",
    "trace_id",
    "span_id",
    "attributes",
)
"""Record fields copied into the leaf object as they are (the SQL in ``seal_*.sql`` names them)."""

EVENT_LEAF_VERSION = 4

EVENT_FIELDS = (
    "timestamp",
    "record_id",
    "target_record_id",
    "target_request_id",
    "model_name",
    "actor",
    "decision",
    "ground_truth_source",
    "access_command",
    "access_subject",
    "access_period_start",
    "access_period_end",
    "access_outcome",
    "service_name",
    "trace_id",
    "span_id",
)
"""Event fields copied into the event leaf as they are (``_seal_event_columns.sql`` names them)."""

EVENT_CONTENT_FIELDS = ("reason", "final_output", "ground_truth_value", "feedback_text")
"""Event fields the leaf commits to by SHA-256 only (content: tombstoned by erasure)."""

_TOMBSTONE_PREFIX = '{"$erased":'
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def is_tombstone(text: str) -> bool:
    """True if *text* is an erasure tombstone."""
    return text.startswith(_TOMBSTONE_PREFIX)


def record_kind(record: Mapping[str, Any]) -> str:
    """``""`` for a prediction row, else the event row's name (``audit.review``…)."""
    return str(record.get("event_name") or "")


def is_erased(record: Mapping[str, Any]) -> bool:
    """True if any content of a record row (input, output, content attributes; an event's
    content fields) is a tombstone."""
    if record_kind(record):
        return any(is_tombstone(record[name]) for name in EVENT_CONTENT_FIELDS)
    attributes = record["attributes"]
    return (
        is_tombstone(record["input"])
        or is_tombstone(record["output"])
        or is_tombstone(record["output_label"])
        or any(is_tombstone(attributes.get(key, "")) for key in semconv.CONTENT_ATTRIBUTES)
    )


def content_sha256(text: str) -> str:
    """Hex SHA-256 of stored content, or the original content's hash kept in a tombstone."""
    if is_tombstone(text):
        try:
            digest = json.loads(text)["$erased"]["sha256"]
        except (ValueError, KeyError, TypeError):
            digest = None
        if isinstance(digest, str) and _HEX64.match(digest):
            return digest
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def leaf_object(record: Mapping[str, Any], version: int = LEAF_VERSION) -> dict[str, Any]:
    """The leaf object of a record row (keys of :data:`RECORD_FIELDS` + content hashes).

    Args:
        record: the row, named as ``clickhouse/queries/_seal_record_columns.sql`` names it.
        version: the leaf version (3; 2 or 1 for a leaf sealed before).
    """
    leaf: dict[str, Any] = {"v": version}
    for field in RECORD_FIELDS:
        leaf[field] = record[field]
    if version >= 3:
        leaf["output_label_sha256"] = content_sha256(record["output_label"])
    else:
        leaf["output_label"] = record["output_label"]
    if version >= 2:
        leaf["attributes"] = {
            key: f"sha256:{content_sha256(value)}" if key in semconv.CONTENT_ATTRIBUTES else value
            for key, value in record["attributes"].items()
        }
    else:
        leaf["attributes"] = dict(record["attributes"])
    leaf["latency_ms"] = float(record["latency_ms"])
    leaf["batch_size"] = int(record["batch_size"])
    leaf["input_sha256"] = content_sha256(record["input"])
    leaf["output_sha256"] = content_sha256(record["output"])
    return leaf


def event_leaf_object(record: Mapping[str, Any]) -> dict[str, Any]:
    """The version-4 leaf object of an audit event row (see the module docstring)."""
    leaf: dict[str, Any] = {"v": EVENT_LEAF_VERSION, "kind": record["event_name"]}
    for name in EVENT_FIELDS:
        leaf[name] = record[name]
    leaf["access_records"] = int(record["access_records"])
    leaf["attributes"] = dict(record["attributes"])
    for name in EVENT_CONTENT_FIELDS:
        leaf[f"{name}_sha256"] = content_sha256(record[name])
    return leaf


def leaf_data(leaf: Mapping[str, Any]) -> bytes:
    """The canonical bytes of a leaf object."""
    leaf = dict(leaf)
    data = flat_canonical_bytes(leaf)
    return data if data is not None else canonical_json(leaf)[1].encode("utf-8")


def leaf_hash(record: Mapping[str, Any]) -> bytes:
    """The RFC 6962 leaf hash of a record row, as :func:`seal` seals it now (version 3; version
    4 for an audit event row)."""
    if record_kind(record):
        return hash_leaf(leaf_data(event_leaf_object(record)))
    return hash_leaf(leaf_data(leaf_object(record)))


def leaf_hashes(record: Mapping[str, Any]) -> Iterator[bytes]:
    """The leaf hash of a record row in every version it may have been sealed as, newest first,
    each computed only when asked for.

    Versions 1 and 2 commit to the label's text, so once the label is erased only version 3
    can match (erasure leaves the labels of older leaves alone).
    """
    yield leaf_hash(record)
    if record_kind(record):
        return
    if not is_tombstone(record["output_label"]):
        for version in (2, 1):
            yield hash_leaf(leaf_data(leaf_object(record, version)))
