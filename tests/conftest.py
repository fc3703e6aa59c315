"""Shared fixtures: one real chDB engine per test process, one database per test.

chDB runs a single engine per process, so every test uses the same on-disk path and gets
isolation from its own database (``chdb:///…?database=t_<n>``).
"""

from __future__ import annotations

import http.server
import itertools
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

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


class _CountingHandler(http.server.BaseHTTPRequestHandler):
    """Answers every GET with a marker and records the path it was asked for."""

    hits: ClassVar[list[str]] = []
    marker: ClassVar[str] = "local-service-secret"

    def do_GET(self) -> None:
        _CountingHandler.hits.append(self.path)
        body = self.marker.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


@pytest.fixture
def local_http() -> Iterator[tuple[str, list[str]]]:
    """A real HTTP service on loopback (URL, list of paths requested): what a query must never reach."""
    _CountingHandler.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CountingHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/admin", _CountingHandler.hits
    server.shutdown()
    server.server_close()
