"""`otel-audit serve` logs its start, drain and stop, with counts, through structlog."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from otel_audit import semconv
from otel_audit.diagnostics import configure_logging
from otel_audit.service.server import AuditServer, ServeConfig


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """configure_logging("json") into a buffer; the root logger is put back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    out = io.StringIO()
    configure_logging("json", stream=out)
    yield out
    root.handlers[:] = handlers
    root.setLevel(level)


def _request(count: int) -> bytes:
    """An OTLP/JSON logs request of *count* prediction records."""
    now = time.time_ns()
    records = [
        {
            "timeUnixNano": str(now + index),
            "eventName": semconv.EVENT_PREDICTION,
            "body": {"kvlistValue": {"values": [{"key": "input", "value": {"intValue": str(index)}}]}},
            "attributes": [
                {"key": semconv.GEN_AI_REQUEST_MODEL, "value": {"stringValue": "logged"}},
                {"key": semconv.ML_MODEL_VERSION, "value": {"stringValue": "v1"}},
            ],
        }
        for index in range(count)
    ]
    return json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": records}]}]}).encode()


def _events(out: io.StringIO, name: str) -> list[dict[str, Any]]:
    return [event for event in map(json.loads, out.getvalue().splitlines()) if event["event"] == name]


class TestServeLifecycleLog:
    def test_start_drain_stop_with_counts(self, json_log: io.StringIO, store_dsn: str, tmp_path: Path) -> None:
        """Start says where it listens, drain what is spooled, stop what was accepted and stored and that it drained."""
        config = ServeConfig(store=store_dsn, port=0, grpc_port=None, spool_dir=tmp_path / "spool", rollup_interval_s=0)
        server = AuditServer(config)
        server.start()
        (started,) = _events(json_log, "serve started")
        assert started["http"] == f"127.0.0.1:{server.http_port}" and started["grpc"] == "off"
        assert started["replayed_records"] == 0 and started["sealing"] == "off" and started["level"] == "info"
        server.ingest("logs", _request(3), json_encoded=True)
        assert server.stop() is True
        (draining,) = _events(json_log, "serve draining")
        assert draining["logs_accepted"] == 3 and draining["spooled_records"] in (0, 3)
        (stopped,) = _events(json_log, "serve stopped")
        assert stopped["drained"] is True and stopped["left_spooled_records"] == 0
        assert (stopped["logs_accepted"], stopped["logs_stored"], stopped["logs_dropped"]) == (3, 3, 0)
        assert stopped["logger"] == "otel_audit.service.server"
