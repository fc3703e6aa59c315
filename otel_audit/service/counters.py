"""``otel-audit serve``'s own counters: what it accepted, rejected, stored, dropped and refused.

Intake, the writer and both fronts add to one :class:`Counters`; ``GET /status`` and the drain
and stop log lines read it. Drops are also counted, with their reason, in
:data:`otel_audit.stats.pipeline_stats`.
"""

from __future__ import annotations

import threading

__all__ = ["Counters"]


class Counters:
    """Named integer counters, safe to add to from any thread, and the last store error."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.values: dict[str, int] = {}
        self.last_error = ""

    def add(self, name: str, amount: int = 1) -> None:
        """Add *amount* to counter *name* (made at 0 on first use)."""
        with self._lock:
            self.values[name] = self.values.get(name, 0) + amount

    def snapshot(self) -> dict[str, int]:
        """A copy of every counter."""
        with self._lock:
            return dict(self.values)
