"""GDPR Art. 17 erasure that keeps the seal.

``erase`` replaces the ``Input`` and ``Output`` of the chosen records in ``audit_predictions``,
and the input and output inside ``Body`` of their rows in ``otel_logs``, with a tombstone
``{"$erased":{"at":"<UTC time>","sha256":"<hex of the original text>"}}``. The Merkle leaf
commits to that hash, not to the text (:mod:`otel_audit.seal.leaf`), so ``verify`` still passes.
The tables are append-only MergeTree; erasure is a synchronous ``ALTER TABLE … UPDATE``
mutation (``mutations_sync = 2``), then one row per record goes into ``audit_erasures``.
The decisions about the erased records (reviews, ground truth, feedback in ``audit_events``
naming one of them by record id or request id) lose their content too: reason, final output,
ground-truth value and feedback text become tombstones, in ``audit_events`` and in their
``otel_logs`` rows, and each is logged in ``audit_erasures``; the event leaf commits to the
hashes, so the seal stays valid. Mutated parts replace the old ones at once; ClickHouse deletes
the old part files from disk after ``old_parts_lifetime`` (8 minutes by default).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from otel_audit.seal._errors import SealError
from otel_audit.store.connect import Store
from otel_audit.store.sql import query_sql

__all__ = ["ErasureResult", "erase", "erasure_targets"]

_SYNC = {"mutations_sync": 2}


@dataclass(frozen=True)
class ErasureResult:
    """What one :func:`erase` did."""

    records: int
    erased_at: dt.datetime
    record_ids: tuple[str, ...]
    events: tuple[str, ...] = ()
    """Record ids of the decision events whose content was erased with the records."""


def erasure_targets(store: Store, *, user: str | None = None, request_id: str | None = None) -> list[tuple[str, str]]:
    """The records :func:`erase` would tombstone: ``(record id, request id)`` of every record of
    *user*, or of *request_id*, by record id (``erase --dry-run`` lists them, changing nothing).

    Raises:
        SealError: neither or both selectors were given.
    """
    if bool(user) == bool(request_id):
        raise SealError("erase needs exactly one of --user or --request-id")
    rows = store.query(query_sql("seal_erasure_targets"), {"user": user or "", "request_id": request_id or ""}).rows
    return [(str(record_id), str(request)) for record_id, request in rows]


def erase(store: Store, *, user: str | None = None, request_id: str | None = None, reason: str = "") -> ErasureResult:
    """Tombstone the input and output of every record of *user*, or of *request_id*.

    Raises:
        SealError: neither or both selectors were given.
    """
    targets = erasure_targets(store, user=user, request_id=request_id)
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    at_text = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    record_ids = [record_id for record_id, _ in targets]
    request_ids = sorted({rid for _, rid in targets if rid} | ({request_id} if request_id else set()))
    events = [
        (str(event_id), str(target_request))
        for event_id, target_request in store.query(
            query_sql("seal_erasure_event_targets"), {"record_ids": record_ids, "request_ids": request_ids}
        ).rows
    ]
    if not targets and not events:
        return ErasureResult(0, now, ())
    if targets:
        params = {"at": at_text, "record_ids": record_ids}
        store.command(query_sql("seal_erase_predictions"), params, settings=_SYNC)
        store.command(query_sql("seal_erase_logs"), params, settings=_SYNC)
    if events:
        params = {"at": at_text, "record_ids": [event_id for event_id, _ in events]}
        store.command(query_sql("seal_erase_events"), params, settings=_SYNC)
        store.command(query_sql("seal_erase_event_logs"), params, settings=_SYNC)
    logged = [*targets, *events]
    store.insert_columns(
        "audit_erasures",
        [
            [now] * len(logged),
            [record_id for record_id, _ in logged],
            [rid for _, rid in logged],
            ["user" if user else "request_id"] * len(logged),
            [reason] * len(logged),
        ],
        ["ErasedAt", "RecordId", "RequestId", "Selector", "Reason"],
    )
    return ErasureResult(len(targets), now, tuple(record_ids), tuple(event_id for event_id, _ in events))
