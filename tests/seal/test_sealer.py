"""Sealing audit_predictions and verifying it, including the five tamperings an attacker with DB access can try."""

from __future__ import annotations

import datetime as dt
import importlib
import itertools
import os
from collections import Counter
from collections.abc import Callable

import pytest

import otel_audit
from otel_audit.decisions import record_review
from otel_audit.periods import EPOCH, FAR_FUTURE
from otel_audit.seal import SealError
from otel_audit.seal.checkpoint import NoteSigner, open_note, parse_checkpoint
from otel_audit.seal.sealer import load_checkpoints, load_leaves, seal, verify
from otel_audit.seal.stored import row_windows
from otel_audit.store.connect import Store
from otel_audit.store.sql import query_sql

_SYNC = {"mutations_sync": 2}
_INSERT = {"insert_deduplicate": 0}  # the tables' dedup window would drop a look-alike block


def _record_id(store: Store, request_id: str) -> str:
    return store.query("SELECT RecordId FROM audit_predictions WHERE RequestId = {r:String}", {"r": request_id}).rows[
        0
    ][0]


@pytest.fixture
def sealed(filled: Store, signer: NoteSigner) -> Store:
    """The 12-prediction store, sealed once."""
    assert seal(filled, signer).sealed == 12
    return filled


class TestSeal:
    def test_clean_store_verifies(self, sealed: Store, signer: NoteSigner) -> None:
        """A freshly sealed store verifies, with signatures checked and nothing unsealed."""
        report = verify(sealed, signer.verifier)
        assert report.ok, report.problems
        assert (report.records_checked, report.leaves, report.checkpoints, report.tree_size) == (12, 12, 1, 12)
        assert report.signatures_checked and report.unsealed == 0

    def test_checkpoint_is_a_signed_c2sp_note(self, sealed: Store, signer: NoteSigner) -> None:
        """The stored checkpoint is origin, size, base64 root, blank line, one em-dash signature line."""
        stored = load_checkpoints(sealed)[-1]
        lines = stored.note.split("\n")
        assert lines[0] == f"otel-audit.local/{sealed.database}" and lines[1] == "12" and lines[3] == ""
        assert lines[4].startswith("\u2014 audit.test ") and stored.note.endswith("\n")
        checkpoint = parse_checkpoint(open_note(stored.note, signer.verifier))
        assert checkpoint.root.hex() == stored.root_hex and checkpoint.size == 12

    def test_sealing_order_is_timestamp_then_record_id(self, sealed: Store) -> None:
        """Leaves follow the records' Timestamp, then RecordId."""
        leaves = load_leaves(sealed)
        assert [int(leaf["LeafIndex"]) for leaf in leaves] == list(range(12))
        keys = [(leaf["Timestamp"], leaf["RecordId"]) for leaf in leaves]
        assert keys == sorted(keys)

    def test_nothing_new_means_no_new_checkpoint(self, sealed: Store, signer: NoteSigner) -> None:
        """Sealing again with no new record signs nothing."""
        result = seal(sealed, signer)
        assert result.sealed == 0 and result.note is None and len(load_checkpoints(sealed)) == 1

    def test_late_records_are_sealed_in_a_later_checkpoint(
        self, sealed: Store, signer: NoteSigner, emit: Callable[..., None]
    ) -> None:
        """A record timestamped before sealed ones, arriving later, joins the next checkpoint at the tree's end."""
        sealed.command(
            "INSERT INTO otel_logs (Timestamp, TraceId, SpanId, ServiceName, Body, LogAttributes, EventName) "
            "SELECT Timestamp - INTERVAL 1 HOUR, TraceId, 'feedfacefeedface', ServiceName, Body, "
            "mapUpdate(mapFilter((k, v) -> k != 'log.record.uid', LogAttributes), map('audit.request.id', 'late')), "
            "EventName "
            "FROM otel_logs WHERE LogAttributes['audit.request.id'] = 'r0'",
            settings=_INSERT,
        )
        emit(2, start=100)
        assert verify(sealed, signer.verifier, allow_unsealed=True).unsealed == 3
        result = seal(sealed, signer)
        assert result.sealed == 3 and result.tree_size == 15
        leaves = load_leaves(sealed)
        late = _record_id(sealed, "late")
        assert leaves[12]["RecordId"] == late and leaves[12]["Timestamp"] < leaves[0]["Timestamp"]
        report = verify(sealed, signer.verifier)
        assert report.ok, report.problems
        assert report.checkpoints == 2

    def test_a_seal_in_chunks_is_one_batch_under_one_checkpoint(
        self,
        filled: Store,
        signer: NoteSigner,
        emit: Callable[..., None],
        runtime: otel_audit.AuditRuntime,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Records are read as a stream and their leaves inserted a few at a time (here five),
        in sealing order, with predictions and audit events merged across chunk edges; one
        checkpoint is signed at the end and the tree verifies."""
        sealer_module = importlib.import_module("otel_audit.seal.sealer")
        monkeypatch.setattr(sealer_module, "SEAL_CHUNK_ROWS", 5)
        between = filled.query("SELECT Timestamp FROM audit_predictions WHERE RequestId = 'r5'").rows[0][0]
        at = between.replace(tzinfo=dt.timezone.utc) + dt.timedelta(microseconds=1)  # amid the predictions
        record_review(request_id="r3", reviewer="analyst", decision="accept", at=at, runtime=runtime)
        assert runtime.flush(30)
        result = seal(filled, signer)
        assert (result.sealed, result.tree_size, len(load_checkpoints(filled))) == (13, 13, 1)
        leaves = load_leaves(filled)
        keys = [(leaf["Timestamp"], leaf["RecordId"]) for leaf in leaves]
        assert [int(leaf["LeafIndex"]) for leaf in leaves] == list(range(13)) and keys == sorted(keys)
        assert [bool(leaf["Kind"]) for leaf in leaves].index(True) == 6  # after r0..r5, merged across a chunk edge
        emit(7, start=60)
        assert seal(filled, signer, limit=6).sealed == 6  # the limit cuts the stream mid-chunk
        assert seal(filled, signer).sealed == 1
        report = verify(filled, signer.verifier)
        assert report.ok and report.tree_size == 20, report.problems

    def test_duplicates_are_sealed_once(self, filled: Store, signer: NoteSigner) -> None:
        """Rows delivered twice (same RecordId) give one leaf, and both copies verify."""
        filled.command("INSERT INTO otel_logs SELECT * FROM otel_logs", settings={"insert_deduplicate": 0})
        assert filled.query("SELECT count() FROM audit_predictions").rows[0][0] == 24
        assert seal(filled, signer).sealed == 12
        report = verify(filled, signer.verifier)
        assert report.ok and report.records_checked == 24 and report.leaves == 12

    def test_seal_refuses_to_extend_a_tampered_tree(self, sealed: Store, signer: NoteSigner) -> None:
        """If the stored leaves no longer hash to the last checkpoint, seal stops."""
        sealed.command("ALTER TABLE audit_seal_leaves DELETE WHERE LeafIndex = 3", settings=_SYNC)
        with pytest.raises(SealError, match="does not match its checkpoint"):
            seal(sealed, signer)


class TestTamperDetection:
    def test_modified_field(self, sealed: Store, signer: NoteSigner) -> None:
        """Changing one field of one record names that record."""
        sealed.command("ALTER TABLE audit_predictions UPDATE OutputLabel = 'ok' WHERE RequestId = 'r4'", settings=_SYNC)
        report = verify(sealed, signer.verifier)
        assert not report.ok and report.first_bad is not None
        assert report.first_bad.kind == "modified record"
        assert report.first_bad.record_id == _record_id(sealed, "r4")

    def test_modified_content(self, sealed: Store, signer: NoteSigner) -> None:
        """Changing the stored input text (not the hash columns) is detected too."""
        sealed.command(
            "ALTER TABLE audit_predictions UPDATE Input = replace(Input, '4111', '5500') WHERE RequestId = 'r7'",
            settings=_SYNC,
        )
        report = verify(sealed, signer.verifier)
        assert report.first_bad is not None and report.first_bad.record_id == _record_id(sealed, "r7")

    def test_deleted_record(self, sealed: Store, signer: NoteSigner) -> None:
        """Deleting a record names it as deleted."""
        record_id = _record_id(sealed, "r5")
        sealed.command("ALTER TABLE audit_predictions DELETE WHERE RequestId = 'r5'", settings=_SYNC)
        report = verify(sealed, signer.verifier)
        assert report.first_bad is not None
        assert (report.first_bad.kind, report.first_bad.record_id) == ("deleted record", record_id)

    def test_inserted_record(self, sealed: Store, signer: NoteSigner) -> None:
        """A record inserted after sealing is named as in no checkpoint."""
        sealed.command(
            "INSERT INTO audit_predictions SELECT * REPLACE ('forged-1' AS RecordId) "
            "FROM audit_predictions WHERE RequestId = 'r2'",
            settings=_INSERT,
        )
        report = verify(sealed, signer.verifier)
        assert report.first_bad is not None
        assert (report.first_bad.kind, report.first_bad.record_id) == ("unsealed record", "forged-1")

    def test_inserted_record_with_forged_leaf(self, sealed: Store, signer: NoteSigner) -> None:
        """Appending a matching leaf for a forged record does not help: it is covered by no checkpoint."""
        sealed.command(
            "INSERT INTO audit_predictions SELECT * REPLACE ('forged-2' AS RecordId) "
            "FROM audit_predictions WHERE RequestId = 'r2'",
            settings=_INSERT,
        )
        sealed.command(
            "INSERT INTO audit_seal_leaves (LeafIndex, RecordId, Timestamp, LeafHash) "
            "SELECT 12, 'forged-2', Timestamp, LeafHash FROM audit_seal_leaves WHERE LeafIndex = 11",
            settings=_INSERT,
        )
        report = verify(sealed, signer.verifier)
        assert report.first_bad is not None and report.unsigned_leaves == 1
        assert (report.first_bad.kind, report.first_bad.record_id) == ("unsealed record", "forged-2")

    def test_a_leaf_appended_alone(self, sealed: Store, signer: NoteSigner) -> None:
        """A leaf beyond the last checkpoint that names no stored record was not written by a
        seal: it is named, with or without --allow-unsealed."""
        sealed.command(
            "INSERT INTO audit_seal_leaves (LeafIndex, RecordId, Timestamp, LeafHash) "
            "SELECT 12, 'ghost-1', Timestamp, LeafHash FROM audit_seal_leaves WHERE LeafIndex = 11",
            settings=_INSERT,
        )
        for allow_unsealed in (False, True):
            report = verify(sealed, signer.verifier, allow_unsealed=allow_unsealed)
            assert [(p.kind, p.record_id, p.leaf_index) for p in report.problems] == [("unsigned leaf", "ghost-1", 12)]
            assert report.unsigned_leaves == 1 and report.unsealed == 0

    def test_a_seal_caught_between_its_leaves_and_its_checkpoint(self, sealed: Store, signer: NoteSigner) -> None:
        """Leaves a seal wrote without its checkpoint yet (in flight, or stopped between the two
        inserts) seal nothing: their records are unsealed, a problem only without --allow-unsealed;
        the next seal signs them and verify passes again."""
        sealed.command(
            "INSERT INTO audit_predictions SELECT * REPLACE ('late-' || RecordId AS RecordId, "
            "Timestamp + INTERVAL 1 HOUR AS Timestamp) FROM audit_predictions WHERE RequestId IN ('r1', 'r2')",
            settings=_INSERT,
        )
        assert seal(sealed, signer).sealed == 2
        sealed.command("ALTER TABLE audit_seal_checkpoints DELETE WHERE TreeSize = 14", settings=_SYNC)
        report = verify(sealed, signer.verifier)
        assert (report.tree_size, report.unsigned_leaves, report.unsealed) == (12, 2, 2)
        assert {(p.kind, p.record_id.startswith("late-")) for p in report.problems} == {("unsealed record", True)}
        relaxed = verify(sealed, signer.verifier, allow_unsealed=True)
        assert relaxed.ok and relaxed.unsigned_leaves == 2
        assert seal(sealed, signer).sealed == 0  # the leftover leaves are signed, nothing new is added
        report = verify(sealed, signer.verifier)
        assert report.ok and (report.tree_size, report.unsigned_leaves) == (14, 0)

    def test_reordering(self, sealed: Store, signer: NoteSigner) -> None:
        """Swapping two leaves' positions names the leaf found out of order."""
        leaves = load_leaves(sealed)
        for index, other in ((2, 3), (3, 2)):
            sealed.command(
                "ALTER TABLE audit_seal_leaves UPDATE RecordId = {r:String}, Timestamp = {t:String}, "
                "LeafHash = {h:String} WHERE LeafIndex = {i:UInt64}",
                {
                    "r": leaves[other]["RecordId"],
                    "t": leaves[other]["Timestamp"],
                    "h": leaves[other]["LeafHash"],
                    "i": index,
                },
                settings=_SYNC,
            )
        report = verify(sealed, signer.verifier)
        assert report.first_bad is not None
        assert report.first_bad.kind == "reordered" and report.first_bad.leaf_index == 3
        assert report.first_bad.record_id == leaves[2]["RecordId"]
        assert any(problem.kind == "root mismatch" for problem in report.problems)

    def test_checkpoint_signed_by_wrong_key(self, sealed: Store, signer: NoteSigner, emit: Callable[..., None]) -> None:
        """A checkpoint signed by another key names the first record it covers."""
        emit(3, start=50)
        seal(sealed, NoteSigner("audit.test", os.urandom(32)))
        report = verify(sealed, signer.verifier)
        assert report.first_bad is not None
        assert report.first_bad.kind == "bad checkpoint" and report.first_bad.leaf_index == 12
        assert report.first_bad.record_id == load_leaves(sealed)[12]["RecordId"]
        assert "not signed by key" in report.first_bad.detail

    def test_window_skips_records_gone_by_retention(self, sealed: Store, signer: NoteSigner) -> None:
        """With --since after a deleted record's time, its absence is not a problem (retention)."""
        leaves = load_leaves(sealed)
        sealed.command(
            "ALTER TABLE audit_predictions DELETE WHERE RecordId = {r:String}",
            {"r": leaves[0]["RecordId"]},
            settings=_SYNC,
        )
        assert not verify(sealed, signer.verifier).ok
        since = leaves[1]["Timestamp"].replace(" ", "T")[:26]
        report = verify(sealed, signer.verifier, since=since)
        assert report.ok, report.problems


class TestVerifyInWindows:
    def test_a_long_period_is_read_in_windows_and_still_checked_whole(
        self, sealed: Store, signer: NoteSigner, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """With windows of two rows, records spread over six days are sealed (under one checkpoint)
        and verify, and a modified and a deleted record in different windows are both named."""
        for days in range(1, 6):  # copies of r0..r2 on each of the five days before
            sealed.command(
                "INSERT INTO otel_logs (Timestamp, TraceId, SpanId, ServiceName, Body, LogAttributes, EventName) "
                "SELECT Timestamp - toIntervalDay({d:UInt8}), TraceId, concat('d', toString({d:UInt8}), SpanId), "
                "ServiceName, Body, mapUpdate(mapFilter((k, v) -> k != 'log.record.uid', LogAttributes), "
                "map('audit.request.id', "
                "concat(LogAttributes['audit.request.id'], '-d', toString({d:UInt8})))), EventName "
                "FROM otel_logs WHERE LogAttributes['audit.request.id'] IN ('r0', 'r1', 'r2')",
                {"d": days},
                settings=_INSERT,
            )

        # The unsealed rows per day, counted in key buckets and added up, are the same in any number
        # of buckets; seal then counts them in buckets of five of the tree's 12 leaves (three).
        def per_day(buckets: int) -> Counter[str]:
            counts: Counter[str] = Counter()
            for bucket in range(buckets):
                part = {"buckets": buckets, "bucket": bucket}
                counts.update({str(d): int(n) for d, n in sealed.query(query_sql("seal_unsealed_per_day"), part).rows})
            return counts

        whole = per_day(1)
        assert len(whole) == 5 and whole.total() == 15 and per_day(3) == per_day(7) == whole
        sealer_module = importlib.import_module("otel_audit.seal.sealer")
        monkeypatch.setattr(sealer_module, "SEAL_BUCKET_LEAVES", 5)
        counted = sealer_module.unsealed_per_day(sealed, leaves=12)
        assert Counter({str(day): rows for day, rows in counted}) == whole
        # Sealed in windows of whole days (two rows each at most, a bigger day whole): six windows.
        monkeypatch.setattr(sealer_module, "SEAL_CHUNK_ROWS", 2)
        assert seal(sealed, signer).sealed == 15
        keys = [(leaf["Timestamp"], leaf["RecordId"]) for leaf in load_leaves(sealed)]
        assert len(keys) == 27 and keys[12:] == sorted(keys[12:]) and len(load_checkpoints(sealed)) == 2
        # The module, not the function the package exports under the same name.
        verify_module = importlib.import_module("otel_audit.seal.verify")
        monkeypatch.setattr(verify_module, "VERIFY_WINDOW_ROWS", 2)
        windows = list(verify_module._windows(sealed, dt.datetime(1970, 1, 1), dt.datetime(2200, 1, 1)))
        assert len(windows) >= 6
        assert all(a[1] == b[0] for a, b in itertools.pairwise(windows))  # contiguous, no gap
        report = verify(sealed, signer.verifier)
        assert report.ok, report.problems
        assert report.records_checked == 27

        sealed.command(
            "ALTER TABLE audit_predictions UPDATE OutputLabel = 'x' WHERE RequestId = 'r1-d5'", settings=_SYNC
        )
        deleted = _record_id(sealed, "r2-d2")
        sealed.command("ALTER TABLE audit_predictions DELETE WHERE RequestId = 'r2-d2'", settings=_SYNC)
        found = {(problem.kind, problem.record_id) for problem in verify(sealed, signer.verifier).problems}
        assert found == {("modified record", _record_id(sealed, "r1-d5")), ("deleted record", deleted)}


_TAMPERINGS = {
    "modified": ["ALTER TABLE audit_predictions UPDATE OutputLabel = 'ok' WHERE RequestId = 'r4'"],
    "deleted": ["ALTER TABLE audit_predictions DELETE WHERE RequestId = 'r5'"],
    "inserted": [
        "INSERT INTO audit_predictions SELECT * REPLACE ('forged-1' AS RecordId) "
        "FROM audit_predictions WHERE RequestId = 'r2'"
    ],
    "copy": [  # RowHash copied too: the two rows are told apart by content
        "INSERT INTO audit_predictions SELECT * REPLACE ('other' AS OutputLabel) "
        "FROM audit_predictions WHERE RequestId = 'r3'"
    ],
    "leaf shared": [
        "INSERT INTO audit_seal_leaves (LeafIndex, RecordId, Timestamp, LeafHash) "
        "SELECT 5, 'zz', Timestamp, LeafHash FROM audit_seal_leaves WHERE LeafIndex = 6"
    ],
    "leaf gone": ["ALTER TABLE audit_seal_leaves DELETE WHERE LeafIndex = 4"],
    "leaf time": [
        "ALTER TABLE audit_seal_leaves UPDATE Timestamp = '2020-01-01 00:00:00.000000000' WHERE LeafIndex = 3"
    ],
    "erased": [
        'ALTER TABLE audit_predictions UPDATE Input = concat(\'{"$erased":{"at":"2026-01-01","sha256":"\', '
        "lower(hex(SHA256(Input))), '\"}}') WHERE RequestId = 'r1'"
    ],
}


class TestVerifyInPartitions:
    @pytest.mark.parametrize("tampering", list(_TAMPERINGS))
    def test_partitions_find_what_one_partition_finds(
        self,
        sealed: Store,
        signer: NoteSigner,
        emit: Callable[..., None],
        monkeypatch: pytest.MonkeyPatch,
        tampering: str,
    ) -> None:
        """Leaves and rows split by record id into partitions of two (spooled to files, matched one
        at a time) give the report of one partition: the same problems, subjects and counts."""
        emit(3, start=50)
        seal(sealed, signer)
        emit(2, start=80)  # unsealed
        for sql in _TAMPERINGS[tampering]:
            sealed.command(sql, settings=_SYNC if sql.startswith("ALTER") else _INSERT)
        verify_module = importlib.import_module("otel_audit.seal.verify")

        def run(partition_rows: int) -> tuple[dict[str, object], list[str], int]:
            monkeypatch.setattr(verify_module, "VERIFY_PARTITION_ROWS", partition_rows)
            steps: list[int] = []
            report = verify(sealed, signer.verifier, progress=lambda _, total: steps.append(total))
            return report.as_dict(), [problem.subject for problem in report.problems], steps[-1]

        whole, partitioned = run(1_000_000), run(2)
        assert partitioned[2] >= whole[2] + 7  # 16 to 18 rows: eight partitions or more instead of one
        assert partitioned[:2] == whole[:2]
        assert not whole[0]["ok"]


class TestDenseDay:
    def test_a_day_denser_than_a_window_is_read_in_bounded_spans(
        self, filled: Store, signer: NoteSigner, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Twelve records of one day and windows of three rows: the day is cut at stored timestamps
        into spans of three, which seal and verify read one at a time (not the whole day)."""
        days = filled.query(query_sql("seal_rows_per_day"), {"since": EPOCH, "until": FAR_FUTURE}).rows
        assert sum(rows for _, rows in days) == 12
        windows = list(row_windows(filled, days, EPOCH, FAR_FUTURE, 3))
        assert (windows[0][0], windows[-1][1]) == (EPOCH, FAR_FUTURE)
        assert all(a[1] == b[0] for a, b in itertools.pairwise(windows))  # contiguous, no gap
        held = [
            filled.query(
                "SELECT count() FROM audit_predictions "
                "WHERE Timestamp >= {a:DateTime64(9)} AND Timestamp < {b:DateTime64(9)}",
                {"a": since, "b": until},
            ).rows[0][0]
            for since, until, _ in windows
        ]
        assert sum(held) == 12 and max(held) == 3
        monkeypatch.setattr(importlib.import_module("otel_audit.seal.sealer"), "SEAL_CHUNK_ROWS", 3)
        monkeypatch.setattr(importlib.import_module("otel_audit.seal.verify"), "VERIFY_WINDOW_ROWS", 3)
        assert seal(filled, signer).sealed == 12
        keys = [(leaf["Timestamp"], leaf["RecordId"]) for leaf in load_leaves(filled)]
        assert keys == sorted(keys)  # one sealing order across the spans
        report = verify(filled, signer.verifier)
        assert report.ok and report.records_checked == 12, report.problems
