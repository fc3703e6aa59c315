"""Every report command works through a running serve's front door, not only the first five."""

from __future__ import annotations

import json
import time
from typing import Any

from typer.testing import CliRunner

from otel_audit import semconv
from otel_audit.cli import app


def _request(count: int) -> bytes:
    records = [
        {
            "timeUnixNano": str(time.time_ns() + index),
            "eventName": semconv.EVENT_PREDICTION,
            "body": {"kvlistValue": {"values": [{"key": "input", "value": {"intValue": str(index)}}]}},
            "attributes": [
                {"key": k, "value": {"stringValue": v}}
                for k, v in {
                    semconv.GEN_AI_REQUEST_MODEL: "door",
                    semconv.ML_MODEL_VERSION: "v1",
                    semconv.AUDIT_REQUEST_ID: f"door-{index}",
                    semconv.AUDIT_OUTCOME: "ok" if index % 2 else "error",
                }.items()
            ],
        }
        for index in range(count)
    ]
    return json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": records}]}]}).encode()


class TestFrontDoorReports:
    def test_new_reports_through_a_running_server(self, serve_factory: Any) -> None:
        """outcomes, version-timeline and model-usage read a store that a running serve owns."""
        server = serve_factory("door")
        status, _ = server.post("/v1/logs", _request(6), "application/json")
        assert status == 200
        server.wait_drained()
        runner = CliRunner()
        for command in (["report", "outcomes"], ["report", "version-timeline", "--model", "door"],
                        ["report", "model-usage", "--model", "door"], ["report", "redactions", "--model", "door"],
                        ["report", "compliance", "--model", "door"]):  # fmt: skip
            result = runner.invoke(app, [*command, "--store", server.dsn, "-f", "json"])
            assert result.exit_code == 0, result.stderr
            assert json.loads(result.stdout)
        # The model check and its list of known models run through the server's sandbox too.
        result = runner.invoke(app, ["report", "model-usage", "--model", "dor", "--store", server.dsn])
        assert result.exit_code == 4 and "known models, closest first: 'door'" in result.stderr
        assert server.terminate() == 0
