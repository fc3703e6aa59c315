"""BatchWorker and the audit processors: back-pressure, retries, isolation, counted drops."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest

import otel_audit
from otel_audit.deadline import Deadline
from otel_audit.export.batching import BatchWorker, RecordsRejected
from otel_audit.export.clickhouse import ClickHouseLogRecordExporter
from otel_audit.stats import PipelineStats
from otel_audit.store.connect import Store


def _worker(export, stats: PipelineStats, **overrides) -> BatchWorker[int]:  # type: ignore[no-untyped-def]
    options = {"max_queue_size": 100, "max_batch_size": 10, "schedule_delay_s": 0.01}
    options.update(overrides)
    return BatchWorker(f"test-{id(stats)}", export, signal="test", stats=stats, **options)


class TestBatchWorker:
    def test_full_queue_blocks_instead_of_dropping(self) -> None:
        """With a slow exporter and a tiny queue every item still arrives, in order."""
        seen: list[int] = []
        stats = PipelineStats()

        def slow(batch: Sequence[int]) -> None:
            time.sleep(0.002)
            seen.extend(batch)

        worker = _worker(slow, stats, max_queue_size=5, max_batch_size=3)
        for item in range(2000):
            assert worker.put(item)
        assert worker.force_flush(Deadline(30))
        worker.shutdown()
        assert seen == list(range(2000))
        counters = stats.snapshot()["counters"]
        assert counters["test.blocked_waits"] > 0
        assert counters["test.exported"] == 2000
        assert stats.dropped() == 0

    def test_block_timeout_drops_are_counted(self) -> None:
        """With a block timeout, items that find no room in time are dropped and counted."""
        release = threading.Event()
        stats = PipelineStats()
        worker = _worker(
            lambda batch: release.wait(10), stats, max_queue_size=2, max_batch_size=1, block_timeout_s=0.05
        )
        accepted = sum(worker.put(i) for i in range(10))
        release.set()
        assert worker.force_flush(Deadline(10))
        worker.shutdown()
        assert accepted < 10
        assert stats.snapshot()["counters"]["test.dropped.queue_full"] == 10 - accepted

    def test_failing_export_is_retried_until_it_succeeds(self) -> None:
        """Export errors are retried with backoff; nothing is lost once the store recovers."""
        seen: list[int] = []
        failures = iter(range(3))
        stats = PipelineStats()

        def flaky(batch: Sequence[int]) -> None:
            if next(failures, None) is not None:
                raise ConnectionError("store down")
            seen.extend(batch)

        worker = _worker(flaky, stats)
        for item in range(25):
            worker.put(item)
        assert worker.force_flush(Deadline(30))
        worker.shutdown()
        assert sorted(seen) == list(range(25))
        counters = stats.snapshot()["counters"]
        assert counters["test.export_retries"] == 3
        assert stats.dropped() == 0

    def test_rejected_records_are_isolated(self) -> None:
        """A batch the store rejects is bisected so only the bad items are dropped (and counted)."""
        seen: list[int] = []
        stats = PipelineStats()

        def picky(batch: Sequence[int]) -> None:
            if 13 in batch or 17 in batch:
                raise RecordsRejected("cannot parse")
            seen.extend(batch)

        worker = _worker(picky, stats, max_batch_size=20)
        for item in range(40):
            worker.put(item)
        assert worker.force_flush(Deadline(30))
        worker.shutdown()
        assert sorted(seen) == [i for i in range(40) if i not in (13, 17)]
        assert stats.snapshot()["counters"]["test.dropped.rejected"] == 2

    def test_shutdown_counts_what_it_could_not_export(self) -> None:
        """Records still queued when shutdown's deadline passes are counted as dropped."""
        stats = PipelineStats()

        def down(batch: Sequence[int]) -> None:
            raise ConnectionError("store down for good")

        worker = _worker(down, stats)
        for item in range(30):
            worker.put(item)
        worker.shutdown(Deadline(0.3))
        assert stats.snapshot()["counters"]["test.dropped.shutdown"] == 30
        assert not worker.put(1)
        assert stats.snapshot()["counters"]["test.dropped.after_shutdown"] == 1

    def test_bad_arguments(self) -> None:
        """Nonsensical sizes are refused at construction."""
        with pytest.raises(ValueError, match="at least 1"):
            _worker(lambda b: None, PipelineStats(), max_queue_size=0)


class _SlowStoreExporter(ClickHouseLogRecordExporter):
    """The real chDB exporter behind a deliberately slow, at first failing, connection."""

    def __init__(self, store: Store, delay_s: float, failures: int) -> None:
        super().__init__(store, create_schema=False)
        self.delay_s = delay_s
        self.failures = failures
        self.calls = 0

    def _insert(self, columns):  # type: ignore[no-untyped-def]
        self.calls += 1
        time.sleep(self.delay_s)
        if self.failures:
            self.failures -= 1
            raise ConnectionError("store unavailable")
        super()._insert(columns)


class TestBurst:
    def test_100k_predictions_against_a_slow_store_are_all_stored(self, store: Store) -> None:
        """A burst of 100k predictions into a slow, briefly failing store ends with every record stored."""
        slow = _SlowStoreExporter(store, delay_s=0.02, failures=3)
        otel_audit.configure(
            store=False,
            log_exporters=[slow],
            spans=False,
            queue_size=2000,
            export_batch_size=1000,
            schedule_delay_ms=20,
        )
        total = 100_000
        for index in range(total):
            with otel_audit.audit_prediction(
                model="burst", version="1", input={"i": index}, request_id=str(index)
            ) as p:
                p.output = index % 2
        assert otel_audit.flush(120)
        stats = otel_audit.stats()
        assert stats["dropped"] == 0
        assert stats["counters"]["logs.export_retries"] == 3
        assert stats["counters"]["predictions.blocked_waits"] + stats["counters"].get("logs.blocked_waits", 0) > 0
        counts = store.query(
            "SELECT count(), uniqExact(RequestId), min(toUInt32(RequestId)), max(toUInt32(RequestId))"
            " FROM audit_predictions"
        ).rows[0]
        assert counts == (total, total, 0, total - 1)
