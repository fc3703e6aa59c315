"""A non-Python client: the OpenTelemetry JS SDK (npm) sends audit records to a real `serve`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from serve_process import ROOT, ServeProcess

from otel_audit.emit.hashing import hash_input
from otel_audit.store.connect import open_store

JSCLIENT = Path(__file__).parents[1] / "jsclient"


class TestJsClient:
    def test_js_sdk_records_show_up_in_model_usage(self, shared_server: ServeProcess) -> None:
        """Records from the JS SDK's OTLP/HTTP logs exporter appear in `report model-usage`, hashes intact."""
        node = shutil.which("node")
        assert node, "node is required (installed by .ci/run)"
        assert (JSCLIENT / "node_modules" / "@opentelemetry" / "sdk-logs").is_dir(), (
            "run: npm ci --prefix tests/jsclient"
        )
        sent = subprocess.run(
            [node, str(JSCLIENT / "send_audit.mjs"), shared_server.url + "/v1/logs", "js_fraud", "40"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert sent.returncode == 0, sent.stderr
        shared_server.wait_drained()
        command = [sys.executable, "-m", "otel_audit.cli", "report", "model-usage", "--model", "js_fraud"]
        report = subprocess.run(
            [*command, "--store", shared_server.dsn, "-f", "json"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
            check=False,
        )
        assert report.returncode == 0, report.stderr
        usage = json.loads(report.stdout)
        assert usage["total_predictions"] == 40
        assert usage["versions_used"] == {"js-1.0": 20, "js-1.1": 20}
        assert usage["unique_users"] == 4
        rows = (
            open_store(shared_server.dsn)
            .query("SELECT Input, InputHash, ServiceName FROM audit_predictions WHERE ModelName = 'js_fraud'")
            .rows
        )
        assert {service for _, _, service in rows} == {"js-scoring-service"}
        assert all(hash_input(json.loads(text)) == digest for text, digest, _ in rows)
