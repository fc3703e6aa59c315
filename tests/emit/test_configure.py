"""configure(): precedence of arguments and OTEL_* variables, OTLP export to a real server."""

from __future__ import annotations

import gzip
import http.server
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

import otel_audit
from otel_audit.errors import ConfigError
from otel_audit.store.connect import Store


class _OTLPCollector(http.server.ThreadingHTTPServer):
    """A minimal OTLP/HTTP protobuf receiver on loopback that keeps what it gets."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _OTLPHandler)
        self.logs: list[ExportLogsServiceRequest] = []
        self.traces: list[ExportTraceServiceRequest] = []


class _OTLPHandler(http.server.BaseHTTPRequestHandler):
    server: _OTLPCollector

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        if self.path == "/v1/logs":
            self.server.logs.append(ExportLogsServiceRequest.FromString(body))
        elif self.path == "/v1/traces":
            self.server.traces.append(ExportTraceServiceRequest.FromString(body))
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[_OTLPCollector]:
    """A real OTLP/HTTP receiver on an ephemeral loopback port."""
    server = _OTLPCollector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


class TestOTLP:
    def test_records_reach_an_otlp_receiver(self, collector: _OTLPCollector) -> None:
        """With an OTLP endpoint and no store, the log record and span arrive over OTLP/HTTP."""
        endpoint = f"http://127.0.0.1:{collector.server_address[1]}"
        otel_audit.configure(store=False, otlp_endpoint=endpoint, service_name="otlp-test", schedule_delay_ms=50)
        with otel_audit.audit_prediction(model="m", version="2", user_id="u", input={"a": [1, 2]}) as p:
            p.output = {"label": "x"}
        assert otel_audit.flush(30)
        [request] = collector.logs
        resource_logs = request.resource_logs[0]
        service = {kv.key: kv.value.string_value for kv in resource_logs.resource.attributes}["service.name"]
        assert service == "otlp-test"
        [record] = resource_logs.scope_logs[0].log_records
        assert record.event_name == "ai.prediction"
        attributes = {kv.key: kv.value for kv in record.attributes}
        assert attributes["gen_ai.request.model"].string_value == "m"
        assert attributes["audit.input.hash"].string_value == otel_audit.hash_input({"a": [1, 2]})
        body = {kv.key: kv.value for kv in record.body.kvlist_value.values}
        assert [v.int_value for v in body["input"].kvlist_value.values[0].value.array_value.values] == [1, 2]
        [span] = collector.traces[0].resource_spans[0].scope_spans[0].spans
        assert span.name == "predict m"
        assert span.span_id == record.span_id and span.trace_id == record.trace_id

    def test_endpoint_from_the_standard_variable(
        self, collector: _OTLPCollector, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """OTEL_EXPORTER_OTLP_ENDPOINT alone selects OTLP and no store."""
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{collector.server_address[1]}")
        runtime = otel_audit.configure(schedule_delay_ms=50)
        assert runtime.store is None
        with otel_audit.audit_prediction(model="m", version="1", input=1):
            pass
        assert otel_audit.flush(30)
        assert len(collector.logs) == 1

    def test_unsupported_protocol_is_refused(self) -> None:
        """A protocol other than http/protobuf or grpc is a ConfigError."""
        with pytest.raises(ConfigError, match="http/json"):
            otel_audit.configure(store=False, otlp_endpoint="http://127.0.0.1:1", otlp_protocol="http/json")


class TestEnvironment:
    def test_store_and_service_from_env(self, store_dsn: str, monkeypatch: pytest.MonkeyPatch) -> None:
        """OTEL_AUDIT_STORE names the store and OTEL_SERVICE_NAME the service."""
        monkeypatch.setenv("OTEL_AUDIT_STORE", store_dsn)
        monkeypatch.setenv("OTEL_SERVICE_NAME", "from-env")
        monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=staging")
        with otel_audit.audit_prediction(model="m", version="1", input=1):  # configures lazily
            pass
        assert otel_audit.flush(30)
        store = otel_audit.get_runtime().store
        assert store is not None and store.dsn == store_dsn
        [row] = store.query("SELECT ServiceName, ResourceAttributes FROM otel_logs").rows
        assert row[0] == "from-env" and row[1]["deployment.environment.name"] == "staging"

    def test_bad_env_values_fall_back_to_defaults(self, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
        """A malformed OTEL_AUDIT_* value is logged and replaced by its default."""
        monkeypatch.setenv("OTEL_AUDIT_QUEUE_SIZE", "lots")
        monkeypatch.setenv("OTEL_AUDIT_SPANS", "maybe")
        otel_audit.configure(store=store)
        with otel_audit.audit_prediction(model="m", version="1", input=1):
            pass
        assert otel_audit.flush(30)
        assert store.query("SELECT count() FROM otel_traces").rows[0][0] == 1

    def test_spans_can_be_turned_off(self, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
        """OTEL_AUDIT_SPANS=false keeps only the log records."""
        monkeypatch.setenv("OTEL_AUDIT_SPANS", "false")
        otel_audit.configure(store=store)
        with otel_audit.audit_prediction(model="m", version="1", input=1):
            pass
        assert otel_audit.flush(30)
        assert store.query("SELECT count() FROM otel_traces").rows[0][0] == 0
        assert store.query("SELECT count() FROM audit_predictions").rows[0][0] == 1

    def test_bad_arguments_raise(self, store: Store) -> None:
        """Invalid explicit arguments raise ConfigError at configure time."""
        with pytest.raises(ConfigError, match="queue_size"):
            otel_audit.configure(store=store, queue_size=0)
        with pytest.raises(ConfigError, match="nothing to export"):
            otel_audit.configure(store=False)


class TestProcessLifecycle:
    def test_forked_child_exports_through_its_own_threads(self, tmp_path: Path) -> None:
        """After fork() the child's queues get fresh worker threads, so its predictions are exported."""
        out = tmp_path / "records.txt"
        script = textwrap.dedent(f"""
            import os
            import otel_audit
            from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult

            class FileExporter(LogRecordExporter):
                def export(self, batch):
                    with open({str(out)!r}, "a") as f:
                        for r in batch:
                            f.write(f"{{os.getpid()}} {{r.log_record.attributes['gen_ai.request.model']}}\\n")
                    return LogRecordExportResult.SUCCESS
                def shutdown(self): pass
                def force_flush(self, timeout_millis=0): return True

            otel_audit.configure(store=False, log_exporters=[FileExporter()], spans=False)
            with otel_audit.audit_prediction(model="parent", version="1", input=0):
                pass
            assert otel_audit.flush(30)
            pid = os.fork()
            if pid == 0:
                for i in range(10):
                    with otel_audit.audit_prediction(model="child", version="1", input=i):
                        pass
                os._exit(0 if otel_audit.flush(30) else 1)
            _, status = os.waitpid(pid, 0)
            assert os.waitstatus_to_exitcode(status) == 0
            with otel_audit.audit_prediction(model="parent-after", version="1", input=1):
                pass
        """)
        result = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
        )
        assert result.returncode == 0, result.stderr
        lines = [line.split() for line in out.read_text().splitlines()]
        models = sorted(model for _, model in lines)
        assert models == ["child"] * 10 + ["parent", "parent-after"]
        assert len({pid for pid, model in lines if model == "child"}) == 1
        assert {pid for pid, model in lines if model == "child"} != {pid for pid, model in lines if model == "parent"}
