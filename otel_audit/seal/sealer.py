"""Seal ``audit_predictions`` and ``audit_events`` into one Merkle tree with signed checkpoints.

Predictions and audit events (reviews, ground truth, feedback, access events) share the tree: a
receipt can prove "this prediction, then this review". An event's leaf is the version-4 event
leaf of :mod:`otel_audit.seal.leaf`; its ``audit_seal_leaves`` row names its ``Kind`` (the event
name; ``""`` for a prediction).

Sealing order: the records not yet in the tree, by ``Timestamp`` then ``RecordId``, one per
stored record (``RecordId``, ``RowHash``): at-least-once duplicates are sealed once, and two
different rows under one id are each sealed (and reported by :func:`verify` as conflicting).
Each :func:`seal` appends one batch and signs one checkpoint over the whole tree; a record that
arrives after its time was sealed goes into the next batch, so nothing is skipped. One sealer per
store at a time (``serve`` or a scheduled ``otel-audit seal``); a lock serializes sealers inside
one process.

A prediction's leaf hash is computed by the engine (``_seal_engine_leaf.sql``: the same JSON text
as :mod:`otel_audit.seal.leaf`, hashed where the row is), so the content never leaves the store;
the rows whose text the engine cannot write exactly as RFC 8785 (``_seal_engine_leafable.sql``:
rare characters, non-ASCII attribute keys, tombstones, extreme latencies) and audit events are
read whole and hashed in Python. ``tests/seal/test_engine_leaf.py`` holds the two to the byte.

Verification lives in :mod:`otel_audit.seal.verify` (one function per check) and reading the
stored tree in :mod:`otel_audit.seal.stored`; their public names are importable from here too.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from otel_audit.periods import EPOCH, FAR_FUTURE
from otel_audit.seal._errors import SealError
from otel_audit.seal.checkpoint import NoteSigner, format_checkpoint, sign_note
from otel_audit.seal.leaf import leaf_hash, record_kind
from otel_audit.seal.merkle import CompactRange
from otel_audit.seal.stored import (
    HASH_BEFORE_SORTING,
    StoredCheckpoint,
    load_checkpoints,
    load_leaves,
    read_hashed,
    row_windows,
)
from otel_audit.seal.verify import VERIFY_WINDOW_ROWS, Problem, VerifyReport, verify
from otel_audit.store.connect import Store
from otel_audit.store.sql import query_sql

__all__ = [
    "SEAL_CHUNK_ROWS",
    "VERIFY_WINDOW_ROWS",
    "Problem",
    "SealResult",
    "StoredCheckpoint",
    "VerifyReport",
    "default_origin",
    "load_checkpoints",
    "load_leaves",
    "seal",
    "verify",
]

_NO_LIMIT = 2**62
SEAL_CHUNK_ROWS = 50_000
"""About how many records :func:`seal` reads, hashes and inserts leaves for at a time (whole
days, a bigger day cut at its rows' timestamps: :func:`~otel_audit.seal.stored.row_windows`);
one checkpoint is signed at the end. A window is held as ids and leaf hashes (the few whole
records hashed in Python a block at a time). Each window's check for sealed keys scans the
tree's record ids, so fewer, larger windows seal a big backlog faster: at 3M records, windows
of 50,000 instead of 20,000 sealed at 53-64k instead of 45-50k records/s, for about 50 MiB more."""
SEAL_BUCKET_LEAVES = 1_000_000
"""About how many sealed keys the engine holds in one set (about 100 bytes each, 3.3M keys took
400 MiB) while :func:`seal` counts the unsealed rows per day: the tree's leaves are split by record
id into buckets of this size, counted one bucket at a time."""
_seal_lock = threading.Lock()
_LEAF_COLUMNS = ["LeafIndex", "RecordId", "RowHash", "Kind", "Timestamp", "LeafHash"]


def default_origin(store: Store) -> str:
    """The checkpoint origin used when none is given: ``otel-audit.local/<database>``."""
    return f"otel-audit.local/{store.database}"


@dataclass(frozen=True)
class SealResult:
    """What one :func:`seal` did."""

    sealed: int
    tree_size: int
    root: bytes
    note: str | None


def seal(store: Store, signer: NoteSigner, *, origin: str | None = None, limit: int | None = None) -> SealResult:
    """Append the unsealed records to the tree and sign a checkpoint of it.

    Args:
        store: the audit store.
        signer: the checkpoint signing key.
        origin: the checkpoint origin line (default :func:`default_origin`).
        limit: seal at most this many records now (the rest go to the next call).

    Returns:
        How many records were sealed, and the new tree size, root and signed note (``None``
        when there was nothing to seal).

    Raises:
        SealError: the stored tree no longer matches its last checkpoint (run ``verify``).
    """
    origin = origin or default_origin(store)
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be >= 1, not {limit}")
    with _seal_lock:
        compact = CompactRange()
        checkpoints = load_checkpoints(store)
        last = checkpoints[-1] if checkpoints else None
        signed_root = compact.root().hex() if last is not None and last.tree_size == 0 else None
        _, blocks = store.query_blocks(query_sql("seal_leaf_hashes"))  # streamed: memory holds the compact range
        for block in blocks:
            for (leaf_hex,) in block:
                compact.append(bytes.fromhex(leaf_hex))
                if last is not None and compact.size == last.tree_size:
                    signed_root = compact.root().hex()
        if last is not None and signed_root != last.root_hex:
            raise SealError(
                f"the stored tree does not match its checkpoint of size {last.tree_size}; "
                "run `otel-audit verify` before sealing more"
            )
        if compact.size and (last is None or compact.size != last.tree_size):
            # Leaves without a checkpoint (a sealer stopped between the two inserts): sign them alone first.
            _sign(store, signer, origin, compact)
        start = compact.size
        for chunk in _unsealed(store, limit or _NO_LIMIT, leaves=compact.size):
            first = compact.size
            for leaf in chunk:
                compact.append(bytes.fromhex(leaf.leaf_hash))
            store.insert_columns(
                "audit_seal_leaves",
                [list(range(first, compact.size)), *(list(column) for column in zip(*chunk, strict=True))],
                _LEAF_COLUMNS,
            )
        if compact.size == start:
            return SealResult(0, compact.size, compact.root(), None)
        note = _sign(store, signer, origin, compact)
        return SealResult(compact.size - start, compact.size, compact.root(), note)


class _Leaf(NamedTuple):
    """A record about to be sealed, as its ``audit_seal_leaves`` row is written: the fields are
    :data:`_LEAF_COLUMNS` after ``LeafIndex``, in that order (:func:`seal` inserts them as they
    are). A window holds these, not the records' content."""

    record_id: str
    row_hash: str
    kind: str
    timestamp: str
    leaf_hash: str


def _sealing_order(leaf: _Leaf) -> tuple[str, str, str]:
    return leaf.timestamp, leaf.record_id, leaf.row_hash


def _unsealed(store: Store, limit: int, *, leaves: int) -> Iterator[list[_Leaf]]:
    """The first *limit* unsealed predictions and audit events together, in sealing order
    (``Timestamp``, ``RecordId``, ``RowHash``), hashed, in chunks of at most :data:`SEAL_CHUNK_ROWS`.

    They are read in windows of whole UTC days holding about :data:`SEAL_CHUNK_ROWS` unsealed
    rows (only days that have some; a bigger day in spans cut at its rows' timestamps), the two
    tables' sorted lists merged in each: memory holds one window, not every unsealed record (the
    engine would hold them all to sort them). The days are counted by :func:`unsealed_per_day`."""
    days = unsealed_per_day(store, leaves=leaves)
    left = limit
    for since, until, rows in row_windows(store, days, EPOCH, FAR_FUTURE, SEAL_CHUNK_ROWS):
        if not rows:
            continue
        window = {"since": since, "until": until, "limit": left}
        predictions = _prediction_leaves(store, window)
        events = read_hashed(store, "seal_unsealed_events", window, _event_leaf)
        ordered = list(itertools.islice(heapq.merge(predictions, events, key=_sealing_order), left))
        for first in range(0, len(ordered), SEAL_CHUNK_ROWS):
            yield ordered[first : first + SEAL_CHUNK_ROWS]
        left -= len(ordered)
        if left <= 0:
            return


def unsealed_per_day(store: Store, *, leaves: int) -> list[tuple[Any, int]]:
    """The unsealed rows per UTC day, ``(day, rows)`` in order, counted in key buckets of about
    :data:`SEAL_BUCKET_LEAVES` of the tree's *leaves* (the engine holds one bucket's keys at a time)."""
    buckets = -(-leaves // SEAL_BUCKET_LEAVES) or 1
    per_day: dict[Any, int] = defaultdict(int)
    for bucket in range(buckets):
        for day, rows in store.query(query_sql("seal_unsealed_per_day"), {"buckets": buckets, "bucket": bucket}).rows:
            per_day[day] += int(rows)
    return sorted(per_day.items())


def _prediction_leaves(store: Store, window: dict[str, Any]) -> list[_Leaf]:
    """The window's unsealed predictions in sealing order (``seal_unsealed``: ids and the
    engine's leaf hash); the rows the engine did not hash are read whole and hashed here."""
    rows = store.query(query_sql("seal_unsealed"), window, settings=HASH_BEFORE_SORTING).rows
    hashed_here: dict[tuple[str, str], str] = {}
    if not all(engine_hash for *_, engine_hash in rows):
        bounds = {"since": window["since"], "until": window["until"]}
        hashed_here = dict(read_hashed(store, "seal_unsealed_rows", bounds, _hashed_here))
    leaves = []
    for timestamp, record_id, row_hash, _, engine_hash in rows:
        digest = engine_hash or hashed_here.get((record_id, row_hash))
        if digest is None:
            raise SealError(f"record {record_id} changed while it was sealed; run `otel-audit seal` again")
        leaves.append(_Leaf(record_id, row_hash, "", timestamp, digest))
    return leaves


def _event_leaf(row: dict[str, Any]) -> _Leaf:
    return _Leaf(row["record_id"], row["row_hash"], record_kind(row), row["timestamp"], leaf_hash(row).hex())


def _hashed_here(row: dict[str, Any]) -> tuple[tuple[str, str], str]:
    return (row["record_id"], row["row_hash"]), leaf_hash(row).hex()


def _sign(store: Store, signer: NoteSigner, origin: str, compact: CompactRange) -> str:
    root = compact.root()
    note = sign_note(format_checkpoint(origin, compact.size, root), signer)
    store.insert_columns(
        "audit_seal_checkpoints", [[compact.size], [root.hex()], [note]], ["TreeSize", "RootHash", "Note"]
    )
    return note
