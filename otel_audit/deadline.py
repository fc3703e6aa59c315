"""One deadline shared by every stage of a flush or a shutdown.

``flush(timeout)`` and ``shutdown(timeout)`` promise one deadline for the whole pipeline, not one
timeout per stage: the finisher, the span processors, the log processors and their exporters
each get what is *left*, the way the SDK's ``SynchronousMultiSpanProcessor.force_flush`` spreads
one deadline over its processors.

Usage::

    deadline = Deadline(timeout_s)
    worker.force_flush(deadline)
    processor.force_flush(deadline.remaining_millis())
"""

from __future__ import annotations

import time

__all__ = ["Deadline"]


class Deadline:
    """A point in monotonic time by which a piece of work must be done.

    Args:
        timeout_s: seconds from now; ``None`` never expires.
    """

    __slots__ = ("_at",)

    def __init__(self, timeout_s: float | None) -> None:
        self._at = None if timeout_s is None else time.monotonic() + max(0.0, timeout_s)

    @classmethod
    def from_millis(cls, timeout_millis: float | None) -> Deadline:
        """The deadline *timeout_millis* milliseconds from now (the SDK's unit)."""
        return cls(None if timeout_millis is None else timeout_millis / 1000)

    @property
    def bounded(self) -> bool:
        """False for a deadline that never expires."""
        return self._at is not None

    def remaining(self) -> float | None:
        """Seconds left (never negative); ``None`` for a deadline that never expires."""
        if self._at is None:
            return None
        return max(0.0, self._at - time.monotonic())

    def remaining_millis(self) -> int:
        """Whole milliseconds left, for SDK calls that take ``timeout_millis``.

        A deadline that never expires gives a day: the SDK has no "forever".
        """
        left = self.remaining()
        return 86_400_000 if left is None else int(left * 1000)

    @property
    def expired(self) -> bool:
        """True once the deadline has passed."""
        return self._at is not None and time.monotonic() >= self._at

    def __repr__(self) -> str:
        left = self.remaining()
        return "Deadline(never)" if left is None else f"Deadline({left:.3f}s left)"
