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

__all__ = ["StoredCheckpoint", "load_checkpoints", "load_leaves"]


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
