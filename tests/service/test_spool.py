"""The write-ahead spool: durable appends, torn tails, exact replay of the batch in flight."""

from __future__ import annotations

from pathlib import Path

import pytest

from otel_audit.service.spool import KIND_LOGS, KIND_SPANS, Spool, SpoolFullError


class TestSpool:
    def test_entries_survive_reopen(self, tmp_path: Path) -> None:
        """What was appended and not committed is there again after a restart, in order."""
        spool = Spool(tmp_path)
        spool.append(KIND_LOGS, b"one", 1)
        spool.append(KIND_SPANS, b"two", 2)
        spool.close()
        again = Spool(tmp_path)
        batch = again.take(100, timeout=0)
        assert [again.read(entry) for entry in batch] == [b"one", b"two"]
        assert again.recovered_records == 3 and again.depth()["requests"] == 2

    def test_committed_entries_are_not_replayed(self, tmp_path: Path) -> None:
        """After commit, a restart starts past the committed entries."""
        spool = Spool(tmp_path)
        for payload in (b"a", b"b", b"c"):
            spool.append(KIND_LOGS, payload, 1)
        spool.commit(spool.take(2, timeout=0))
        spool.close()
        again = Spool(tmp_path)
        assert [again.read(entry) for entry in again.take(100, timeout=0)] == [b"c"]

    def test_torn_tail_is_cut(self, tmp_path: Path) -> None:
        """A half-written last entry (a crash mid-append, never acknowledged) is dropped on recovery."""
        spool = Spool(tmp_path)
        spool.append(KIND_LOGS, b"whole", 1)
        spool.append(KIND_LOGS, b"torn-entry", 1)
        spool.close()
        segment = next(tmp_path.glob("*.wal"))
        segment.write_bytes(segment.read_bytes()[:-4])
        again = Spool(tmp_path)
        assert [again.read(entry) for entry in again.take(100, timeout=0)] == [b"whole"]
        again.append(KIND_LOGS, b"next", 1)
        again.close()
        assert [Spool(tmp_path).read(e) for e in Spool(tmp_path).take(100, timeout=0)] == [b"whole", b"next"]

    def test_batch_in_flight_is_replayed_with_its_token(self, tmp_path: Path) -> None:
        """After a crash between insert and commit, the first batch and its token are exactly the same."""
        spool = Spool(tmp_path)
        for payload in (b"a", b"b"):
            spool.append(KIND_LOGS, payload, 5)
        batch = spool.take(100, timeout=0)
        spool.begin(batch)
        token = spool.token(batch, KIND_LOGS)
        spool.append(KIND_LOGS, b"c", 5)  # arrives after the batch was formed
        spool.close()
        again = Spool(tmp_path)
        replay = again.take(100, timeout=0)
        assert [again.read(entry) for entry in replay] == [b"a", b"b"]
        assert again.token(replay, KIND_LOGS) == token
        again.commit(replay)
        assert [again.read(entry) for entry in again.take(100, timeout=0)] == [b"c"]

    def test_batches_respect_the_record_limit(self, tmp_path: Path) -> None:
        """A batch holds at most max_records, but always at least one entry."""
        spool = Spool(tmp_path)
        for _ in range(3):
            spool.append(KIND_LOGS, b"x", 10)
        assert len(spool.take(25, timeout=0)) == 2
        assert len(spool.take(5, timeout=0)) == 1

    def test_full_spool_refuses(self, tmp_path: Path) -> None:
        """Beyond max_bytes the spool refuses new requests instead of growing without bound."""
        spool = Spool(tmp_path, max_bytes=10)
        spool.append(KIND_LOGS, b"123456789", 1)
        with pytest.raises(SpoolFullError):
            spool.append(KIND_LOGS, b"12", 1)

    def test_segments_rotate_and_are_deleted_once_stored(self, tmp_path: Path) -> None:
        """Old segments go away when everything in them is stored."""
        spool = Spool(tmp_path, segment_bytes=64)
        for _ in range(6):
            spool.append(KIND_LOGS, b"p" * 40, 1)
        assert len(list(tmp_path.glob("*.wal"))) >= 3
        while batch := spool.take(1, timeout=0):
            spool.read(batch[0])
            spool.commit(batch)
        assert len(list(tmp_path.glob("*.wal"))) == 1
        assert spool.depth() == {"requests": 0, "records": 0, "bytes": 0}

    def test_closed_spool_refuses_appends(self, tmp_path: Path) -> None:
        """After close (shutdown), an append fails instead of writing to a stale descriptor."""
        spool = Spool(tmp_path)
        spool.close()
        with pytest.raises(OSError, match="closed"):
            spool.append(KIND_LOGS, b"late", 1)
