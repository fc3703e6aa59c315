"""`opentelemetry-instrument python app.py` audits an unmodified app into OTEL_AUDIT_STORE."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import tomllib

import otel_audit

_ROOT = Path(__file__).resolve().parents[2]
_SCRIPT = Path(__file__).parent / "scripts" / "zero_code_app.py"


def _shipped_entry_points() -> dict[str, str]:
    pyproject = tomllib.loads((_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return dict(pyproject["project"]["entry-points"]["opentelemetry_instrumentor"])


def _python_path(tmp_path: Path) -> str:
    """The worktree, plus pyproject's instrumentor entry points if the installed metadata predates them."""
    paths = [str(_ROOT)]
    shipped = _shipped_entry_points()
    installed = {e.name for e in entry_points(group="opentelemetry_instrumentor")}
    if not set(shipped) <= installed:
        dist_info = tmp_path / "site" / "otel_audit_worktree-0.dist-info"
        dist_info.mkdir(parents=True)
        (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: otel-audit-worktree\nVersion: 0\n")
        lines = "".join(f"{name} = {target}\n" for name, target in shipped.items())
        (dist_info / "entry_points.txt").write_text(f"[opentelemetry_instrumentor]\n{lines}")
        paths.append(str(tmp_path / "site"))
    return os.pathsep.join(paths)


class _Collector(BaseHTTPRequestHandler):
    """An OTLP/HTTP receiver on loopback that keeps what it is sent."""

    received: ClassVar[list[tuple[str, bytes]]] = []

    def do_POST(self) -> None:
        self.received.append((self.path, self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return


@pytest.fixture
def collector() -> Iterator[tuple[str, list[tuple[str, bytes]]]]:
    """An OTLP/HTTP endpoint on 127.0.0.1 and the list of (path, body) it received."""
    received: list[tuple[str, bytes]] = []
    handler = type("Handler", (_Collector,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("OTEL_", "PYTHONPATH"))}
    env.update(
        OTEL_AUDIT_SCHEDULE_DELAY_MS="50",
        OTEL_TRACES_EXPORTER="none",
        OTEL_METRICS_EXPORTER="none",
        OTEL_LOGS_EXPORTER="none",
        PYTHONPATH=_python_path(tmp_path),
        **extra,
    )
    return env


def _run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(args, env=env, cwd=_ROOT, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


class TestZeroCode:
    def test_unmodified_app_reaches_the_store(self, tmp_path: Path) -> None:
        """An app run under opentelemetry-instrument leaves one batch record, findable by a row's hash."""
        dsn = f"chdb://{tmp_path / 'app-store'}"
        env = _env(tmp_path, OTEL_AUDIT_STORE=dsn)
        launcher = str(Path(sys.executable).with_name("opentelemetry-instrument"))
        output = json.loads(_run([launcher, sys.executable, str(_SCRIPT)], env))

        features = np.arange(24, dtype=np.float64).reshape(8, 3) / 10
        report = json.loads(
            _run(
                [
                    sys.executable,
                    "-m",
                    "otel_audit.cli",
                    "report",
                    "input",
                    otel_audit.hash_input(features[2]),
                    "--store",
                    dsn,
                    "--format",
                    "json",
                ],
                env,
            )
        )
        [row] = report["batch_rows"]
        assert row["model"] == "LogisticRegression"
        assert row["version"].startswith("sha256:")
        assert (row["batch_size"], row["row"]) == (4, 2)
        assert row["row_output"] == str(output["predictions"][2])
        whole = json.loads(
            _run(
                [
                    sys.executable,
                    "-m",
                    "otel_audit.cli",
                    "report",
                    "input",
                    otel_audit.hash_input(features[:4]),
                    "--store",
                    dsn,
                    "--format",
                    "json",
                ],
                env,
            )
        )
        assert whole["found"] == 1

    def test_unmodified_app_reaches_an_otlp_endpoint(
        self, tmp_path: Path, collector: tuple[str, list[tuple[str, bytes]]]
    ) -> None:
        """With OTEL_AUDIT_STORE=none and OTEL_EXPORTER_OTLP_ENDPOINT set, the record is sent over OTLP/HTTP."""
        endpoint, received = collector
        env = _env(tmp_path, OTEL_AUDIT_STORE="none", OTEL_EXPORTER_OTLP_ENDPOINT=endpoint)
        launcher = str(Path(sys.executable).with_name("opentelemetry-instrument"))
        _run([launcher, sys.executable, str(_SCRIPT)], env)
        logs = b"".join(body for path, body in received if path == "/v1/logs")
        assert b"LogisticRegression" in logs
        features = np.arange(24, dtype=np.float64).reshape(8, 3) / 10
        assert otel_audit.hash_input(features[2]).encode() in logs
