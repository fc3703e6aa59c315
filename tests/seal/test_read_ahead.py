"""read_ahead: the next read runs while the caller works, one read at a time, errors surface."""

from __future__ import annotations

import functools
import threading
import time

import pytest

from otel_audit.seal.stored import read_ahead


class _Reads:
    """Reads that note how many run at once and signal when each starts."""

    def __init__(self, count: int) -> None:
        self.started = [threading.Event() for _ in range(count)]
        self.running = 0
        self.most_at_once = 0
        self.threads: set[str] = set()
        self._lock = threading.Lock()

    def read(self, index: int) -> int:
        with self._lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        self.threads.add(threading.current_thread().name)
        self.started[index].set()
        time.sleep(0.02)  # long enough for a second read to overlap, if one were started
        with self._lock:
            self.running -= 1
        return index * 10


def test_results_in_order_with_the_next_read_started_meanwhile() -> None:
    reads = _Reads(6)
    results = []
    for result in read_ahead(functools.partial(reads.read, index) for index in range(6)):
        index = result // 10
        if index + 1 < 6:
            # The caller is still on this result, and the next read has already begun.
            assert reads.started[index + 1].wait(10), f"read {index + 1} did not start ahead"
        results.append(result)
    assert results == [0, 10, 20, 30, 40, 50]
    assert reads.most_at_once == 1  # a store bound to one session is never asked twice at once
    assert all(name.startswith("otel-audit-read-ahead") for name in reads.threads)  # not the caller's


def test_no_reads_and_one_read() -> None:
    assert list(read_ahead([])) == []
    assert list(read_ahead([lambda: "only"])) == ["only"]


def test_a_failing_read_raises_in_the_caller_and_stops() -> None:
    calls: list[int] = []

    def read(index: int) -> int:
        calls.append(index)
        if index == 2:
            raise RuntimeError("the store went away")
        return index

    seen = []
    with pytest.raises(RuntimeError, match="the store went away"):
        for result in read_ahead(functools.partial(read, index) for index in range(5)):
            seen.append(result)
    assert seen == [0, 1]
    assert calls == [0, 1, 2]  # nothing is read after the failure
