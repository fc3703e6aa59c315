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
text, so that erasure covers it too; leaves sealed before (version 2: ``output_label`` as text)
still verify, since :func:`leaf_hashes` gives the hash of every version a row can have been sealed
as, newest first.
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
    "leaf_hashes",
    "leaf_object",
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
        version: the leaf version (3, or 2 for a leaf sealed before version 3).
    """
    leaf: dict[str, Any] = {"v": version}
    for field in RECORD_FIELDS:
        leaf[field] = record[field]
    if version >= 3:
        leaf["output_label_sha256"] = content_sha256(record["output_label"])
    else:
        leaf["output_label"] = record["output_label"]
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
    """The RFC 6962 leaf hash of a record row, as :func:`seal` seals it now (version 3)."""
    return hash_leaf(leaf_data(leaf_object(record)))


def leaf_hashes(record: Mapping[str, Any]) -> tuple[bytes, ...]:
    """The leaf hash of a record row in every version it may have been sealed as, newest first.

    A version-2 leaf commits to the label's text, so once the label is erased only version 3
    can match (erasure leaves the labels of version-2 leaves alone).
    """
    if is_tombstone(record["output_label"]):
        return (leaf_hash(record),)
    return (leaf_hash(record), hash_leaf(leaf_data(leaf_object(record, 2))))
