"""Fixtures for the tamper-evidence tests: a signing key and a store of real audited predictions."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

import otel_audit
from otel_audit.seal.checkpoint import NoteSigner
from otel_audit.store.connect import Store


@pytest.fixture(scope="session")
def signer() -> NoteSigner:
    """A fresh Ed25519 signing key."""
    return NoteSigner("audit.test", os.urandom(32))


Emitter = Callable[..., None]


def _emit_predictions(runtime: otel_audit.AuditRuntime, count: int, *, start: int = 0, model: str = "fraud") -> None:
    for n in range(start, start + count):
        with otel_audit.audit_prediction(
            model=model,
            version="v1",
            input={"amount": n * 1.5, "card": f"4111-{n:04d}"},
            user_id=f"u{n % 3}",
            request_id=f"r{n}",
        ) as prediction:
            prediction.output = {"label": "fraud" if n % 4 == 0 else "ok", "score": n / 100}
    assert runtime.flush(30)


@pytest.fixture
def emit(runtime: otel_audit.AuditRuntime) -> Emitter:
    """``emit(count, start=0, model="fraud")`` audits predictions through the SDK (request ids ``r<n>``,
    users ``u0``..``u2``) and flushes them to the test's store."""
    return lambda count, **kw: _emit_predictions(runtime, count, **kw)


@pytest.fixture
def filled(store: Store, emit: Emitter) -> Store:
    """A store holding 12 audited predictions, not sealed."""
    emit(12)
    return store
