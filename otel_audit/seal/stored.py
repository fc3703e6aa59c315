"""The stored tree: read ``audit_seal_checkpoints`` and ``audit_seal_leaves``.

Sealing (:mod:`otel_audit.seal.sealer`), verification (:mod:`otel_audit.seal.verify`), receipts
and evidence packs read the tree the same way, through these functions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from otel_audit.periods import EPOCH, day_windows
from otel_audit.store.connect import Store
from otel_audit.store.sql import query_sql

__all__ = [
    "HASH_BEFORE_SORTING",
    "StoredCheckpoint",
    "load_checkpoints",
    "load_leaves",
    "read_ahead",
    "read_hashed",
    "row_windows",
]

T = TypeVar("T")

HASH_BEFORE_SORTING = {"query_plan_execute_functions_after_sorting": 0}
"""Query settings for the queries that hash leaves in the engine and sort the rows
(``seal_unsealed``, ``seal_record_hashes``): the engine otherwise computes the hashes after its
merge sort, in one stream, instead of in parallel before it (50,000 rows: 0.25 s instead of
0.15 s). Passed as settings, not written into the SQL: the query front door of ``serve``
refuses a statement's own ``SETTINGS`` (and applies its own)."""

WHOLE_ROW_BLOCK_ROWS = 4_096
"""Rows per block the engine sends of the whole records seal and verify hash in Python
(:func:`read_hashed`): a window's light rows are many, its whole rows are held a block at a time."""


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


def read_hashed(store: Store, name: str, parameters: dict[str, Any], hashed: Callable[[dict[str, Any]], T]) -> list[T]:
    """The rows of the query *name*, each as ``hashed(row)`` (its leaf hashed, its content
    dropped) as its block arrives: memory holds one block of whole records (inputs, attributes:
    several KB each as Python objects), not the window's."""
    columns, blocks = store.query_blocks(query_sql(name), parameters, settings={"max_block_size": WHOLE_ROW_BLOCK_ROWS})
    return [hashed(dict(zip(columns, row, strict=True))) for block in blocks for row in block]


def row_windows(
    store: Store, days: Iterable[tuple[dt.datetime, int]], start: dt.datetime, end: dt.datetime, size: int
) -> Iterator[tuple[dt.datetime, dt.datetime, int]]:
    """Consecutive ``[from, to)`` covering ``[start, end)``, each holding about *size* of the
    counted rows, with how many (as :func:`~otel_audit.periods.day_windows`): *days* are
    ``(day, rows)`` in order. A day of more than *size* rows is cut where its stored rows'
    timestamps split it into spans of about *size* (``seal_day_cuts.sql``), so a window stays
    bounded however dense a day is (a store filled in one burst is one day); only rows sharing
    one timestamp are never split."""
    spans: list[tuple[dt.datetime, int]] = []
    for day, rows in days:
        parts = -(-rows // size)
        if parts <= 1:
            spans.append((day, rows))
            continue
        bounds = {"since": max(day, start), "until": min(day + dt.timedelta(days=1), end), "parts": parts}
        cuts = sorted(
            {
                EPOCH + dt.timedelta(microseconds=ns // 1000)
                for ns in store.query(query_sql("seal_day_cuts"), bounds).rows[0][0]
            }
        )
        cuts = [cut for cut in cuts if cut > day]
        share, extra = divmod(rows, len(cuts) + 1)
        spans.append((day, share + extra))
        spans.extend((cut, share) for cut in cuts)
    return day_windows(spans, start, end, size)


def read_ahead(reads: Iterable[Callable[[], T]]) -> Iterator[T]:
    """Yield the result of each of *reads* in order, running the next one on a helper thread while
    the caller works on the current one.

    The engine (chDB releases the GIL while it runs a query; a server works anyway) then overlaps
    with the Python that hashes, matches and spools the rows before. One read runs at a time, and
    the caller must not query the store until the iterator is exhausted or closed: a store bound
    to one session (a server's) takes one query at a time.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="otel-audit-read-ahead") as pool:
        pending: Iterator[Callable[[], T]] = iter(reads)
        read = next(pending, None)
        running: Future[T] | None = pool.submit(read) if read is not None else None
        while running is not None:
            result = running.result()
            read = next(pending, None)
            running = pool.submit(read) if read is not None else None
            yield result
