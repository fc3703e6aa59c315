"""The canonical form of an audit record and its Merkle leaf hash.

A leaf commits to one row of ``audit_predictions`` through this JSON object (version 2), encoded
with :func:`otel_audit.emit.hashing.canonical_json` (RFC 8785 after normalization):

====================  ==============================================================
key                   value
====================  ==============================================================
``v``                 ``2``
``timestamp``         ``Timestamp`` as ``YYYY-MM-DD hh:mm:ss.nnnnnnnnn`` (UTC, 9 digits)
``record_id`` …       ``RecordId``, ``ModelName``, ``ModelVersion``, ``PipelineVersion``,
                      ``Operation``, ``InputHash``, ``UserId``, ``RequestId``, ``Outcome``,
                      ``ErrorType``, ``ErrorMessage``, ``OutputLabel``, ``ServiceName``,
                      ``TraceId``, ``SpanId`` (strings, snake_case keys)
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
call's outputs could not be erased).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from otel_audit import semconv
from otel_audit.emit.hashing import canonical_json
from otel_audit.seal.merkle import hash_leaf

__all__ = [
    "LEAF_VERSION",
    "RECORD_FIELDS",
    "content_sha256",
    "is_erased",
    "is_tombstone",
    "leaf_data",
    "leaf_hash",
    "leaf_object",
]

LEAF_VERSION = 2

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
    "output_label",
    "latency_ms",
    "batch_size",
    "service_name",
    "trace_id",
    "span_id",
    "attributes",
)
"""Record fields copied into the leaf object as they are (the SQL in ``seal_*.sql`` names them)."""

_TOMBSTONE_PREFIX = '{"$erased":'
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def is_tombstone(text: str) -> bool:
    """True if *text* is an erasure tombstone."""
    return text.startswith(_TOMBSTONE_PREFIX)


def is_erased(record: Mapping[str, Any]) -> bool:
    """True if any content of a record row (input, output, content attributes) is a tombstone."""
    attributes = record["attributes"]
    return (
        is_tombstone(record["input"])
        or is_tombstone(record["output"])
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


def leaf_object(record: Mapping[str, Any]) -> dict[str, Any]:
    """The leaf object of a record row (keys of :data:`RECORD_FIELDS` + input/output hashes)."""
    leaf: dict[str, Any] = {"v": LEAF_VERSION}
    for field in RECORD_FIELDS:
        leaf[field] = record[field]
    leaf["attributes"] = {
        key: f"sha256:{content_sha256(value)}" if key in semconv.CONTENT_ATTRIBUTES else value
        for key, value in record["attributes"].items()
    }
    leaf["latency_ms"] = float(record["latency_ms"])
    leaf["batch_size"] = int(record["batch_size"])
    leaf["input_sha256"] = content_sha256(record["input"])
    leaf["output_sha256"] = content_sha256(record["output"])
    return leaf


def leaf_data(leaf: Mapping[str, Any]) -> bytes:
    """The canonical bytes of a leaf object."""
    return canonical_json(dict(leaf))[1].encode("utf-8")


def leaf_hash(record: Mapping[str, Any]) -> bytes:
    """The RFC 6962 leaf hash of a record row."""
    return hash_leaf(leaf_data(leaf_object(record)))
