"""A real ``otel-audit serve`` process: OTLP/HTTP and gRPC in, store, front door, bad input, faults."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from google.rpc import status_pb2
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as GrpcLogExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HttpLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from serve_process import ROOT, ServeProcess

from otel_audit import semconv
from otel_audit.errors import QueryError
from otel_audit.store.connect import Store, open_store
from otel_audit.store.front_door import FrontDoorStore
from otel_audit.store.sandbox import QueryRefusedError

_NOW_NS = time.time_ns()


def _logs_json(prefix: str, count: int, *, model: str = "json_model") -> dict[str, Any]:
    """An OTLP/JSON logs request with *count* audit records whose request ids start with *prefix*."""
    records = []
    for index in range(count):
        attributes = {
            semconv.GEN_AI_REQUEST_MODEL: model,
            semconv.ML_MODEL_VERSION: "v1",
            semconv.AUDIT_REQUEST_ID: f"{prefix}-{index}",
            semconv.USER_ID: "u1",
        }
        records.append(
            {
                "timeUnixNano": str(_NOW_NS + index),
                "severityNumber": 9,
                "eventName": semconv.EVENT_PREDICTION,
                "body": {"kvlistValue": {"values": [{"key": "input", "value": {"intValue": str(index)}}]}},
                "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in attributes.items()],
            }
        )
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "raw-json"}}]}
    return {"resourceLogs": [{"resource": resource, "scopeLogs": [{"logRecords": records}]}]}


def _count(store: Store, prefix: str) -> list[tuple[str, int]]:
    """(request id, number of otel_logs rows) for every record whose request id starts with *prefix*."""
    return store.query(
        "SELECT LogAttributes['audit.request.id'] AS id, count() FROM otel_logs "
        "WHERE startsWith(id, {prefix:String}) GROUP BY id ORDER BY id",
        {"prefix": prefix},
    ).rows


def _emit(provider: LoggerProvider, prefix: str, count: int, model: str) -> None:
    logger = provider.get_logger("sdk-test", "1.0")
    for index in range(count):
        logger.emit(
            body={"input": {"i": index}, "output": {"label": "yes"}},
            event_name=semconv.EVENT_PREDICTION,
            attributes={
                semconv.GEN_AI_REQUEST_MODEL: model,
                semconv.ML_MODEL_VERSION: "v7",
                semconv.AUDIT_REQUEST_ID: f"{prefix}-{index}",
                semconv.AUDIT_LATENCY_MS: 2.5,
                semconv.USER_ID: "sdk-user",
            },
        )


class TestSdkExporters:
    @pytest.mark.parametrize("transport", ["http", "grpc"])
    def test_logs_and_spans_reconciled(self, shared_server: ServeProcess, transport: str) -> None:
        """The OTel SDK's own OTLP exporters deliver logs and spans; counts and fields match in the store."""
        resource = Resource({"service.name": f"sdk-{transport}"})
        if transport == "http":
            log_exporter: Any = HttpLogExporter(endpoint=shared_server.url + "/v1/logs")
            span_exporter: Any = HttpSpanExporter(endpoint=shared_server.url + "/v1/traces")
        else:
            log_exporter = GrpcLogExporter(endpoint=shared_server.grpc_endpoint, insecure=True)
            span_exporter = GrpcSpanExporter(endpoint=shared_server.grpc_endpoint, insecure=True)
        logs = LoggerProvider(resource=resource)
        logs.add_log_record_processor(SimpleLogRecordProcessor(log_exporter))
        _emit(logs, transport, 20, f"model_{transport}")
        logs.shutdown()
        tracer_provider = TracerProvider(resource=resource)
        tracer_provider.add_span_processor(SimpleSpanProcessor(span_exporter))
        with tracer_provider.get_tracer("sdk-test").start_as_current_span("predict", attributes={"n": 3}):
            pass
        tracer_provider.shutdown()
        shared_server.wait_drained()

        store = open_store(shared_server.dsn)
        assert isinstance(store, FrontDoorStore)
        assert [count for _, count in _count(store, transport + "-")] == [1] * 20
        [row] = store.query(
            "SELECT ServiceName, ModelVersion, LatencyMs, UserId, Input, Output FROM audit_predictions "
            "WHERE RequestId = {id:String}",
            {"id": f"{transport}-3"},
        ).rows
        assert row == (f"sdk-{transport}", "v7", 2.5, "sdk-user", '{"i":3}', '{"label":"yes"}')
        [span] = store.query(
            "SELECT SpanName, SpanAttributes['n'], length(TraceId) FROM otel_traces WHERE ServiceName = {s:String}",
            {"s": f"sdk-{transport}"},
        ).rows
        assert span == ("predict", "3", 32)


class TestHttpReceiver:
    def test_json_with_gzip(self, shared_server: ServeProcess) -> None:
        """A gzip'd OTLP/JSON body is accepted with a JSON reply, and lands in audit_predictions."""
        body = gzip.compress(json.dumps(_logs_json("gz", 5)).encode())
        status, reply = shared_server.post("/v1/logs", body, "application/json", {"Content-Encoding": "gzip"})
        assert (status, json.loads(reply)) == (200, {})
        shared_server.wait_drained()
        store = open_store(shared_server.dsn)
        assert store.query("SELECT count() FROM audit_predictions WHERE startsWith(RequestId, 'gz-')").rows == [(5,)]

    def test_partial_success(self, shared_server: ServeProcess) -> None:
        """Records with malformed ids are rejected and counted in partialSuccess; the rest are stored."""
        document = _logs_json("partial", 3)
        document["resourceLogs"][0]["scopeLogs"][0]["logRecords"][1]["traceId"] = "abcd"
        status, reply = shared_server.post("/v1/logs", json.dumps(document).encode(), "application/json")
        assert status == 200
        assert json.loads(reply) == {
            "partialSuccess": {
                "rejectedLogRecords": "1",
                "errorMessage": "1 record(s) rejected: trace_id must be 16 bytes",
            }
        }
        shared_server.wait_drained()
        assert [i for i, _ in _count(open_store(shared_server.dsn), "partial-")] == ["partial-0", "partial-2"]

    @pytest.mark.parametrize(
        ("body", "content_type", "headers", "status", "message"),
        [
            (b"\x0a\x05\x0a\x03", "application/x-protobuf", {}, 400, "invalid OTLP protobuf"),
            (b'{"resourceLogs": 5}', "application/json", {}, 400, "must be a JSON array"),
            (b"", "application/json", {}, 400, "invalid OTLP JSON"),
            (b"[" * 5000 + b"]" * 5000, "application/json", {}, 400, "JSON"),
            (b'{"resourceLogs": [{"schemaUrl": "\xff"}]}', "application/json", {}, 400, "UTF-8"),
            (b"hello", "text/plain", {}, 415, "unsupported Content-Type"),
            (b"not gzip", "application/json", {"Content-Encoding": "gzip"}, 400, "invalid gzip"),
            (b"{}", "application/json", {"Content-Encoding": "br"}, 415, "Content-Encoding"),
        ],
        ids=["truncated-pb", "wrong-json", "empty", "deep", "utf8", "content-type", "bad-gzip", "brotli"],
    )
    def test_bad_input(  # noqa: PLR0917 - one parameter per column of the cases
        self,
        shared_server: ServeProcess,
        body: bytes,
        content_type: str,
        headers: dict[str, str],
        status: int,
        message: str,
    ) -> None:
        """Bad bodies get a clear 4xx with an OTLP Status message; the server keeps serving."""
        got, reply = shared_server.post("/v1/logs", body, content_type, headers)
        assert got == status
        if content_type == "application/x-protobuf":
            assert message in status_pb2.Status.FromString(reply).message
        else:
            assert message in json.loads(reply)["message"]
        assert shared_server.status()["pid"] == shared_server.info["pid"]

    def test_empty_protobuf_is_an_empty_success(self, shared_server: ServeProcess) -> None:
        """An empty protobuf body is a valid request with nothing in it."""
        status, reply = shared_server.post("/v1/logs", b"", "application/x-protobuf")
        assert status == 200 and ExportLogsServiceResponse.FromString(reply) == ExportLogsServiceResponse()

    def test_oversize_bodies(self, shared_server: ServeProcess) -> None:
        """A 50 MB body and a gzip bomb get 413; records accepted before are still stored."""
        before = json.dumps(_logs_json("before-big", 2)).encode()
        assert shared_server.post("/v1/logs", before, "application/json")[0] == 200
        status, reply = shared_server.post("/v1/logs", b"x" * (50 * 1024 * 1024), "application/x-protobuf")
        assert status == 413 and "exceeds the limit" in status_pb2.Status.FromString(reply).message
        bomb = gzip.compress(b" " * (80 * 1024 * 1024))
        status, reply = shared_server.post("/v1/logs", bomb, "application/json", {"Content-Encoding": "gzip"})
        assert status == 413 and "inflates beyond" in json.loads(reply)["message"]
        shared_server.wait_drained()
        assert len(_count(open_store(shared_server.dsn), "before-big-")) == 2


class TestFrontDoor:
    def test_cli_report_and_query_through_the_server(self, shared_server: ServeProcess) -> None:
        """`report model-usage` and `query` in another process run through the server, unchanged."""
        document = json.dumps(_logs_json("cli", 4, model="cli_model")).encode()
        assert shared_server.post("/v1/logs", document, "application/json")[0] == 200
        shared_server.wait_drained()
        cli = [sys.executable, "-m", "otel_audit.cli"]
        report = subprocess.run(
            [*cli, "report", "model-usage", "--model", "cli_model", "--store", shared_server.dsn, "-f", "json"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
            check=False,
        )
        assert report.returncode == 0, report.stderr
        assert json.loads(report.stdout)["total_predictions"] == 4
        where = ["--store", shared_server.dsn, "-f", "json"]
        query = subprocess.run(
            [*cli, "query", "SELECT count() AS n FROM audit_predictions WHERE ModelName = 'cli_model'", *where],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
            check=False,
        )
        assert query.returncode == 0, query.stderr
        assert json.loads(query.stdout) == [{"n": 4}]

    @pytest.mark.parametrize("sql", ["DROP TABLE otel_logs", "INSERT INTO otel_logs (Body) VALUES ('x')"])
    def test_writes_are_refused(self, shared_server: ServeProcess, sql: str) -> None:
        """Through the server only one SELECT runs: a write is refused by the sandbox, a command outright."""
        store = open_store(shared_server.dsn)
        with pytest.raises(QueryRefusedError, match="only one SELECT"):
            store.read(sql)
        with pytest.raises(QueryError, match="read-only"):
            store.command(sql)
        assert store.query("SELECT count() FROM system.tables WHERE name = 'otel_logs'").rows[0][0] >= 1

    def test_values_keep_their_types(self, shared_server: ServeProcess) -> None:
        """Datetimes, maps, arrays and tuples survive the trip, in parameters and results."""
        import datetime as dt

        at = dt.datetime(2026, 1, 2, 3, 4, 5, 123456)
        [row] = (
            open_store(shared_server.dsn)
            .query(
                "SELECT {at:DateTime64(6)} AS t, map('a', 1) AS m, [1, 2] AS a, tuple(1, 'x') AS p, "
                "toDecimal64(1.5, 2) AS d",
                {"at": at},
            )
            .rows
        )
        assert row[0] == at and row[1] == {"a": 1} and row[2] == [1, 2] and row[3] == (1, "x")
        assert str(row[4]) == "1.50"

    def test_status_command(self, shared_server: ServeProcess) -> None:
        """`otel-audit status` prints the server's counters."""
        result = subprocess.run(
            [sys.executable, "-m", "otel_audit.cli", "status", "--store", shared_server.dsn],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        status = json.loads(result.stdout)
        assert status["pid"] == shared_server.info["pid"] and "spool" in status and "retries" in status

    def test_status_without_a_server(self, tmp_path: Path) -> None:
        """`otel-audit status` on a store no server owns says so and exits 1; on no store at all, 5."""

        def status(path: Path) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "otel_audit.cli", "status", "--store", f"chdb://{path}"],
                capture_output=True,
                text=True,
                cwd=ROOT,
                timeout=60,
                check=False,
            )

        missing = status(tmp_path / "none")
        assert missing.returncode == 5 and not (tmp_path / "none").exists()
        made = subprocess.run(
            [sys.executable, "-m", "otel_audit.cli", "schema", "--store", f"chdb://{tmp_path}/idle"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
            check=False,
        )
        assert made.returncode == 0, made.stderr
        idle = status(tmp_path / "idle")
        assert idle.returncode == 1 and "no otel-audit serve is running" in idle.stderr


class TestSecurity:
    def test_ingest_token_guards_intake_only(
        self, serve_factory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The ingest token admits records but never queries; the owner's CLI queries with the query token."""
        token_file = tmp_path / "token"
        token_file.write_text("s3cret-token\n")
        server = serve_factory(args=["--token-file", str(token_file)])
        body = json.dumps(_logs_json("tok", 1)).encode()
        assert server.post("/v1/logs", body, "application/json")[0] == 401
        assert server.post("/v1/logs", body, "application/json", {"Authorization": "Bearer wrong"})[0] == 401
        ok = {"Authorization": "Bearer s3cret-token"}
        assert server.post("/v1/logs", body, "application/json", ok)[0] == 200
        with pytest.raises(urllib.error.HTTPError) as refused:
            server.status("s3cret-token")
        assert refused.value.code == 401
        query = json.dumps({"sql": "SELECT count() FROM otel_logs"}).encode()
        assert server.post("/v1/query", query, "application/json", ok)[0] == 401
        monkeypatch.setenv("OTEL_AUDIT_SERVE_TOKEN_FILE", str(token_file))  # an ingest token is not enough…
        store = open_store(server.dsn)
        assert isinstance(store, FrontDoorStore)  # …the owner's query token comes from the store directory
        deadline = time.monotonic() + 30
        while store.status()["spool"]["requests"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert store.query("SELECT count() FROM otel_logs").rows == [(1,)]

    def test_grpc_needs_the_token_too(self, serve_factory: Any, tmp_path: Path) -> None:
        """The gRPC exporter is refused without the token and accepted with it."""
        from opentelemetry.sdk._logs.export import LogRecordExportResult

        server = serve_factory(env={"OTEL_AUDIT_SERVE_TOKEN": "grpc-token"})
        provider = LoggerProvider()
        _emit(provider, "grpc-tok", 1, "m")  # a logger that exports nothing; the record is built below
        from opentelemetry._logs import LogRecord
        from opentelemetry.sdk._logs import ReadableLogRecord

        record = ReadableLogRecord(LogRecord(timestamp=time.time_ns(), body="x"), resource=Resource({}))
        results = []
        for headers in (None, {"authorization": "Bearer grpc-token"}):
            exporter = GrpcLogExporter(endpoint=server.grpc_endpoint, insecure=True, headers=headers, timeout=5)
            results.append(exporter.export([record]))
            exporter.shutdown()
        assert results == [LogRecordExportResult.FAILURE, LogRecordExportResult.SUCCESS]

    def test_non_loopback_without_token_is_refused(self, tmp_path: Path) -> None:
        """Binding 0.0.0.0 without a token exits with a one-line error before opening anything."""
        result = subprocess.run(
            [sys.executable, "-m", "otel_audit.cli", "serve", "--store", f"chdb://{tmp_path}/s", "--host", "0.0.0.0"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
            check=False,
        )
        assert result.returncode == 2
        assert "refusing to listen on 0.0.0.0 without a bearer token" in result.stderr
        assert "Traceback" not in result.stderr


class TestDurability:
    def test_sigterm_flushes_everything(self, serve_factory: Any) -> None:
        """Records acknowledged right before SIGTERM are in the store when the process exits 0."""
        server = serve_factory()
        for batch in range(20):
            body = json.dumps(_logs_json(f"term{batch:02d}", 50)).encode()
            assert server.post("/v1/logs", body, "application/json")[0] == 200
        assert server.terminate() == 0
        again = ServeProcess(server.path).start()
        try:
            status = again.status()
            assert status["spool"]["replayed_records"] == 0
            assert open_store(again.dsn).query("SELECT count() FROM otel_logs").rows == [(1000,)]
        finally:
            again.terminate()

    def test_kill_9_mid_stream(self, serve_factory: Any) -> None:
        """kill -9 while a client streams: after restart every acknowledged record is stored exactly once."""
        server = serve_factory()
        acked: list[str] = []
        stop = threading.Event()

        def stream() -> None:
            for batch in range(10_000):
                if stop.is_set():
                    return
                prefix = f"k{batch:05d}"
                try:
                    status, _ = server.post("/v1/logs", json.dumps(_logs_json(prefix, 20)).encode(), "application/json")
                except OSError:
                    return
                if status == 200:
                    acked.append(prefix)

        client = threading.Thread(target=stream)
        client.start()
        deadline = time.monotonic() + 60
        while len(acked) < 60 and time.monotonic() < deadline:
            time.sleep(0.01)
        server.kill()
        stop.set()
        client.join(60)
        assert len(acked) >= 60
        again = serve_factory()
        status = again.wait_drained()
        assert status["spool"]["replayed_records"] > 0  # the client outpaces the writer: a backlog was replayed
        counts = dict(_count(open_store(again.dsn), "k"))
        expected = {f"{prefix}-{index}" for prefix in acked for index in range(20)}
        missing = expected - counts.keys()
        assert not missing, f"{len(missing)} acknowledged records lost"
        assert {key: n for key, n in counts.items() if n != 1} == {}

    def test_replay_after_crash_between_insert_and_commit(self, serve_factory: Any) -> None:
        """A batch inserted but not yet marked stored when the process dies is not stored twice on replay."""
        server = serve_factory(env={"OTEL_AUDIT_SERVE_FAULTS": "1"})
        server.fault("detach_logs")  # hold the records in the spool, so they form one batch
        for batch in range(5):
            body = json.dumps(_logs_json(f"crash{batch}", 10)).encode()
            assert server.post("/v1/logs", body, "application/json")[0] == 200
        server.fault("kill_after_next_insert")
        server.fault("attach_logs")
        assert server.process is not None
        assert server.process.wait(60) == -9
        again = serve_factory(env={"OTEL_AUDIT_SERVE_FAULTS": "1"})
        status = again.wait_drained()
        assert status["spool"]["replayed_records"] == 50
        counts = _count(open_store(again.dsn), "crash")
        assert len(counts) == 50 and {n for _, n in counts} == {1}
        assert open_store(again.dsn).query("SELECT count() FROM audit_predictions").rows == [(50,)]

    def test_store_failing_then_recovering(self, serve_factory: Any) -> None:
        """While the store refuses writes, requests are still acked and spooled; after recovery all are stored once."""
        # Mapping in a worker process: the retried batch reuses what the worker mapped.
        server = serve_factory(env={"OTEL_AUDIT_SERVE_FAULTS": "1"}, args=["--map-workers", "1"])
        server.fault("detach_logs")
        for batch in range(10):
            body = json.dumps(_logs_json(f"down{batch}", 10)).encode()
            assert server.post("/v1/logs", body, "application/json")[0] == 200
        deadline = time.monotonic() + 30
        while server.status()["retries"] < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        status = server.status()
        assert status["retries"] >= 2 and status["spool"]["records"] == 100
        assert "otel_logs" in status["last_store_error"]
        server.fault("attach_logs")
        status = server.wait_drained()
        assert status["stored"]["logs"] == 100 and status["dropped"]["logs"] == 0
        counts = _count(open_store(server.dsn), "down")
        assert len(counts) == 100 and {n for _, n in counts} == {1}
