"""Shared fixtures: one real chDB engine per test process, one database per test.

chDB runs a single engine per process, so every test uses the same on-disk path and gets
isolation from its own database (``chdb:///…?database=t_<n>``).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import otel_audit
from otel_audit.emit import runtime as runtime_module
from otel_audit.stats import pipeline_stats
from otel_audit.store.connect import Store, open_store
from otel_audit.store.schema import apply_schema

_counter = itertools.count()


@pytest.fixture(scope="session")
def engine_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The on-disk chDB path this test process owns."""
    return tmp_path_factory.mktemp("chdb") / "store"


@pytest.fixture
def store_dsn(engine_path: Path) -> str:
    """A DSN naming a fresh, empty database in the process's chDB engine."""
    return f"chdb://{engine_path}?database=t_{os.getpid()}_{next(_counter)}"


@pytest.fixture
def store(store_dsn: str) -> Iterator[Store]:
    """An open store with the schema applied."""
    opened = open_store(store_dsn)
    apply_schema(opened)
    yield opened


@pytest.fixture(autouse=True)
def _clean_runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts with no configured runtime, zeroed counters and no OTEL_AUDIT_* env."""
    for name in list(os.environ):
        if name.startswith(("OTEL_AUDIT_", "OTEL_EXPORTER_OTLP")):
            monkeypatch.delenv(name)
    otel_audit.shutdown()
    pipeline_stats.reset()
    yield
    otel_audit.shutdown()
    assert runtime_module._runtime is None


@pytest.fixture
def runtime(store: Store) -> otel_audit.AuditRuntime:
    """otel-audit configured on the test's store, exporting quickly."""
    return otel_audit.configure(store=store, service_name="tests", schedule_delay_ms=50)
