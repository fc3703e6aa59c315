"""Sealing on a schedule in a background thread."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from otel_audit.seal.checkpoint import NoteSigner
from otel_audit.seal.scheduler import SealScheduler
from otel_audit.seal.sealer import verify
from otel_audit.store.connect import Store


class TestSealScheduler:
    def test_seals_periodically_and_on_shutdown(
        self, filled: Store, signer: NoteSigner, emit: Callable[..., None]
    ) -> None:
        """The thread seals pending records within an interval, and shutdown seals the rest."""
        scheduler = SealScheduler(filled, signer, interval_s=0.1)
        deadline = time.monotonic() + 10
        while scheduler.sealed < 12 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert scheduler.sealed == 12
        emit(2, start=30)
        scheduler.shutdown()
        scheduler.shutdown()
        assert scheduler.sealed == 14 and scheduler.failures == 0
        assert verify(filled, signer.verifier).ok

    def test_failures_are_counted_not_raised(self, filled: Store, signer: NoteSigner) -> None:
        """A failing seal (tampered tree) is logged and counted; the scheduler keeps running."""
        scheduler = SealScheduler(filled, signer, interval_s=60)
        assert scheduler.seal_now() is not None
        filled.command("ALTER TABLE audit_seal_leaves DELETE WHERE LeafIndex = 0", settings={"mutations_sync": 2})
        assert scheduler.seal_now() is None and scheduler.failures == 1
        scheduler.shutdown()
        assert scheduler.failures == 2

    def test_bad_interval(self, filled: Store, signer: NoteSigner) -> None:
        """A non-positive interval is refused at construction."""
        with pytest.raises(ValueError, match="interval_s"):
            SealScheduler(filled, signer, interval_s=0)
