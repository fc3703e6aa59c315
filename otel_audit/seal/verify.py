"""Verify the seal: recompute the tree from the stored records and check it against the signed checkpoints.

Usage::

    report = verify(store, verifier)            # otel-audit verify
    report.ok, report.first_bad, report.problems

:func:`verify` trusts nothing in the store: it recomputes every leaf from the stored records,
every root from the leaves, checks every checkpoint's signature, and reports problems ordered
by tree position, so the first one names the first bad record. The store alone cannot show that
its newest batches were deleted together with their leaves and checkpoints (what is left is a
valid, smaller tree), so :func:`verify` can pin a head published earlier: a signed checkpoint
whose root the stored leaves must still hash to, or a minimum tree size.

One function per check, run in this order (each problem's *kind* in quotes):

* :func:`_read_leaves`: every stored leaf has a tree position of its own ("inserted leaf");
* :func:`_check_checkpoints`: every checkpoint's signature, and its row against its signed note;
  all name one origin ("bad checkpoint");
* :func:`_check_roots`: every tree position has a leaf, every signed tree size is stored
  ("deleted leaf"), and the leaves hash to every signed root ("root mismatch");
* :func:`_check_sealing_order`: inside one seal batch, leaves follow ``(Timestamp, RecordId)``
  ("reordered");
* :func:`_check_pinned_head`: the published head is still covered and still the tree's prefix
  ("truncated tree", "foreign checkpoint", "forked tree");
* :func:`_match_records`: every stored row hashes to a leaf of its id, sealed at its time
  ("modified leaf");
* :func:`_check_modified_records`: a row that matches no leaf of its id while one of them is
  unmatched ("modified record");
* :func:`_check_conflicting_copies`: two different rows under one id ("conflicting copies");
* :func:`_check_deleted_records`: every leaf of the period has its row ("deleted record");
* :func:`_check_unsealed_records`: every row is sealed ("unsealed record"); access events (every
  read of the trail writes one, this verification's own included) not sealed yet are only counted.
  A leaf beyond the newest checkpoint seals nothing (a seal in flight writes its leaves before its
  checkpoint; one stopped between the two leaves them for the next seal to sign): such leaves are
  counted, and their records are unsealed like records with no leaf; such a leaf that names no
  stored record was put there by hand ("unsigned leaf");
* :func:`_check_erasures`: every erased record is in the erasure log ("unlogged erasure").

Memory stays flat however large the tree: one pass streams the leaves in tree order through a
compact range (the tree checks), the records are read in time windows and hashed, and both are
spooled by record id into partitions of about :data:`VERIFY_PARTITION_ROWS` (files in the
temporary directory, deleted at the end), which the record checks then read one at a time.

Audit events (``audit_events``: reviews, ground truth, feedback, access events) are sealed in the
same tree and checked by the same functions; a problem with an event names it by its kind
(``review <record id>: modified record: …``), a prediction as ``record <record id>``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import heapq
import itertools
import marshal
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from otel_audit import semconv
from otel_audit.periods import EPOCH, FAR_FUTURE, stored_time_text, to_utc
from otel_audit.seal._errors import NoteError
from otel_audit.seal.checkpoint import Checkpoint, NoteVerifier, open_note, parse_checkpoint
from otel_audit.seal.leaf import is_erased, is_tombstone, leaf_hash, leaf_hashes, record_kind
from otel_audit.seal.merkle import CompactRange
from otel_audit.seal.stored import (
    HASH_BEFORE_SORTING,
    StoredCheckpoint,
    load_checkpoints,
    read_ahead,
    read_hashed,
    row_windows,
)
from otel_audit.store.connect import Store
from otel_audit.store.sql import query_sql

__all__ = ["VERIFY_PAGE_LEAVES", "VERIFY_PARTITION_ROWS", "VERIFY_WINDOW_ROWS", "Problem", "VerifyReport", "verify"]

VERIFY_WINDOW_ROWS = 50_000
"""Stored rows :func:`verify` reads at once (whole UTC days, a bigger day cut at its rows'
timestamps: :func:`~otel_audit.seal.stored.row_windows`), as ids and leaf hashes: the few whole
records hashed in Python are held a block at a time. Each read runs while the one before is
processed, so memory holds two at a time."""

VERIFY_PAGE_LEAVES = 100_000
"""Leaves :func:`verify` reads at once, in tree order (two pages in memory, like windows)."""

_LEGACY_IDS_PER_READ = 20_000
"""Record ids whose rows :func:`verify` reads again whole at once, to match older leaf versions."""

VERIFY_PARTITION_ROWS = 100_000
"""About how many stored rows (and as many leaves) :func:`verify` holds in memory at once: rows
and leaves are split by record id into partitions of this size (in files under the temporary
directory), and matched one partition at a time, so memory stays flat however large the tree."""


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
    subject: str = field(default="record", compare=False)
    """What the record is: ``record`` (a prediction), or an audit event's kind (``review``,
    ``ground truth``, ``feedback``, ``access event``)."""

    def __str__(self) -> str:
        if not self.record_id and self.leaf_index is None:
            return f"tree: {self.kind}: {self.detail}"
        where = f"{self.subject} {self.record_id or '?'}" + (
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
    unsealed_access_events: int = 0
    """Access events (reads of the trail) not sealed yet: expected until the next seal, not a problem."""
    unsigned_leaves: int = 0
    """Leaves beyond the newest checkpoint (a seal in flight, or stopped before signing): the next
    seal signs them; until then their records count as unsealed."""
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
            "first_bad_subject": self.first_bad.subject if self.first_bad else None,
            "first_problem": str(self.first_bad) if self.first_bad else None,
            "records_checked": self.records_checked,
            "leaves": self.leaves,
            "checkpoints": self.checkpoints,
            "tree_size": self.tree_size,
            "root": self.root,
            "origin": self.origin,
            "unsealed_records": self.unsealed,
            "unsealed_access_events": self.unsealed_access_events,
            "unsigned_leaves": self.unsigned_leaves,
            "erased_records": self.erased_records,
            "erasures_logged": self.erasures_logged,
            "last_erasure": self.last_erasure,
            "signatures_checked": self.signatures_checked,
            "pinned_tree_size": self.pinned_tree_size,
            "problems": [str(problem) for problem in self.problems],
        }


def verify(
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
        progress: called as ``progress(description, total)`` after each page of leaves, each
            window of records and each partition matched (``total`` steps in all), e.g. for a
            progress bar.

    Returns:
        A :class:`VerifyReport`; its ``problems`` are ordered by tree position.
    """
    if min_tree_size < 0:
        raise ValueError(f"min_tree_size must be >= 0, not {min_tree_size}")
    start, end = to_utc(since, EPOCH), to_utc(until, FAR_FUTURE)
    report = VerifyReport(signatures_checked=verifier is not None)
    checkpoints = load_checkpoints(store)
    report.checkpoints = len(checkpoints)
    sizes = sorted({stored.tree_size for stored in checkpoints})
    span = int(store.query(query_sql("seal_leaf_span")).rows[0][0])
    windows = list(_windows(store, start, end))
    period_rows = sum(rows for _, _, rows in windows)
    page_rows = VERIFY_PAGE_LEAVES
    count = max(1, -(-max(span, period_rows) // VERIFY_PARTITION_ROWS))
    steps = len(range(0, span, page_rows)) + len(windows) + count
    step = progress or (lambda description, total: None)

    last_size = sizes[-1] if sizes else 0
    with _Partitions(count) as partitions:
        wanted = set(sizes) | ({pinned.size} if pinned else set())
        tree = _read_tree(
            store,
            span,
            sizes,
            page_rows=page_rows,
            wanted=wanted,
            partitions=partitions,
            step=lambda: step("leaves", steps),
        )
        report.leaves = tree.read
        parsed, origins, found = _check_checkpoints(checkpoints, tree, verifier)
        problems = tree.inserted + found
        report.origin = next(iter(origins), "")
        problems += _check_roots(parsed, sizes, tree, pinned)
        problems += tree.reordered
        report.tree_size = last_size
        report.root = tree.roots.get(last_size, b"").hex() if sizes else ""
        report.unsigned_leaves = max(0, tree.size - last_size)
        problems += _check_pinned_head(report, tree.roots, pinned, min_tree_size)

        _hash_records(store, windows, partitions, report, lambda: step("records", steps))
        logged = _read_erasures(store, report)
        named = {problem.record_id for problem in problems}
        results = _Results()
        for index in range(count):
            leaves, rows = partitions.read(index)
            unsigned = {i: leaf for i, leaf in leaves.items() if i >= last_size}
            signed = {i: leaf for i, leaf in leaves.items() if i < last_size} if unsigned else leaves
            _check_partition(
                store, signed, rows, period=(start, end), logged=logged, named=named, report=report, results=results
            )
            orphans = _check_unsigned_leaves(unsigned, rows, period=(start, end))
            results.orphans += orphans
            results.leaf_kinds.update((p.record_id, unsigned[p.leaf_index or 0].kind) for p in orphans)
            step("matching", steps)
    problems += results.ordered(allow_unsealed)
    problems = _name_subjects(problems, results.kinds, results.leaf_kinds)
    problems.sort(key=lambda problem: _rank(problem, tree.size))
    report.problems = problems
    return report


_ZERO_LEAF = b"\x00" * 32


class _Leaf(NamedTuple):
    record_id: str
    timestamp: str
    leaf_hash: str
    kind: str = ""


class _Row(NamedTuple):
    """What matching needs of one stored row (its leaf hashed, its content dropped)."""

    record_id: str
    timestamp: str
    row_hash: str
    kind: str
    erased: bool
    leaf_hash: str
    """The hex leaf hash in the current version (:func:`~otel_audit.seal.leaf.leaf_hash`)."""
    legacy: bool
    """The row may also have been sealed in an older leaf version (a prediction, label not erased)."""


_SUBJECTS = {"audit.review": "review", "audit.ground_truth": "ground truth", "audit.feedback": "feedback"}


def _subject(kind: str) -> str:
    return _SUBJECTS.get(kind, "access event" if kind == "audit.access" else f"event {kind}")


def _name_subjects(problems: list[Problem], kinds: dict[str, str], leaf_kinds: dict[str, str]) -> list[Problem]:
    """Name each problem about an audit event by the event's kind (from its row, else its leaf)."""
    named = []
    for problem in problems:
        kind = kinds.get(problem.record_id) or leaf_kinds.get(problem.record_id)
        named.append(dataclasses.replace(problem, subject=_subject(kind)) if kind else problem)
    return named


class _Partitions:
    """Leaves and rows split by record id into *count* partitions, each spooled to its own file in
    a temporary directory and read back one partition at a time. A chunk is one marshalled list of
    plain tuples (strings, ints and bools, a few bytes each beyond their text): measured on 100k
    rows, 7 ms to write where pickling objects took seconds and marshalling the same values as
    columns 110 ms. A single partition stays in memory (it is no bigger than one file)."""

    def __init__(self, count: int) -> None:
        self.count = count
        self._folder = tempfile.TemporaryDirectory(prefix="otel-audit-verify-")
        self._pending: dict[tuple[str, int], list[Any]] = defaultdict(list)

    def __enter__(self) -> _Partitions:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pending.clear()
        self._folder.cleanup()

    def add_leaf(self, leaf: tuple[Any, ...]) -> None:
        """Add a leaf as read: ``(LeafIndex, RecordId, Timestamp, LeafHash, Kind)``."""
        self._pending["leaves", hash(leaf[1]) % self.count].append(leaf)

    def add_row(self, row: tuple[Any, ...]) -> None:
        """Add a row: a :class:`_Row`, or the plain tuple of its fields."""
        self._pending["rows", hash(row[0]) % self.count].append(row)

    def flush(self) -> None:
        """Write what was added since the last flush to the partitions' files."""
        if self.count == 1:
            return
        for (kind, index), items in self._pending.items():
            chunk = marshal.dumps([tuple(item) for item in items])  # a _Row as the plain tuple marshal takes
            with Path(self._folder.name, f"{kind}-{index}").open("ab") as stream:
                stream.write(len(chunk).to_bytes(8, "little") + chunk)
        self._pending.clear()

    def read(self, index: int) -> tuple[dict[int, _Leaf], list[_Row]]:
        """Partition *index*: its leaves by tree position (in tree order, as added), its rows in the
        order they were added."""
        leaves = {
            i: _Leaf(record_id, at, digest, kind) for i, record_id, at, digest, kind in self._load("leaves", index)
        }
        return leaves, list(map(_Row._make, self._load("rows", index)))

    def _load(self, kind: str, index: int) -> Iterator[tuple[Any, ...]]:
        path = Path(self._folder.name, f"{kind}-{index}")
        data = memoryview(path.read_bytes() if path.exists() else b"")
        at = 0
        while at < len(data):
            size = int.from_bytes(data[at : at + 8], "little")
            yield from marshal.loads(data[at + 8 : at + 8 + size])
            at += 8 + size
        yield from self._pending.pop((kind, index), ())


@dataclass
class _Tree:
    """What one pass over the stored leaves, in tree order, found."""

    size: int = 0
    """One past the highest stored tree position."""
    read: int = 0
    roots: dict[int, bytes] = field(default_factory=dict)
    """The root at each wanted tree size."""
    record_ids: dict[int, str] = field(default_factory=dict)
    """The record id at each position a range problem names (0 and every checkpoint size)."""
    inserted: list[Problem] = field(default_factory=list)
    gaps: list[Problem] = field(default_factory=list)
    reordered: list[Problem] = field(default_factory=list)

    def record_at(self, index: int) -> str:
        return self.record_ids.get(index, "")


def _read_tree(
    store: Store,
    span: int,
    sizes: list[int],
    *,
    page_rows: int,
    wanted: set[int],
    partitions: _Partitions,
    step: Callable[[], None],
) -> _Tree:
    """Stream the stored leaves in tree order through a compact range (roots at the *wanted*
    sizes), spool each to its partition, and find the positions two leaves share ("inserted
    leaf": the one read last stays), the positions with none ("deleted leaf"), and, inside one
    seal batch (between two checkpoint sizes), leaves out of ``(Timestamp, RecordId)`` order
    ("reordered"). Memory holds one page of leaves, not the tree."""
    tree = _Tree()
    compact = CompactRange()
    named = {0, *sizes}
    signed = sizes[-1] if sizes else 0
    if 0 in wanted:
        tree.roots[0] = compact.root()
    # A leaf as read: (LeafIndex, RecordId, Timestamp, LeafHash, Kind), spooled as such.
    previous: tuple[Any, ...] | None = None  # the leaf at position compact.size - 1 (None: none stored)

    def place(leaf: tuple[Any, ...]) -> None:
        nonlocal previous
        index, record_id, timestamp, leaf_hash_hex, _ = leaf
        while compact.size < index:
            tree.gaps.append(Problem("deleted leaf", "", compact.size, "this tree position has no stored leaf"))
            compact.append(_ZERO_LEAF)
            previous = None
            if compact.size in wanted:
                tree.roots[compact.size] = compact.root()
        # Inside one signed seal batch (a batch starts at 0 and at each checkpoint size).
        if (
            previous is not None
            and index < signed
            and index not in named
            and (timestamp, record_id) < (previous[2], previous[1])
        ):
            tree.reordered.append(Problem("reordered", record_id, index, "leaf is out of sealing order"))
        compact.append(bytes.fromhex(leaf_hash_hex))
        if index in named:
            tree.record_ids[index] = record_id
        if compact.size in wanted:
            tree.roots[compact.size] = compact.root()
        partitions.add_leaf(leaf)
        previous = leaf

    pending: tuple[Any, ...] | None = None
    sql = query_sql("seal_leaves_page")
    pages = read_ahead(
        functools.partial(store.query, sql, {"first": first, "count": page_rows}) for first in range(0, span, page_rows)
    )
    for result in pages:
        for leaf in result.rows:
            tree.read += 1
            if pending is not None and pending[0] == leaf[0]:
                tree.inserted.append(Problem("inserted leaf", leaf[1], leaf[0], "two leaves share this index"))
            elif pending is not None:
                place(pending)
            pending = leaf
        partitions.flush()
        step()
    if pending is not None:
        place(pending)
        partitions.flush()
    tree.size = compact.size
    return tree


def _check_checkpoints(
    checkpoints: list[StoredCheckpoint], tree: _Tree, verifier: NoteVerifier | None
) -> tuple[list[tuple[StoredCheckpoint, Checkpoint | None]], set[str], list[Problem]]:
    """Open every checkpoint's note (checking its signature when *verifier* is given) and compare
    it with its row; return each with its parsed checkpoint (``None`` if bad), the origins named,
    and the problems."""
    parsed: list[tuple[StoredCheckpoint, Checkpoint | None]] = []
    origins: set[str] = set()
    problems: list[Problem] = []
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
                Problem("bad checkpoint", tree.record_at(first), first, f"tree size {stored.tree_size}: {error}")
            )
            checkpoint = None
        parsed.append((stored, checkpoint))
    if len(origins) > 1:
        problems.append(Problem("bad checkpoint", "", 0, f"checkpoints name several origins: {sorted(origins)}"))
    return parsed, origins, problems


def _check_roots(
    parsed: list[tuple[StoredCheckpoint, Checkpoint | None]],
    sizes: list[int],
    tree: _Tree,
    pinned: Checkpoint | None,
) -> list[Problem]:
    """Every tree position has a leaf, every signed tree size is stored, and the leaves hash to
    every signed root."""
    problems = list(tree.gaps)
    expected: dict[int, list[bytes]] = defaultdict(list)
    for stored, checkpoint in parsed:
        expected[stored.tree_size].append(checkpoint.root if checkpoint else bytes.fromhex(stored.root_hex))
    previous = 0
    for tree_size in sizes:
        if tree_size > tree.size:
            problems.append(
                Problem(
                    "deleted leaf",
                    tree.record_at(tree.size),
                    tree.size,
                    f"a checkpoint covers {tree_size} leaves but only {tree.size} are stored",
                )
            )
        elif any(root != tree.roots.get(tree_size) for root in expected[tree_size]):
            problems.append(
                Problem(
                    "root mismatch",
                    tree.record_at(previous),
                    previous,
                    f"the leaves do not hash to the signed root of tree size {tree_size}",
                    rank=tree_size - 0.5,
                )
            )
        previous = tree_size
    return problems


def _check_pinned_head(
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


class _LeavesById:
    """The tree positions of each record id's leaves (one partition's): a dict entry per id, a
    list only for ids with several leaves."""

    def __init__(self, leaves: dict[int, _Leaf]) -> None:
        self.first: dict[str, int] = {}
        self._more: dict[str, list[int]] = defaultdict(list)
        for index, leaf in leaves.items():  # in tree order
            record_id = leaf.record_id
            if record_id in self.first:
                self._more[record_id].append(index)
            else:
                self.first[record_id] = index

    def positions(self, record_id: str) -> list[int]:
        """The positions of *record_id*'s leaves, first one first."""
        first = self.first.get(record_id)
        return [] if first is None else [first, *self._more.get(record_id, ())]


def _hash_records(
    store: Store,
    windows: list[tuple[dt.datetime, dt.datetime, int]],
    partitions: _Partitions,
    report: VerifyReport,
    step: Callable[[], None],
) -> None:
    """Read every stored row of the period in windows of about :data:`VERIFY_WINDOW_ROWS`, hashed
    (by the engine, or as the reader gets each block of whole rows), and spool what matching needs
    to its record id's partition."""
    for predictions, in_python, events in read_ahead(
        functools.partial(_read_window, store, {"since": since, "until": until}) for since, until, _ in windows
    ):
        # The engine hashes the leaves of most prediction rows (see seal.sealer); the others, and
        # the events, were hashed by _read_window. Predictions merged in the order of seal_records.sql.
        # An engine-hashed row holds no tombstone: not erased, and a prediction that may have been
        # sealed in an older leaf version.
        # Plain tuples of _Row's fields: the partition makes the _Row once, when it is read back.
        by_engine = [
            (record_id, timestamp, row_hash, "", False, engine, True)
            for timestamp, record_id, row_hash, _, engine in predictions
            if engine
        ]
        for row in itertools.chain(heapq.merge(by_engine, in_python, key=_sealing_order), events):
            partitions.add_row(row)
        report.records_checked += len(by_engine) + len(in_python) + len(events)
        partitions.flush()
        step()


def _read_window(store: Store, window: dict[str, Any]) -> tuple[list[tuple[Any, ...]], list[_Row], list[_Row]]:
    """One window's stored rows: the predictions with the engine's leaf hashes, those it could
    not hash (read whole only if there are any) and the audit events, hashed here."""
    predictions = store.query(query_sql("seal_record_hashes"), window, settings=HASH_BEFORE_SORTING).rows
    in_python = (
        read_hashed(store, "seal_records_in_python", window, _hashed_row)
        if not all(engine for *_, engine in predictions)
        else []
    )
    return predictions, in_python, read_hashed(store, "seal_event_records", window, _hashed_row)


def _hashed_row(row: dict[str, Any]) -> _Row:
    """What matching needs of a whole stored row, its leaf hashed here."""
    kind = record_kind(row)
    legacy = not kind and not is_tombstone(row["output_label"])
    return _Row(row["record_id"], row["timestamp"], row["row_hash"], kind, is_erased(row), leaf_hash(row).hex(), legacy)


def _sealing_order(row: tuple[Any, ...]) -> tuple[str, str]:
    """``(Timestamp, RecordId)`` of a :class:`_Row` or of the plain tuple of its fields."""
    return row[1], row[0]


@dataclass
class _Matching:
    """One partition's stored rows matched to its leaves by :func:`_match_records`."""

    matched: set[int] = field(default_factory=set)
    """The tree positions whose row was found."""
    unmatched: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    """Per record id, the timestamps of its rows that hash to none of its leaves."""
    copies: dict[str, dict[str, str]] = field(default_factory=dict)
    """Per record id stored as different rows, each row hash (with a timestamp)."""
    erased: set[str] = field(default_factory=set)
    """Record ids whose content was erased."""
    kinds: dict[str, str] = field(default_factory=dict)
    """Per audit event's record id, its event name (predictions are not listed)."""
    problems: list[Problem] = field(default_factory=list)


@dataclass
class _Results:
    """The problems found partition by partition, by check, and what names their subjects."""

    modified_leaves: list[Problem] = field(default_factory=list)
    modified_records: list[Problem] = field(default_factory=list)
    copies: list[Problem] = field(default_factory=list)
    deleted: list[Problem] = field(default_factory=list)
    unsealed_at: dict[str, str] = field(default_factory=dict)
    orphans: list[Problem] = field(default_factory=list)
    erasures: list[Problem] = field(default_factory=list)
    kinds: dict[str, str] = field(default_factory=dict)
    """Row kinds of the record ids problems name."""
    leaf_kinds: dict[str, str] = field(default_factory=dict)
    """Leaf kinds of the record ids problems name."""

    def ordered(self, allow_unsealed: bool) -> list[Problem]:
        """Every problem, the checks in their documented order (ties in tree position keep it)."""
        return [
            *self.modified_leaves,
            *self.modified_records,
            *sorted(self.copies, key=lambda problem: problem.record_id),
            *self.deleted,
            *_check_unsealed_records(self.unsealed_at, allow_unsealed),
            *sorted(self.orphans, key=lambda problem: problem.leaf_index or 0),
            *sorted(self.erasures, key=lambda problem: problem.record_id),
        ]


def _check_partition(
    store: Store,
    leaves: dict[int, _Leaf],
    rows: list[_Row],
    *,
    period: tuple[dt.datetime, dt.datetime],
    logged: set[str],
    named: set[str],
    report: VerifyReport,
    results: _Results,
) -> None:
    """Match one partition's rows to its leaves and run the record checks on it (every leaf and
    row of a record id is in the same partition); *named* are the record ids the tree's problems
    name, whose kinds are kept for naming subjects."""
    by_id = _LeavesById(leaves)
    matching = _match_records(store, rows, leaves, by_id, period)
    start_text, end_text = (stored_time_text(moment) for moment in period)
    modified, unsealed_at = _check_modified_records(matching, leaves, by_id, start_text, end_text)
    # Every read of the trail writes an access event, verify's own included: those not sealed yet
    # are counted, not called problems (a sealed one that changes or goes is still a problem).
    reads = {rid for rid in unsealed_at if matching.kinds.get(rid) == semconv.EVENT_ACCESS}
    report.unsealed_access_events += len(reads)
    unsealed_at = {rid: at for rid, at in unsealed_at.items() if rid not in reads}
    report.unsealed += len(unsealed_at)
    results.unsealed_at.update(unsealed_at)
    found = {
        "modified_leaves": matching.problems,
        "modified_records": modified,
        "copies": _check_conflicting_copies(matching.copies, by_id),
        "deleted": _check_deleted_records(leaves, matching.matched, start_text, end_text),
        "erasures": _check_erasures(matching.erased, logged, by_id, report),
    }
    subjects = set(named) | unsealed_at.keys()
    for check, problems in found.items():
        getattr(results, check).extend(problems)
        subjects.update(problem.record_id for problem in problems)
    for leaf in leaves.values():
        if leaf.kind and leaf.record_id in subjects:
            results.leaf_kinds[leaf.record_id] = leaf.kind
    for record_id, kind in matching.kinds.items():
        if record_id in subjects:
            results.kinds[record_id] = kind


def _match_records(
    store: Store,
    rows: list[_Row],
    leaves: dict[int, _Leaf],
    by_id: _LeavesById,
    period: tuple[dt.datetime, dt.datetime],
) -> _Matching:
    """Match every stored row of one partition to a leaf of its id by leaf hash.

    A row is matched by its leaf hash, so two rows under one id (a forged copy, two senders
    reusing an id) each find their own leaf and neither is called modified. A row is matched to
    the first of its id's leaves it hashes to in any leaf version; the older versions are hashed
    (the row read again) only for rows whose current version does not hit the first.
    """
    matching = _Matching()
    positions: list[int | None] = []
    legacy: dict[str, list[int]] = defaultdict(list)  # record id -> the rows to hash in older versions
    first_of = by_id.first
    for number, row in enumerate(rows):
        first = first_of.get(row.record_id)
        if first is not None and leaves[first].leaf_hash == row.leaf_hash:  # most rows: their id's one leaf
            positions.append(first)
            continue
        ids = by_id.positions(row.record_id)
        position = next((i for i in ids if leaves[i].leaf_hash == row.leaf_hash), None)
        positions.append(position)
        if ids and position != ids[0] and row.legacy:
            legacy[row.record_id].append(number)
    if legacy:
        _match_legacy(store, rows, positions, legacy, leaves=leaves, by_id=by_id, period=period)
    row_hash_of: dict[str, str] = {}
    for row, position in zip(rows, positions, strict=True):
        record_id = row.record_id
        if row.kind:
            matching.kinds[record_id] = row.kind
        seen = row_hash_of.setdefault(record_id, row.row_hash)
        if seen != row.row_hash:
            matching.copies.setdefault(record_id, {seen: ""})[row.row_hash] = row.timestamp
        if row.erased:
            matching.erased.add(record_id)
        if position is None:
            matching.unmatched[record_id].append(row.timestamp)
            continue
        matching.matched.add(position)
        if row.timestamp != leaves[position].timestamp:
            matching.problems.append(Problem("modified leaf", record_id, position, "leaf timestamp was altered"))
    return matching


def _match_legacy(
    store: Store,
    rows: list[_Row],
    positions: list[int | None],
    legacy: dict[str, list[int]],
    *,
    leaves: dict[int, _Leaf],
    by_id: _LeavesById,
    period: tuple[dt.datetime, dt.datetime],
) -> None:
    """Read the rows of *legacy* again and match them in every leaf version (stores sealed before
    leaf version 3), updating *positions*."""
    ids = sorted(legacy)
    for first in range(0, len(ids), _LEGACY_IDS_PER_READ):
        chunk = {"ids": ids[first : first + _LEGACY_IDS_PER_READ], "since": period[0], "until": period[1]}
        for row in store.query(query_sql("seal_legacy_records"), chunk).dicts():
            current = leaf_hash(row).hex()  # the rows of one id told apart by content
            position = _sealed_position(row, by_id.positions(row["record_id"]), leaves)
            for number in legacy[row["record_id"]]:
                if rows[number].leaf_hash == current:
                    positions[number] = position


def _sealed_position(row: dict[str, Any], positions: list[int], leaves: dict[int, _Leaf]) -> int | None:
    """The first of *positions* (leaves of the row's id) whose leaf the row hashes to, in any leaf
    version; ``None`` if none. Older versions are hashed only while the first position is unmatched."""
    first_at: dict[str, int] = {}
    for index in reversed(positions):
        first_at[leaves[index].leaf_hash] = index
    found: int | None = None
    for digest in leaf_hashes(row) if positions else ():
        match = first_at.get(digest.hex())
        if match is not None and (found is None or match < found):
            found = match
            if found == positions[0]:
                break
    return found


def _check_modified_records(
    matching: _Matching, leaves: dict[int, _Leaf], by_id: _LeavesById, start_text: str, end_text: str
) -> tuple[list[Problem], dict[str, str]]:
    """Pair each unmatched row with an unmatched leaf of its id in the period: the stored record
    differs from the sealed one (the leaf is then accounted for). Return the problems and, per
    record id, the earliest time of its rows left over: records in no checkpoint."""
    problems = []
    unsealed_at: dict[str, str] = {}
    for record_id, timestamps in matching.unmatched.items():
        positions = by_id.positions(record_id)
        loose = [i for i in positions if i not in matching.matched and start_text <= leaves[i].timestamp < end_text]
        for position, _ in zip(loose, timestamps, strict=False):
            matching.matched.add(position)  # the leaf is accounted for: its row is there, changed
            problems.append(
                Problem("modified record", record_id, position, "stored record differs from the sealed one")
            )
        for timestamp in timestamps[len(loose) :]:
            unsealed_at[record_id] = min(timestamp, unsealed_at.get(record_id, timestamp))
    return problems, unsealed_at


def _check_conflicting_copies(copies: dict[str, dict[str, str]], by_id: _LeavesById) -> list[Problem]:
    """Each record id stored as different rows: all are kept and counted, and named here."""
    problems = []
    for record_id, variants in sorted(copies.items()):
        positions = by_id.positions(record_id)
        problems.append(
            Problem(
                "conflicting copies",
                record_id,
                min(positions) if positions else None,
                f"{len(variants)} different records share this id; each is kept and counted "
                "(a forged copy, or senders reusing an id): see `otel-audit report conflicts`",
            )
        )
    return problems


def _check_deleted_records(
    leaves: dict[int, _Leaf], matched: set[int], start_text: str, end_text: str
) -> list[Problem]:
    """Every leaf of the period whose row was not found."""
    return [
        Problem("deleted record", leaf.record_id, index, "sealed record is missing")
        for index, leaf in leaves.items()
        if index not in matched and start_text <= leaf.timestamp < end_text
    ]


def _check_unsigned_leaves(
    unsigned: dict[int, _Leaf], rows: list[_Row], period: tuple[dt.datetime, dt.datetime]
) -> list[Problem]:
    """Leaves beyond the newest checkpoint (in *unsigned*) of the period that name no stored row: a
    seal writes leaves only for stored records, so such a leaf was put there by hand."""
    if not unsigned:
        return []
    start_text, end_text = (stored_time_text(moment) for moment in period)
    stored = {row.record_id for row in rows}
    return [
        Problem("unsigned leaf", leaf.record_id, index, "a leaf beyond the last checkpoint names no stored record")
        for index, leaf in unsigned.items()
        if leaf.record_id not in stored and start_text <= leaf.timestamp < end_text
    ]


def _check_unsealed_records(unsealed_at: dict[str, str], allow_unsealed: bool) -> list[Problem]:
    """Records in no checkpoint, by time, unless unsealed records are allowed."""
    if allow_unsealed:
        return []
    return [
        Problem(
            "unsealed record", record_id, None, f"record of {timestamp} is in no checkpoint (inserted, or run seal)"
        )
        for timestamp, record_id in sorted((at, record_id) for record_id, at in unsealed_at.items())
    ]


def _read_erasures(store: Store, report: VerifyReport) -> set[str]:
    """The record ids in the erasure log; fills *report*'s erasure log counts."""
    logged = store.query(query_sql("seal_erasures")).dicts()
    report.erasures_logged = len(logged)
    report.last_erasure = max((row["ErasedAt"] for row in logged), default=None)
    return {row["RecordId"] for row in logged}


def _check_erasures(erased: set[str], logged: set[str], by_id: _LeavesById, report: VerifyReport) -> list[Problem]:
    """Tombstones must be logged: an erased record missing from ``audit_erasures`` was erased
    outside ``erase``. Counts *report*'s erased records."""
    report.erased_records += len(erased)
    return [
        Problem("unlogged erasure", record_id, by_id.first.get(record_id), "content erased outside `erase`")
        for record_id in sorted(erased - logged)
    ]


def _windows(store: Store, start: dt.datetime, end: dt.datetime) -> Iterator[tuple[dt.datetime, dt.datetime, int]]:
    """Consecutive ``[from, to)`` covering ``[start, end)``, cut at UTC days, each holding about
    :data:`VERIFY_WINDOW_ROWS` stored rows (and how many)."""
    days = store.query(query_sql("seal_rows_per_day"), {"since": start, "until": end}).rows
    return row_windows(store, days, start, end, VERIFY_WINDOW_ROWS)


def _rank(problem: Problem, size: int) -> float:
    if problem.rank is not None:
        return problem.rank
    return problem.leaf_index if problem.leaf_index is not None else size


def _range_start(checkpoints: Iterable[StoredCheckpoint], stored: StoredCheckpoint) -> int:
    smaller = [other.tree_size for other in checkpoints if other.tree_size < stored.tree_size]
    return max(smaller, default=0)
