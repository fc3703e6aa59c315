"""Seal on a schedule inside a long-running process (see :mod:`otel_audit.periodic`).

Usage::

    scheduler = SealScheduler(store, load_signer("keys/audit.key"), interval_s=60)
    ...
    scheduler.shutdown()  # seals once more, then stops; also runs at exit
"""

from __future__ import annotations

from otel_audit.periodic import PeriodicJob
from otel_audit.seal.checkpoint import NoteSigner
from otel_audit.seal.sealer import SealResult, seal
from otel_audit.store.connect import Store

__all__ = ["SealScheduler"]


class SealScheduler(PeriodicJob[SealResult]):
    """Calls :func:`~otel_audit.seal.sealer.seal` every *interval_s*; :attr:`sealed` sums the records."""

    def __init__(self, store: Store, signer: NoteSigner, *, interval_s: float = 60.0, origin: str | None = None):
        self.sealed = 0

        def seal_pending() -> SealResult:
            result = seal(store, signer, origin=origin)
            self.sealed += result.sealed
            return result

        super().__init__("otel-audit-sealer", seal_pending, interval_s=interval_s)

    def seal_now(self) -> SealResult | None:
        """Seal what is pending now, in the caller's thread; ``None`` if it failed (logged)."""
        return self.run_now()
