"""Run a job on a schedule in a daemon thread of a long-running process (``serve``, or an
application that owns an embedded chDB store, which no other process can open).

Usage::

    job = PeriodicJob("otel-audit-rollup", lambda: build_rollups(store), interval_s=300)
    ...
    job.shutdown()  # stops, running once more unless final_run=False; also runs at exit

Errors never escape the worker thread: each failed run is logged and counted in
:attr:`PeriodicJob.failures`, and the next run tries again.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["PeriodicJob"]

_logger = logging.getLogger(__name__)

T = TypeVar("T")


class PeriodicJob(Generic[T]):
    """A named daemon thread that calls *job* every *interval_s* seconds, one run at a time."""

    def __init__(self, name: str, job: Callable[[], T], *, interval_s: float, final_run: bool = True):
        if interval_s <= 0:
            raise ValueError(f"interval_s must be > 0, not {interval_s!r}")
        self.name = name
        self.interval_s = interval_s
        self.runs = 0
        self.failures = 0
        self.last: T | None = None
        self._job = job
        self._final_run = final_run
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()
        atexit.register(self.shutdown)

    def run_now(self) -> T | None:
        """Run the job now, in the caller's thread; ``None`` if it failed (logged and counted)."""
        with self._lock:
            self.runs += 1
            try:
                result = self._job()
            except Exception:
                self.failures += 1
                _logger.exception("%s failed; retrying in %s s", self.name, self.interval_s)
                return None
            self.last = result
            return result

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.run_now()

    def shutdown(self, timeout_s: float = 30.0) -> None:
        """Stop the thread and, unless made with ``final_run=False``, run once more (idempotent)."""
        if self._stop.is_set():
            return
        self._stop.set()
        atexit.unregister(self.shutdown)
        self._thread.join(timeout_s)
        if self._final_run:
            self.run_now()
