"""GDPR Art. 17 erasure that keeps the seal.

``erase`` replaces the ``Input`` and ``Output`` of the chosen records in ``audit_predictions``,
and the input and output inside ``Body`` of their rows in ``otel_logs``, with a tombstone
``{"$erased":{"at":"<UTC time>","sha256":"<hex of the original text>"}}``. The Merkle leaf
commits to that hash, not to the text (:mod:`otel_audit.seal.leaf`), so ``verify`` still passes.
The tables are append-only MergeTree; erasure is a synchronous ``ALTER TABLE … UPDATE``
mutation (``mutations_sync = 2``), then one row per record goes into ``audit_erasures``.
Mutated parts replace the old ones at once; ClickHouse deletes the old part files from disk
after ``old_parts_lifetime`` (8 minutes by default).
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
    if not targets:
        return ErasureResult(0, now, ())
    record_ids = [record_id for record_id, _ in targets]
    params = {"at": at_text, "record_ids": record_ids}
    store.command(query_sql("seal_erase_predictions"), params, settings=_SYNC)
    store.command(query_sql("seal_erase_logs"), params, settings=_SYNC)
    store.insert_columns(
        "audit_erasures",
        [
            [now] * len(targets),
            record_ids,
            [rid for _, rid in targets],
            ["user" if user else "request_id"] * len(targets),
            [reason] * len(targets),
        ],
        ["ErasedAt", "RecordId", "RequestId", "Selector", "Reason"],
    )
    return ErasureResult(len(targets), now, tuple(record_ids))
