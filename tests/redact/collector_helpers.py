"""Run the real ``otelcol-audit`` binary on loopback and read what its file exporter wrote."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redaction_helpers import ROOT

from otel_audit.redact import RedactionRules, collector

BINARY = ROOT / ".build" / "otelcol-audit" / "otelcol-audit"
CONFIG_DIR = ROOT / "collector-config"


def require_binary() -> Path:
    """The collector binary; fails (never skips) when ``make collector`` has not built it."""
    assert BINARY.is_file(), f"{BINARY} is missing: run `make collector` first (.ci/run does)"
    return BINARY


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningCollector:
    """A collector subprocess started on the shipped file-sink config with ephemeral ports."""

    process: subprocess.Popen[bytes]
    http_endpoint: str
    output: Path
    log: Path

    def records(self) -> list[dict[str, Any]]:
        """Every complete OTLP/JSON request line the file exporter has written so far."""
        if not self.output.exists():
            return []
        # The exporter may be mid-line: only lines ended by a newline are complete.
        complete = self.output.read_bytes().split(b"\n")[:-1]
        return [json.loads(line) for line in complete if line.strip()]

    def wait_for(
        self, logs: int, spans: int, timeout: float = 30.0
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Wait until the file holds *logs* log records and *spans* spans; return them decoded."""
        deadline = time.monotonic() + timeout
        while True:
            requests = self.records()
            found_logs = list(log_records(requests))
            found_spans = list(spans_of(requests))
            if (len(found_logs) >= logs and len(found_spans) >= spans) or time.monotonic() > deadline:
                return found_logs, found_spans
            assert self.process.poll() is None, f"collector exited: {self.log.read_text(errors='replace')[-2000:]}"
            time.sleep(0.2)


def start_collector(
    tmp: Path, config: Path | None = None, extra_env: Mapping[str, str] | None = None
) -> RunningCollector:
    """Start the collector on *config* (default: the shipped file-sink config), wait for health_check."""
    binary = require_binary()
    http_port, grpc_port, health_port, metrics_port = (free_port() for _ in range(4))
    output = tmp / "collector-out.jsonl"
    env = {
        **os.environ,
        collector.ENV_OTLP_HTTP_ENDPOINT: f"127.0.0.1:{http_port}",
        collector.ENV_OTLP_GRPC_ENDPOINT: f"127.0.0.1:{grpc_port}",
        collector.ENV_HEALTH_ENDPOINT: f"127.0.0.1:{health_port}",
        collector.ENV_METRICS_PORT: str(metrics_port),
        collector.ENV_FILE_PATH: str(output),
        **(extra_env or {}),
    }
    for name in (collector.ENV_REDACTION_RULES, collector.ENV_REDACTION_SECRET):
        if name not in (extra_env or {}):
            env.pop(name, None)  # the shipped rule file and no secret, unless the test says otherwise
    log = tmp / "collector.log"
    with log.open("wb") as stream:
        # From the repository root: the shipped configs name the rule file relative to it.
        process = subprocess.Popen(
            [str(binary), "--config", str(config or CONFIG_DIR / "file-sink.yaml")],
            cwd=ROOT,
            env=env,
            stdout=stream,
            stderr=subprocess.STDOUT,
        )
    running = RunningCollector(process, f"http://127.0.0.1:{http_port}", output, log)
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise AssertionError(f"collector exited early: {log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{health_port}/", timeout=1) as response:
                if response.status == 200:
                    return running
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            stop_collector(running)
            raise AssertionError(f"collector not healthy in 30 s: {log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.1)


def contrib_file_sink(tmp: Path, rules: RedactionRules) -> Path:
    """The ``contrib-only`` processors of *rules* with the file exporter, written into *tmp*."""
    path = tmp / "contrib-only-file-sink.yaml"
    path.write_text(collector.render_yaml(rules, "contrib-only", sink="file"), encoding="utf-8")
    return path


def stop_collector(running: RunningCollector) -> None:
    """Terminate the collector (SIGTERM, then SIGKILL after 10 s) and reap it."""
    if running.process.poll() is None:
        running.process.terminate()
        try:
            running.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            running.process.kill()
            running.process.wait(timeout=10)


def any_value(value: Mapping[str, Any]) -> Any:  # noqa: PLR0911 - one branch per AnyValue kind
    """An OTLP/JSON ``AnyValue`` as a Python value."""
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        return int(value["intValue"])
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "bytesValue" in value:
        return base64.b64decode(value["bytesValue"])
    if "arrayValue" in value:
        return [any_value(item) for item in value["arrayValue"].get("values", [])]
    if "kvlistValue" in value:
        return key_values(value["kvlistValue"].get("values", []))
    return None


def key_values(items: list[Mapping[str, Any]]) -> dict[str, Any]:
    """An OTLP/JSON ``KeyValue`` list as a dict."""
    return {item["key"]: any_value(item.get("value", {})) for item in items}


def log_records(requests: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Each log record of the exported requests as ``{"body", "attributes"}``."""
    for request in requests:
        for resource_logs in request.get("resourceLogs", []):
            for scope_logs in resource_logs.get("scopeLogs", []):
                for record in scope_logs.get("logRecords", []):
                    yield {
                        "body": any_value(record.get("body", {})),
                        "attributes": key_values(record.get("attributes", [])),
                    }


def spans_of(requests: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Each span of the exported requests as ``{"name", "attributes", "events", "links"}``."""
    for request in requests:
        for resource_spans in request.get("resourceSpans", []):
            for scope_spans in resource_spans.get("scopeSpans", []):
                for span in scope_spans.get("spans", []):
                    yield {
                        "name": span.get("name", ""),
                        "attributes": key_values(span.get("attributes", [])),
                        "events": [key_values(e.get("attributes", [])) for e in span.get("events", [])],
                        "links": [key_values(link.get("attributes", [])) for link in span.get("links", [])],
                    }
