"""Record identity: an id unique per audit record and the same for every retry of it.

A stored prediction's ``RecordId`` (``audit_predictions``) is, first that applies:

1. **The sender's id**: the record's ``log.record.uid`` attribute (OpenTelemetry's general log
   attribute). otel-audit's own SDK path sets a random one on every prediction; any sender in any
   language may set its own (a ULID, a UUID).
2. **The content id**, which otel-audit's ingest (``otel-audit serve`` and the SDK's ClickHouse
   exporters) derives for a prediction or audit-event record (:data:`IDENTIFIED_EVENTS`) that has
   no ``log.record.uid`` and writes into it:
   the lower-case hex SHA-256 of the UTF-8 bytes of the compact JSON array

   ``["otel-audit.record/1", time, observed_time, trace_id, span_id, severity_number,
   severity_text, event_name, body, attributes, resource_attributes, scope_name, scope_version]``

   where *time* and *observed_time* are integers (Unix nanoseconds, 0 when unset), the ids are
   lower-case hex (``""`` when unset), *body* is the stored ``Body`` text, and each attribute set
   is an array of ``[key, value]`` pairs of the stored (string) values, sorted by key then value
   in code point order. JSON strings are written with the minimal escapes of RFC 8785 (as
   ``JSON.stringify`` does), no whitespace, non-ASCII characters as themselves. When one export
   holds *k* + 1 records with the same array, the *k*-th repeat (*k* ≥ 1) hashes the array with
   the integer *k* appended: such records stay distinct, and a retry of the same export gives the
   same ids again. (Numbering is per export request, which a retry resends whole. Records equal in
   every field, both timestamps included, that arrive in *different* requests cannot be told from
   a retry and count once: a sender whose clock has millisecond resolution, such as the JS SDK,
   and that repeats identical predictions within a millisecond across exports should set
   ``log.record.uid``.)
3. **The store id**, computed by the ``audit_predictions`` view for a row that still has no
   ``log.record.uid`` (written by another writer, such as the collector's ClickHouse exporter,
   whose table keeps no observed time): ``lower(hex(SHA256(toJSONString(tuple(…)))))`` over the
   stored columns (``clickhouse/schema/090_record_identity.sql``).

An at-least-once retry stores an identical row under the same id, and the reports count it once.
Two rows with one id and different content (a forged copy, two senders reusing an id) are
both kept, both counted, and surfaced by ``otel-audit verify`` and ``otel-audit report
conflicts``; they are told apart by ``RowHash``, a digest of the stored row.
"""

from __future__ import annotations

import hashlib
import json

from otel_audit import semconv

__all__ = ["CONTENT_ID_VERSION", "IDENTIFIED_EVENTS", "ContentIds"]

CONTENT_ID_VERSION = "otel-audit.record/1"
"""First element of the hashed array; changes if the array ever does."""

IDENTIFIED_EVENTS = frozenset({semconv.EVENT_PREDICTION, *semconv.AUDIT_EVENTS})
"""Event names whose records get a content id when they arrive without ``log.record.uid``: a
prediction, and an audit event (``audit_events``: decisions, access events)."""

_UID = semconv.LOG_RECORD_UID
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


class ContentIds:
    """Content ids for the records of one export (repeats within it are numbered)."""

    __slots__ = ("_seen",)

    def __init__(self) -> None:
        self._seen: dict[bytes, int] = {}

    def missing(  # noqa: PLR0917 - one argument per field of the hashed array
        self,
        event_name: str,
        attribute_keys: list[str],
        attribute_values: list[str],
        time: int,
        observed_time: int,
        trace_id: str,
        span_id: str,
        severity_number: int,
        severity_text: str,
        body: str,
        resource_keys: list[str],
        resource_values: list[str],
        scope_name: str,
        scope_version: str,
    ) -> str | None:
        """The content id of a record that needs one, else ``None`` (it has an id, or is no audit record)."""
        if event_name not in IDENTIFIED_EVENTS or _UID in attribute_keys:
            return None
        fields = [
            CONTENT_ID_VERSION,
            time,
            observed_time,
            trace_id,
            span_id,
            severity_number,
            severity_text,
            event_name,
            body,
            sorted(zip(attribute_keys, attribute_values, strict=True)),
            sorted(zip(resource_keys, resource_values, strict=True)),
            scope_name,
            scope_version,
        ]
        digest = hashlib.sha256(_encode(fields).encode("utf-8")).digest()
        repeat = self._seen.get(digest, 0)
        self._seen[digest] = repeat + 1
        if repeat:
            fields.append(repeat)
            return hashlib.sha256(_encode(fields).encode("utf-8")).hexdigest()
        return digest.hex()
