"""Seal ``audit_predictions`` into a Merkle tree with signed checkpoints, and verify it.

Sealing order: the records not yet in the tree, by ``Timestamp`` then ``RecordId``, one per
stored record (``RecordId``, ``RowHash``): at-least-once duplicates are sealed once, and two
different rows under one id are each sealed (and reported by :func:`verify` as conflicting).
Each :func:`seal` appends one batch and signs one checkpoint over the whole tree; a record that
arrives after its time was sealed goes into the next batch, so nothing is skipped. One sealer per
store at a time (``serve`` or a scheduled ``otel-audit seal``); a lock serializes sealers inside
one process.

:func:`verify` trusts nothing in the store: it recomputes every leaf from the stored records,
every root from the leaves, checks every checkpoint's signature, and reports problems ordered
by tree position, so the first one names the first bad record. The store alone cannot show that
its newest batches were deleted together with their leaves and checkpoints (what is left is a
valid, smaller tree), so :func:`verify` can pin a head published earlier: a signed checkpoint
whose root the stored leaves must still hash to, or a minimum tree size.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from otel_audit.answer.queries import EPOCH, FAR_FUTURE, to_utc
from otel_audit.seal._errors import NoteError, SealError
from otel_audit.seal.checkpoint import (
    Checkpoint,
    NoteSigner,
    NoteVerifier,
    format_checkpoint,
    open_note,
    parse_checkpoint,
    sign_note,
)
from otel_audit.seal.leaf import is_erased, leaf_hash, leaf_hashes
from otel_audit.seal.merkle import CompactRange
from otel_audit.store.connect import Store
from otel_audit.store.sql import query_sql

__all__ = [
    "Problem",
    "SealResult",
    "VerifyReport",
    "default_origin",
    "load_checkpoints",
    "load_leaves",
    "seal",
    "verify",
]

_NO_LIMIT = 2**62
_seal_lock = threading.Lock()
_LEAF_COLUMNS = ["LeafIndex", "RecordId", "RowHash", "Timestamp", "LeafHash"]


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
        for (leaf_hex,) in store.query(query_sql("seal_leaf_hashes")).rows:
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
        rows = store.query(query_sql("seal_unsealed"), {"limit": limit or _NO_LIMIT}).dicts()
        if not rows:
            root = compact.root()
            return SealResult(0, compact.size, root, None)
        start = compact.size
        hashes = []
        for row in rows:
            digest = leaf_hash(row)
            hashes.append(digest.hex())
            compact.append(digest)
        store.insert_columns(
            "audit_seal_leaves",
            [
                list(range(start, start + len(rows))),
                [row["record_id"] for row in rows],
                [row["row_hash"] for row in rows],
                [row["timestamp"] for row in rows],
                hashes,
            ],
            _LEAF_COLUMNS,
        )
        note = _sign(store, signer, origin, compact)
        return SealResult(len(rows), compact.size, compact.root(), note)


def _sign(store: Store, signer: NoteSigner, origin: str, compact: CompactRange) -> str:
    root = compact.root()
    note = sign_note(format_checkpoint(origin, compact.size, root), signer)
    store.insert_columns(
        "audit_seal_checkpoints", [[compact.size], [root.hex()], [note]], ["TreeSize", "RootHash", "Note"]
    )
    return note


@dataclass(frozen=True)
class Problem:
    """One verification failure, located in the tree when possible."""

    kind: str
    record_id: str
    leaf_index: int | None
    detail: str
    rank: float | None = field(default=None, compare=False, repr=False)
    """Sort position in the tree when it differs from leaf_index (a range-wide problem sorts after
    the specific problems of its range)."""

    def __str__(self) -> str:
        if not self.record_id and self.leaf_index is None:
            return f"tree: {self.kind}: {self.detail}"
        where = f"record {self.record_id or '?'}" + (
            f" (leaf {self.leaf_index})" if self.leaf_index is not None else ""
        )
        return f"{where}: {self.kind}: {self.detail}"


@dataclass
class VerifyReport:
    """The result of :func:`verify`."""

    records_checked: int = 0
    leaves: int = 0
    checkpoints: int = 0
    tree_size: int = 0
    root: str = ""
    origin: str = ""
    unsealed: int = 0
    erased_records: int = 0
    erasures_logged: int = 0
    last_erasure: dt.datetime | None = None
    signatures_checked: bool = False
    pinned_tree_size: int | None = None
    """The size of the published head the tree was checked against (``--checkpoint``/``--min-tree-size``)."""
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems

    @property
    def first_bad(self) -> Problem | None:
        """The problem earliest in the tree (then unsealed records, by time)."""
        return self.problems[0] if self.problems else None

    def as_dict(self) -> dict[str, Any]:
        """Plain data for the JSON report."""
        return {
            "ok": self.ok,
            "first_bad_record": self.first_bad.record_id if self.first_bad else None,
            "first_problem": str(self.first_bad) if self.first_bad else None,
            "records_checked": self.records_checked,
            "leaves": self.leaves,
            "checkpoints": self.checkpoints,
            "tree_size": self.tree_size,
            "root": self.root,
            "origin": self.origin,
            "unsealed_records": self.unsealed,
            "erased_records": self.erased_records,
            "erasures_logged": self.erasures_logged,
            "last_erasure": self.last_erasure,
            "signatures_checked": self.signatures_checked,
            "pinned_tree_size": self.pinned_tree_size,
            "problems": [str(problem) for problem in self.problems],
        }


def verify(  # noqa: PLR0912, PLR0915 - one pass per kind of check, kept together on purpose
    store: Store,
    verifier: NoteVerifier | None,
    *,
    since: Any = None,
    until: Any = None,
    allow_unsealed: bool = False,
    pinned: Checkpoint | None = None,
    min_tree_size: int = 0,
    progress: Callable[[str, int], None] | None = None,
) -> VerifyReport:
    """Recompute the tree from the stored records and check it against the signed checkpoints.

    Args:
        store: the audit store.
        verifier: the checkpoint verifier key; ``None`` skips signature checks (reported).
        since: check records from this time on (leaves of older records are still hashed into
            the roots, but their records may be gone, e.g. after retention).
        until: check records before this time.
        allow_unsealed: do not count records (and leaves) not yet covered by a checkpoint as
            problems, e.g. while a scheduled sealer lags.
        pinned: a checkpoint published earlier (its signature already checked by the caller):
            the newest stored checkpoint must cover at least its tree size, and the first
            ``pinned.size`` stored leaves must hash to its root (the tree only grew since).
        min_tree_size: the newest stored checkpoint must cover at least this many leaves.
        progress: called as ``progress(description, total)`` after each page of leaves and each
            window of records read (``total`` pages and windows in all), e.g. for a progress bar.

    Returns:
        A :class:`VerifyReport`; its ``problems`` are ordered by tree position.
    """
    if min_tree_size < 0:
        raise ValueError(f"min_tree_size must be >= 0, not {min_tree_size}")
    start, end = to_utc(since, EPOCH), to_utc(until, FAR_FUTURE)
    report = VerifyReport(signatures_checked=verifier is not None)
    problems: list[Problem] = []
    # Leaves as small tuples in tree order (rows come ordered by LeafIndex): a dict per leaf
    # would take about 1 KB, too much for tens of millions of leaves.
    ordered: list[_Leaf | None] = []
    span = int(store.query(query_sql("seal_leaf_span")).rows[0][0])
    windows = list(_windows(store, start, end))
    pages = range(0, span, VERIFY_WINDOW_ROWS * 10)
    step = progress or (lambda description, total: None)
    for first in pages:
        page = {"first": first, "count": VERIFY_WINDOW_ROWS * 10}
        for leaf_index, record_id, timestamp, leaf_hash_hex in store.query(query_sql("seal_leaves_page"), page).rows:
            index = int(leaf_index)
            report.leaves += 1
            if index < len(ordered):
                problems.append(Problem("inserted leaf", record_id, index, "two leaves share this index"))
            else:
                ordered.extend([None] * (index + 1 - len(ordered)))
            ordered[index] = _Leaf(record_id, timestamp, leaf_hash_hex)
        step("leaves", len(pages) + len(windows))
    size = len(ordered)

    checkpoints = load_checkpoints(store)
    report.checkpoints = len(checkpoints)
    parsed: list[tuple[StoredCheckpoint, Checkpoint | None]] = []
    origins = set()
    for stored in checkpoints:
        checkpoint: Checkpoint | None = None
        try:
            text = open_note(stored.note, verifier) if verifier else stored.note.partition("\n\n")[0] + "\n"
            checkpoint = parse_checkpoint(text)
            origins.add(checkpoint.origin)
            if checkpoint.size != stored.tree_size or checkpoint.root.hex() != stored.root_hex:
                raise NoteError("the checkpoint row's size or root differs from its signed note")
        except NoteError as error:
            first = _range_start(checkpoints, stored)
            problems.append(
                Problem("bad checkpoint", _record_at(ordered, first), first, f"tree size {stored.tree_size}: {error}")
            )
            checkpoint = None
        parsed.append((stored, checkpoint))
    if len(origins) > 1:
        problems.append(Problem("bad checkpoint", "", 0, f"checkpoints name several origins: {sorted(origins)}"))
    report.origin = next(iter(origins), "")

    # Roots: stream the stored leaves through a compact range, compare at each checkpoint size.
    compact = CompactRange()
    sizes = sorted({stored.tree_size for stored, _ in parsed})
    expected: dict[int, list[bytes]] = defaultdict(list)
    for stored, checkpoint in parsed:
        expected[stored.tree_size].append(checkpoint.root if checkpoint else bytes.fromhex(stored.root_hex))
    wanted = set(expected) | ({pinned.size} if pinned else set())
    roots: dict[int, bytes] = {}
    if 0 in wanted:
        roots[0] = compact.root()
    for index, leaf in enumerate(ordered):
        if leaf is None:
            problems.append(Problem("deleted leaf", "", index, "this tree position has no stored leaf"))
            compact.append(b"\x00" * 32)
        else:
            compact.append(bytes.fromhex(leaf.leaf_hash))
        if compact.size in wanted:
            roots[compact.size] = compact.root()
    previous = 0
    for tree_size in sizes:
        if tree_size > size:
            problems.append(
                Problem(
                    "deleted leaf",
                    _record_at(ordered, size),
                    size,
                    f"a checkpoint covers {tree_size} leaves but only {size} are stored",
                )
            )
        elif any(root != roots.get(tree_size) for root in expected[tree_size]):
            problems.append(
                Problem(
                    "root mismatch",
                    _record_at(ordered, previous),
                    previous,
                    f"the leaves do not hash to the signed root of tree size {tree_size}",
                    rank=tree_size - 0.5,
                )
            )
        # Inside one seal batch, leaves follow (Timestamp, RecordId): a swap shows up here.
        for index in range(previous + 1, min(tree_size, size)):
            before, leaf = ordered[index - 1], ordered[index]
            if before and leaf and (leaf.timestamp, leaf.record_id) < (before.timestamp, before.record_id):
                problems.append(Problem("reordered", leaf.record_id, index, "leaf is out of sealing order"))
        previous = tree_size
    last_size = sizes[-1] if sizes else 0
    report.tree_size = last_size
    report.root = roots.get(last_size, b"").hex() if sizes else ""
    if size > last_size and not allow_unsealed:
        problems.append(
            Problem("unsigned leaf", _record_at(ordered, last_size), last_size, "leaves beyond the last checkpoint")
        )
    problems.extend(_pinned_problems(report, roots, pinned, min_tree_size))

    # Records: every stored row must hash to a leaf of its id; every leaf in the window needs a
    # row. A row is matched by its leaf hash, so two rows under one id (a forged copy, two senders
    # reusing an id) each find their own leaf and neither is called modified; the shared id is
    # reported as conflicting copies. Read in windows of about VERIFY_WINDOW_ROWS rows, so memory
    # holds the leaves, not the records with their inputs (several KB each as Python objects).
    first_leaf: dict[str, int] = {}
    more_leaves: dict[str, list[int]] = defaultdict(list)
    for index, leaf in enumerate(ordered):
        if leaf is not None:
            if leaf.record_id in first_leaf:
                more_leaves[leaf.record_id].append(index)
            else:
                first_leaf[leaf.record_id] = index

    def leaves_of(record_id: str) -> list[int]:
        first = first_leaf.get(record_id)
        return [] if first is None else [first, *more_leaves.get(record_id, ())]

    matched = bytearray(size)
    row_hash_of: dict[str, str] = {}
    copies: dict[str, dict[str, str]] = {}
    unmatched: dict[str, list[str]] = defaultdict(list)
    erased: set[str] = set()
    for window_start, window_end in windows:
        step("records", len(pages) + len(windows))
        for row in store.query(query_sql("seal_records"), {"since": window_start, "until": window_end}).dicts():
            report.records_checked += 1
            record_id, row_hash = row["record_id"], row["row_hash"]
            seen = row_hash_of.setdefault(record_id, row_hash)
            if seen != row_hash:
                copies.setdefault(record_id, {seen: ""})[row_hash] = row["timestamp"]
            if is_erased(row):
                erased.add(record_id)
            digests = [digest.hex() for digest in leaf_hashes(row)]
            positions = leaves_of(record_id)
            position = next((i for i in positions if ordered[i].leaf_hash in digests), None)  # type: ignore[union-attr]
            if position is None:
                unmatched[record_id].append(row["timestamp"])
                continue
            matched[position] = 1
            sealed = ordered[position]
            assert sealed is not None
            if row["timestamp"] != sealed.timestamp:
                problems.append(Problem("modified leaf", record_id, position, "leaf timestamp was altered"))
    start_text, end_text = _text(start), _text(end)
    unsealed_at: dict[str, str] = {}
    for record_id, timestamps in unmatched.items():
        positions = leaves_of(record_id)
        loose = [i for i in positions if not matched[i] and start_text <= ordered[i].timestamp < end_text]  # type: ignore[union-attr]
        for position, _ in zip(loose, timestamps, strict=False):
            matched[position] = 1  # the leaf is accounted for: its row is there, changed
            problems.append(
                Problem("modified record", record_id, position, "stored record differs from the sealed one")
            )
        for timestamp in timestamps[len(loose) :]:
            unsealed_at[record_id] = min(timestamp, unsealed_at.get(record_id, timestamp))
    for record_id, variants in sorted(copies.items()):
        positions = leaves_of(record_id)
        problems.append(
            Problem(
                "conflicting copies",
                record_id,
                min(positions) if positions else None,
                f"{len(variants)} different records share this id; each is kept and counted "
                "(a forged copy, or senders reusing an id): see `otel-audit report conflicts`",
            )
        )
    for index, leaf in enumerate(ordered):
        if leaf is not None and not matched[index] and start_text <= leaf.timestamp < end_text:
            problems.append(Problem("deleted record", leaf.record_id, index, "sealed record is missing"))
    report.unsealed = len(unsealed_at)
    if not allow_unsealed:
        problems.extend(
            Problem(
                "unsealed record", record_id, None, f"record of {timestamp} is in no checkpoint (inserted, or run seal)"
            )
            for timestamp, record_id in sorted((at, record_id) for record_id, at in unsealed_at.items())
        )
    # Erasures: tombstones must be logged.
    logged = store.query(query_sql("seal_erasures")).dicts()
    logged_ids = {row["RecordId"] for row in logged}
    report.erasures_logged = len(logged)
    report.last_erasure = max((row["ErasedAt"] for row in logged), default=None)
    report.erased_records = len(erased)
    problems.extend(
        Problem("unlogged erasure", record_id, first_leaf.get(record_id), "content erased outside `erase`")
        for record_id in sorted(erased - logged_ids)
    )
    problems.sort(key=lambda problem: _rank(problem, size))
    report.problems = problems
    return report


def _pinned_problems(
    report: VerifyReport, roots: dict[int, bytes], pinned: Checkpoint | None, min_tree_size: int
) -> list[Problem]:
    """The published head (*pinned*, *min_tree_size*) against the stored tree of *report*."""
    floor = max(min_tree_size, pinned.size if pinned else 0)
    if pinned is None and not min_tree_size:
        return []
    report.pinned_tree_size = floor
    problems = []
    if report.tree_size < floor:
        detail = (
            f"the newest stored checkpoint covers {report.tree_size} leaves, the published head {floor}: "
            "later batches were deleted with their leaves and checkpoints"
        )
        problems.append(Problem("truncated tree", "", None, detail, rank=report.tree_size))
    if pinned is None:
        return problems
    if report.origin and pinned.origin != report.origin:
        detail = f"the pinned checkpoint is of origin {pinned.origin!r}, the store's of {report.origin!r}"
        problems.append(Problem("foreign checkpoint", "", None, detail, rank=-1))
    root = roots.get(pinned.size)
    if root is not None and root != pinned.root:
        detail = (
            f"the first {pinned.size} stored leaves do not hash to the pinned checkpoint's root: "
            "the tree was rewritten since that head was published"
        )
        problems.append(Problem("forked tree", "", None, detail, rank=pinned.size - 0.5))
    return problems


class _Leaf(NamedTuple):
    record_id: str
    timestamp: str
    leaf_hash: str


VERIFY_WINDOW_ROWS = 20_000
"""Stored rows :func:`verify` reads at once (whole UTC days; a bigger day is read whole); it
reads leaves in pages of ten times as many."""


def _windows(store: Store, start: dt.datetime, end: dt.datetime) -> Iterable[tuple[dt.datetime, dt.datetime]]:
    """Consecutive ``[from, to)`` covering ``[start, end)``, cut at UTC days, each holding about
    :data:`VERIFY_WINDOW_ROWS` stored rows."""
    days = store.query(query_sql("seal_rows_per_day"), {"since": start, "until": end}).rows
    window_start, rows = start, 0
    for day, count in days:
        if rows and rows + count > VERIFY_WINDOW_ROWS:
            yield window_start, max(window_start, day)
            window_start, rows = max(window_start, day), 0
        rows += count
    yield window_start, end


def _rank(problem: Problem, size: int) -> float:
    if problem.rank is not None:
        return problem.rank
    return problem.leaf_index if problem.leaf_index is not None else size


def _text(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond:06d}000"


def _range_start(checkpoints: Iterable[StoredCheckpoint], stored: StoredCheckpoint) -> int:
    smaller = [other.tree_size for other in checkpoints if other.tree_size < stored.tree_size]
    return max(smaller, default=0)


def _record_at(ordered: list[_Leaf | None], index: int) -> str:
    leaf = ordered[index] if 0 <= index < len(ordered) else None
    return leaf.record_id if leaf else ""
