"""Seal on a schedule inside a long-running process (``serve``, or an application that owns an
embedded chDB store, which no other process can open).

Usage::

    scheduler = SealScheduler(store, load_signer("keys/audit.key"), interval_s=60)
    ...
    scheduler.shutdown()  # seals once more, then stops; also runs at exit

Errors never escape the worker thread: each failed run is logged and counted in
:attr:`SealScheduler.failures`, and the next run tries again.
"""

from __future__ import annotations

import atexit
import logging
import threading

from otel_audit.seal.checkpoint import NoteSigner
from otel_audit.seal.sealer import SealResult, seal
from otel_audit.store.connect import Store

__all__ = ["SealScheduler"]

_logger = logging.getLogger(__name__)


class SealScheduler:
    """A named daemon thread that calls :func:`~otel_audit.seal.sealer.seal` every *interval_s*."""

    def __init__(self, store: Store, signer: NoteSigner, *, interval_s: float = 60.0, origin: str | None = None):
        if interval_s <= 0:
            raise ValueError(f"interval_s must be > 0, not {interval_s!r}")
        self._store, self._signer, self._origin = store, signer, origin
        self.interval_s = interval_s
        self.runs = 0
        self.failures = 0
        self.sealed = 0
        self.last: SealResult | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="otel-audit-sealer", daemon=True)
        self._thread.start()
        atexit.register(self.shutdown)

    def seal_now(self) -> SealResult | None:
        """Seal what is pending now, in the caller's thread; ``None`` if it failed (logged)."""
        with self._lock:
            self.runs += 1
            try:
                result = seal(self._store, self._signer, origin=self._origin)
            except Exception:
                self.failures += 1
                _logger.exception("scheduled seal failed; retrying in %s s", self.interval_s)
                return None
            self.sealed += result.sealed
            self.last = result
            return result

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.seal_now()

    def shutdown(self, timeout_s: float = 30.0) -> None:
        """Stop the thread and seal once more (idempotent)."""
        if self._stop.is_set():
            return
        self._stop.set()
        atexit.unregister(self.shutdown)
        self._thread.join(timeout_s)
        self.seal_now()
