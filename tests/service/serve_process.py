"""A real ``otel-audit serve`` subprocess on loopback, on ephemeral ports."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


class ServeProcess:
    """One ``python -m otel_audit.cli serve`` process owning the chDB store at *path*."""

    def __init__(self, path: Path, *, env: dict[str, str] | None = None, args: list[str] | None = None) -> None:
        self.path = path
        self.dsn = f"chdb://{path}"
        self._env = env or {}
        self._args = args or []
        self.process: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}

    def start(self, timeout: float = 90.0) -> ServeProcess:
        """Start the server and wait until its serve file names it."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_AUDIT_")}
        env.update(self._env)
        command = [sys.executable, "-m", "otel_audit.cli", "serve", "--store", self.dsn, "--port", "0"]
        command += ["--grpc-port", "0", *self._args]
        self.log = self.path.parent / f"serve-{time.monotonic_ns()}.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        serve_file = self.path / "otel-audit.serve.json"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited {self.process.returncode}: {self.log.read_text()[-2000:]}")
            try:
                info = json.loads(serve_file.read_text())
            except (OSError, ValueError):
                info = {}
            if info.get("pid") == self.process.pid:
                self.info = info
                return self
            time.sleep(0.05)
        raise AssertionError(f"serve did not start: {self.log.read_text()[-2000:]}")

    @property
    def url(self) -> str:
        return str(self.info["url"])

    @property
    def query_token(self) -> str:
        """The query token the server wrote for its owner (or the one it was given)."""
        return Path(self.info["query_token_file"]).read_text().strip()

    @property
    def query_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.query_token}"}

    @property
    def grpc_endpoint(self) -> str:
        return f"127.0.0.1:{self.info['grpc_port']}"

    def post(
        self, path: str, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        """POST *body*; return (status, response body) for success and HTTP errors alike."""
        request = urllib.request.Request(self.url + path, data=body, method="POST")
        request.add_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def status(self, token: str | None = None) -> dict[str, Any]:
        """``GET /status`` with *token*, else the server's query token."""
        request = urllib.request.Request(self.url + "/status")
        request.add_header("Authorization", f"Bearer {token or self.query_token}")
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())  # type: ignore[no-any-return]

    def fault(self, action: str) -> None:
        status, body = self.post(
            "/debug/fault", json.dumps({"action": action}).encode(), "application/json", self.query_headers
        )
        assert status == 200, body

    def wait_drained(self, timeout: float = 60.0) -> dict[str, Any]:
        """Wait until the spool is empty; return the final status."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.status()
            if status["spool"]["requests"] == 0:
                return status
            time.sleep(0.05)
        raise AssertionError(f"spool not drained: {self.status()}")

    def terminate(self, timeout: float = 60.0) -> int:
        """SIGTERM (graceful flush); return the exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        """SIGKILL, no chance to flush."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)
