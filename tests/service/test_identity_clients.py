"""Plain OpenTelemetry clients (Python and JS SDKs) through a real `serve`: every record counted once."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from serve_process import ServeProcess

from otel_audit.answer import queries
from otel_audit.store.connect import open_store

JSCLIENT = Path(__file__).parents[1] / "jsclient"


def _usage(server: ServeProcess, model: str) -> int:
    server.wait_drained()
    return int(queries.model_usage(open_store(server.dsn), model)["total_predictions"])


class TestPythonSdk:
    def test_several_per_span_none_in_a_span_and_a_retried_request(self, shared_server: ServeProcess) -> None:
        """3 records in one span + 4 identical ones in no span are 7; the same request sent again adds none."""
        provider = LoggerProvider(resource=Resource({"service.name": "py-plain"}))
        captured = InMemoryLogRecordExporter()
        provider.add_log_record_processor(SimpleLogRecordProcessor(captured))
        provider.add_log_record_processor(
            SimpleLogRecordProcessor(OTLPLogExporter(endpoint=shared_server.url + "/v1/logs"))
        )
        logger = provider.get_logger("py-plain")
        tracer = TracerProvider().get_tracer("py-plain")

        def predict(value: object) -> None:
            logger.emit(
                body={"input": {"x": value}, "output": {"label": "ok"}},
                event_name="ai.prediction",
                severity_number=SeverityNumber.INFO,
                attributes={"gen_ai.request.model": "py_plain", "ml.model.version": "1"},
            )

        with tracer.start_as_current_span("request"):
            assert trace.get_current_span().get_span_context().is_valid
            for n in range(3):
                predict(n)
        for _ in range(4):
            predict("same")
        provider.shutdown()
        assert _usage(shared_server, "py_plain") == 7

        retry = encode_logs(captured.get_finished_logs()).SerializeToString()  # the same 7 records again
        for _ in range(2):
            assert shared_server.post("/v1/logs", retry, "application/x-protobuf")[0] == 200
        assert _usage(shared_server, "py_plain") == 7


class TestJsSdk:
    def test_records_in_one_span_and_outside_any_span(self, shared_server: ServeProcess) -> None:
        """The JS SDK's 3 records in one span and 25 identical ones outside any span are 28 predictions."""
        node = shutil.which("node")
        assert node, "node is required (installed by .ci/run)"
        sent = subprocess.run(
            [node, str(JSCLIENT / "send_plain.mjs"), shared_server.url + "/v1/logs", "js_plain", "25"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert sent.returncode == 0, sent.stderr
        assert json.loads(sent.stdout) == {"sent": 28}
        assert _usage(shared_server, "js_plain") == 28
