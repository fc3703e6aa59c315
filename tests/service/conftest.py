"""Fixtures starting real ``otel-audit serve`` subprocesses for the service tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from serve_process import ServeProcess


@pytest.fixture
def serve_factory(tmp_path: Path) -> Iterator[Any]:
    """Start servers on stores under tmp_path; every one still running is stopped afterwards."""
    started: list[ServeProcess] = []

    def start(name: str = "store", **kwargs: Any) -> ServeProcess:
        server = ServeProcess(tmp_path / name, **kwargs).start()
        started.append(server)
        return server

    yield start
    for server in started:
        if server.process is not None and server.process.poll() is None:
            server.kill()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """One server for the tests that only add records under their own ids."""
    server = ServeProcess(tmp_path_factory.mktemp("serve") / "store").start()
    yield server
    server.terminate()
