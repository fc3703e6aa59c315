"""The stored tree: read ``audit_seal_checkpoints`` and ``audit_seal_leaves``.

Sealing (:mod:`otel_audit.seal.sealer`), verification (:mod:`otel_audit.seal.verify`), receipts
and evidence packs read the tree the same way, through these functions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from otel_audit.store.connect import Store
from otel_audit.store.sql import query_sql

__all__ = ["HASH_BEFORE_SORTING", "StoredCheckpoint", "load_checkpoints", "load_leaves"]

HASH_BEFORE_SORTING = {"query_plan_execute_functions_after_sorting": 0}
"""Query settings for the queries that hash leaves in the engine and sort the rows
(``seal_unsealed``, ``seal_record_hashes``): the engine otherwise computes the hashes after its
merge sort, in one stream, instead of in parallel before it (50,000 rows: 0.25 s instead of
0.15 s). Passed as settings, not written into the SQL: the query front door of ``serve``
refuses a statement's own ``SETTINGS`` (and applies its own)."""


@dataclass(frozen=True)
class StoredCheckpoint:
    """One row of ``audit_seal_checkpoints``."""

    tree_size: int
    root_hex: str
    note: str
    sealed_at: dt.datetime


def load_checkpoints(store: Store) -> list[StoredCheckpoint]:
    """All stored checkpoints, smallest tree first."""
    rows = store.query(query_sql("seal_checkpoints")).rows
    return [StoredCheckpoint(int(size), root, note, at) for size, root, note, at in rows]


def load_leaves(store: Store) -> list[dict[str, Any]]:
    """All stored leaves (``LeafIndex``, ``RecordId``, ``Timestamp`` text, ``LeafHash`` hex), in order."""
    return store.query(query_sql("seal_leaves")).dicts()
