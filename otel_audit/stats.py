"""Counters of everything the audit pipeline accepted, exported, retried and dropped.

Audit records are never dropped silently: every drop increments a counter tagged with the
signal and a reason, is logged, and shows up in :func:`otel_audit.stats`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from typing import Any

__all__ = ["PipelineStats", "pipeline_stats"]

_logger = logging.getLogger(__name__)
_LOG_INTERVAL_S = 10.0


class PipelineStats:
    """Thread-safe counters, keyed ``(signal, name)``; drops are ``(signal, "dropped.<reason>")``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()
        self._last_drop_log = 0.0
        self._queues: dict[str, Any] = {}

    def add(self, signal: str, name: str, amount: int = 1) -> None:
        """Add *amount* to counter *name* of *signal*."""
        with self._lock:
            self._counts[(signal, name)] += amount

    def drop(self, signal: str, reason: str, amount: int, detail: str = "") -> None:
        """Count *amount* dropped records and log it (at most every few seconds per process)."""
        with self._lock:
            self._counts[(signal, "dropped." + reason)] += amount
            total = self._counts[(signal, "dropped." + reason)]
            now = time.monotonic()
            should_log = now - self._last_drop_log >= _LOG_INTERVAL_S
            if should_log:
                self._last_drop_log = now
        if should_log:
            _logger.error(
                "otel-audit DROPPED %d %s record(s) (reason=%s, total for this reason=%d)%s",
                amount,
                signal,
                reason,
                total,
                f": {detail}" if detail else "",
            )

    def register_queue(self, name: str, depth: Any) -> None:
        """Report the live depth of queue *name* through the zero-argument callable *depth*."""
        with self._lock:
            self._queues[name] = depth

    def unregister_queue(self, name: str) -> None:
        with self._lock:
            self._queues.pop(name, None)

    def dropped(self) -> int:
        """Total records dropped for any reason."""
        with self._lock:
            return sum(n for (_, name), n in self._counts.items() if name.startswith("dropped."))

    def snapshot(self) -> dict[str, Any]:
        """Return ``{"counters": {"signal.name": n}, "queues": {name: depth}, "dropped": n}``."""
        with self._lock:
            counters = {f"{signal}.{name}": n for (signal, name), n in sorted(self._counts.items())}
            queues = dict(self._queues)
        return {
            "counters": counters,
            "queues": {name: depth() for name, depth in queues.items()},
            "dropped": sum(n for key, n in counters.items() if ".dropped." in key),
        }

    def reset(self) -> None:
        """Zero every counter (tests and benchmarks)."""
        with self._lock:
            self._counts.clear()


pipeline_stats = PipelineStats()
"""The process-wide counters."""
