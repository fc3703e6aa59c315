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
* :func:`_check_unsigned_leaves`: no leaf lies beyond the newest checkpoint ("unsigned leaf");
* :func:`_check_pinned_head`: the published head is still covered and still the tree's prefix
  ("truncated tree", "foreign checkpoint", "forked tree");
* :func:`_match_records`: every stored row hashes to a leaf of its id, sealed at its time
  ("modified leaf");
* :func:`_check_modified_records`: a row that matches no leaf of its id while one of them is
  unmatched ("modified record");
* :func:`_check_conflicting_copies`: two different rows under one id ("conflicting copies");
* :func:`_check_deleted_records`: every leaf of the period has its row ("deleted record");
* :func:`_check_unsealed_records`: every row is sealed ("unsealed record"); access events (every
  read of the trail writes one, this verification's own included) not sealed yet are only counted;
* :func:`_check_erasures`: every erased record is in the erasure log ("unlogged erasure").

Audit events (``audit_events``: reviews, ground truth, feedback, access events) are sealed in the
same tree and checked by the same functions; a problem with an event names it by its kind
(``review <record id>: modified record: …``), a prediction as ``record <record id>``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from otel_audit import semconv
from otel_audit.periods import EPOCH, FAR_FUTURE, stored_time_text, to_utc
from otel_audit.seal._errors import NoteError
from otel_audit.seal.checkpoint import Checkpoint, NoteVerifier, open_note, parse_checkpoint
from otel_audit.seal.leaf import is_erased, leaf_hashes, record_kind
from otel_audit.seal.merkle import CompactRange
from otel_audit.seal.stored import StoredCheckpoint, load_checkpoints
from otel_audit.store.connect import Store
from otel_audit.store.sql import query_sql

__all__ = ["VERIFY_WINDOW_ROWS", "Problem", "VerifyReport", "verify"]

VERIFY_WINDOW_ROWS = 20_000
"""Stored rows :func:`verify` reads at once (whole UTC days; a bigger day is read whole); it
reads leaves in pages of ten times as many."""


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
        progress: called as ``progress(description, total)`` after each page of leaves and each
            window of records read (``total`` pages and windows in all), e.g. for a progress bar.

    Returns:
        A :class:`VerifyReport`; its ``problems`` are ordered by tree position.
    """
    if min_tree_size < 0:
        raise ValueError(f"min_tree_size must be >= 0, not {min_tree_size}")
    start, end = to_utc(since, EPOCH), to_utc(until, FAR_FUTURE)
    report = VerifyReport(signatures_checked=verifier is not None)
    span = int(store.query(query_sql("seal_leaf_span")).rows[0][0])
    windows = list(_windows(store, start, end))
    page_rows = VERIFY_WINDOW_ROWS * 10
    steps = len(range(0, span, page_rows)) + len(windows)
    step = progress or (lambda description, total: None)

    ordered, report.leaves, problems = _read_leaves(store, span, page_rows, lambda: step("leaves", steps))
    checkpoints = load_checkpoints(store)
    report.checkpoints = len(checkpoints)
    parsed, origins, found = _check_checkpoints(checkpoints, ordered, verifier)
    problems += found
    report.origin = next(iter(origins), "")
    sizes = sorted({stored.tree_size for stored, _ in parsed})
    roots, found = _check_roots(parsed, sizes, ordered, pinned)
    problems += found
    problems += _check_sealing_order(ordered, sizes)
    last_size = sizes[-1] if sizes else 0
    report.tree_size = last_size
    report.root = roots.get(last_size, b"").hex() if sizes else ""
    problems += _check_unsigned_leaves(ordered, last_size, allow_unsealed)
    problems += _check_pinned_head(report, roots, pinned, min_tree_size)

    by_id = _LeavesById(ordered)
    matching = _match_records(store, windows, ordered, by_id, report=report, step=lambda: step("records", steps))
    problems += matching.problems
    start_text, end_text = stored_time_text(start), stored_time_text(end)
    found, unsealed_at = _check_modified_records(matching, ordered, by_id, start_text, end_text)
    problems += found
    problems += _check_conflicting_copies(matching.copies, by_id)
    problems += _check_deleted_records(ordered, matching.matched, start_text, end_text)
    # Every read of the trail writes an access event, verify's own included: those not sealed yet
    # are counted, not called problems (a sealed one that changes or goes is still a problem).
    reads = {rid for rid in unsealed_at if matching.kinds.get(rid) == semconv.EVENT_ACCESS}
    report.unsealed_access_events = len(reads)
    unsealed_at = {rid: at for rid, at in unsealed_at.items() if rid not in reads}
    report.unsealed = len(unsealed_at)
    problems += _check_unsealed_records(unsealed_at, allow_unsealed)
    problems += _check_erasures(store, matching.erased, by_id, report)
    size = len(ordered)
    problems = _name_subjects(problems, ordered, matching.kinds)
    problems.sort(key=lambda problem: _rank(problem, size))
    report.problems = problems
    return report


class _Leaf(NamedTuple):
    record_id: str
    timestamp: str
    leaf_hash: str
    kind: str = ""


_SUBJECTS = {"audit.review": "review", "audit.ground_truth": "ground truth", "audit.feedback": "feedback"}


def _subject(kind: str) -> str:
    return _SUBJECTS.get(kind, "access event" if kind == "audit.access" else f"event {kind}")


def _name_subjects(problems: list[Problem], ordered: list[_Leaf | None], kinds: dict[str, str]) -> list[Problem]:
    """Name each problem about an audit event by the event's kind (from its row, else its leaf)."""
    leaf_kinds = {leaf.record_id: leaf.kind for leaf in ordered if leaf is not None and leaf.kind}
    named = []
    for problem in problems:
        kind = kinds.get(problem.record_id) or leaf_kinds.get(problem.record_id)
        named.append(dataclasses.replace(problem, subject=_subject(kind)) if kind else problem)
    return named


def _read_leaves(
    store: Store, span: int, page_rows: int, step: Callable[[], None]
) -> tuple[list[_Leaf | None], int, list[Problem]]:
    """The stored leaves in tree order (``None`` where a position has none), how many were read,
    and a problem for each leaf at a position another leaf holds.

    Leaves are kept as small tuples (rows come ordered by ``LeafIndex``): a dict per leaf would
    take about 1 KB, too much for tens of millions of leaves.
    """
    ordered: list[_Leaf | None] = []
    read = 0
    problems: list[Problem] = []
    for first in range(0, span, page_rows):
        page = {"first": first, "count": page_rows}
        for leaf_index, record_id, timestamp, leaf_hash_hex, kind in store.query(
            query_sql("seal_leaves_page"), page
        ).rows:
            index = int(leaf_index)
            read += 1
            if index < len(ordered):
                problems.append(Problem("inserted leaf", record_id, index, "two leaves share this index"))
            else:
                ordered.extend([None] * (index + 1 - len(ordered)))
            ordered[index] = _Leaf(record_id, timestamp, leaf_hash_hex, kind)
        step()
    return ordered, read, problems


def _check_checkpoints(
    checkpoints: list[StoredCheckpoint], ordered: list[_Leaf | None], verifier: NoteVerifier | None
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
                Problem("bad checkpoint", _record_at(ordered, first), first, f"tree size {stored.tree_size}: {error}")
            )
            checkpoint = None
        parsed.append((stored, checkpoint))
    if len(origins) > 1:
        problems.append(Problem("bad checkpoint", "", 0, f"checkpoints name several origins: {sorted(origins)}"))
    return parsed, origins, problems


def _check_roots(
    parsed: list[tuple[StoredCheckpoint, Checkpoint | None]],
    sizes: list[int],
    ordered: list[_Leaf | None],
    pinned: Checkpoint | None,
) -> tuple[dict[int, bytes], list[Problem]]:
    """Stream the stored leaves through a compact range and compare the root at each checkpoint
    size; return the roots at those sizes (and the pinned one's) and the problems."""
    problems: list[Problem] = []
    size = len(ordered)
    compact = CompactRange()
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
        previous = tree_size
    return roots, problems


def _check_sealing_order(ordered: list[_Leaf | None], sizes: list[int]) -> list[Problem]:
    """Inside one seal batch (between two checkpoint sizes), leaves follow ``(Timestamp, RecordId)``:
    a swap shows up here."""
    problems = []
    previous = 0
    for tree_size in sizes:
        for index in range(previous + 1, min(tree_size, len(ordered))):
            before, leaf = ordered[index - 1], ordered[index]
            if before and leaf and (leaf.timestamp, leaf.record_id) < (before.timestamp, before.record_id):
                problems.append(Problem("reordered", leaf.record_id, index, "leaf is out of sealing order"))
        previous = tree_size
    return problems


def _check_unsigned_leaves(ordered: list[_Leaf | None], last_size: int, allow_unsealed: bool) -> list[Problem]:
    """Leaves beyond the newest checkpoint, unless unsealed records are allowed."""
    if len(ordered) > last_size and not allow_unsealed:
        return [
            Problem("unsigned leaf", _record_at(ordered, last_size), last_size, "leaves beyond the last checkpoint")
        ]
    return []


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
    """The tree positions of each record id's leaves: a dict entry per id, a list only for ids
    with several leaves (memory holds the leaves, not a list per leaf)."""

    def __init__(self, ordered: list[_Leaf | None]) -> None:
        self.first: dict[str, int] = {}
        self._more: dict[str, list[int]] = defaultdict(list)
        for index, leaf in enumerate(ordered):
            if leaf is not None:
                if leaf.record_id in self.first:
                    self._more[leaf.record_id].append(index)
                else:
                    self.first[leaf.record_id] = index

    def positions(self, record_id: str) -> list[int]:
        """The positions of *record_id*'s leaves, first one first."""
        first = self.first.get(record_id)
        return [] if first is None else [first, *self._more.get(record_id, ())]


@dataclass
class _Matching:
    """Stored rows matched to leaves by :func:`_match_records`."""

    matched: bytearray
    """1 at each tree position whose row was found."""
    unmatched: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    """Per record id, the timestamps of its rows that hash to none of its leaves."""
    copies: dict[str, dict[str, str]] = field(default_factory=dict)
    """Per record id stored as different rows, each row hash (with a timestamp)."""
    erased: set[str] = field(default_factory=set)
    """Record ids whose content was erased."""
    kinds: dict[str, str] = field(default_factory=dict)
    """Per audit event's record id, its event name (predictions are not listed)."""
    problems: list[Problem] = field(default_factory=list)


def _match_records(
    store: Store,
    windows: list[tuple[dt.datetime, dt.datetime]],
    ordered: list[_Leaf | None],
    by_id: _LeavesById,
    *,
    report: VerifyReport,
    step: Callable[[], None],
) -> _Matching:
    """Match every stored row of the period to a leaf of its id by leaf hash.

    A row is matched by its leaf hash, so two rows under one id (a forged copy, two senders
    reusing an id) each find their own leaf and neither is called modified. Rows are read in
    windows of about :data:`VERIFY_WINDOW_ROWS`, so memory holds the leaves, not the records
    with their inputs (several KB each as Python objects).
    """
    matching = _Matching(bytearray(len(ordered)))
    row_hash_of: dict[str, str] = {}
    for window_start, window_end in windows:
        step()
        window = {"since": window_start, "until": window_end}
        rows = itertools.chain(
            store.query(query_sql("seal_records"), window).dicts(),
            store.query(query_sql("seal_event_records"), window).dicts(),
        )
        for row in rows:
            report.records_checked += 1
            if kind := record_kind(row):
                matching.kinds[row["record_id"]] = kind
            record_id, row_hash = row["record_id"], row["row_hash"]
            seen = row_hash_of.setdefault(record_id, row_hash)
            if seen != row_hash:
                matching.copies.setdefault(record_id, {seen: ""})[row_hash] = row["timestamp"]
            if is_erased(row):
                matching.erased.add(record_id)
            position = _sealed_position(row, by_id.positions(record_id), ordered)
            if position is None:
                matching.unmatched[record_id].append(row["timestamp"])
                continue
            matching.matched[position] = 1
            sealed = ordered[position]
            assert sealed is not None
            if row["timestamp"] != sealed.timestamp:
                matching.problems.append(Problem("modified leaf", record_id, position, "leaf timestamp was altered"))
    return matching


def _sealed_position(row: dict[str, Any], positions: list[int], ordered: list[_Leaf | None]) -> int | None:
    """The first of *positions* (leaves of the row's id) whose leaf the row hashes to, in any leaf
    version; ``None`` if none. Older versions are hashed only while the first position is unmatched."""
    first_at: dict[str, int] = {}
    for index in reversed(positions):
        first_at[ordered[index].leaf_hash] = index  # type: ignore[union-attr]
    found: int | None = None
    for digest in leaf_hashes(row) if positions else ():
        match = first_at.get(digest.hex())
        if match is not None and (found is None or match < found):
            found = match
            if found == positions[0]:
                break
    return found


def _check_modified_records(
    matching: _Matching, ordered: list[_Leaf | None], by_id: _LeavesById, start_text: str, end_text: str
) -> tuple[list[Problem], dict[str, str]]:
    """Pair each unmatched row with an unmatched leaf of its id in the period: the stored record
    differs from the sealed one (the leaf is then accounted for). Return the problems and, per
    record id, the earliest time of its rows left over: records in no checkpoint."""
    problems = []
    unsealed_at: dict[str, str] = {}
    for record_id, timestamps in matching.unmatched.items():
        positions = by_id.positions(record_id)
        loose = [
            i
            for i in positions
            if not matching.matched[i] and start_text <= ordered[i].timestamp < end_text  # type: ignore[union-attr]
        ]
        for position, _ in zip(loose, timestamps, strict=False):
            matching.matched[position] = 1  # the leaf is accounted for: its row is there, changed
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
    ordered: list[_Leaf | None], matched: bytearray, start_text: str, end_text: str
) -> list[Problem]:
    """Every leaf of the period whose row was not found."""
    return [
        Problem("deleted record", leaf.record_id, index, "sealed record is missing")
        for index, leaf in enumerate(ordered)
        if leaf is not None and not matched[index] and start_text <= leaf.timestamp < end_text
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


def _check_erasures(store: Store, erased: set[str], by_id: _LeavesById, report: VerifyReport) -> list[Problem]:
    """Tombstones must be logged: an erased record missing from ``audit_erasures`` was erased
    outside ``erase``. Fills *report*'s erasure counts."""
    logged = store.query(query_sql("seal_erasures")).dicts()
    logged_ids = {row["RecordId"] for row in logged}
    report.erasures_logged = len(logged)
    report.last_erasure = max((row["ErasedAt"] for row in logged), default=None)
    report.erased_records = len(erased)
    return [
        Problem("unlogged erasure", record_id, by_id.first.get(record_id), "content erased outside `erase`")
        for record_id in sorted(erased - logged_ids)
    ]


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


def _range_start(checkpoints: Iterable[StoredCheckpoint], stored: StoredCheckpoint) -> int:
    smaller = [other.tree_size for other in checkpoints if other.tree_size < stored.tree_size]
    return max(smaller, default=0)


def _record_at(ordered: list[_Leaf | None], index: int) -> str:
    leaf = ordered[index] if 0 <= index < len(ordered) else None
    return leaf.record_id if leaf else ""
