"""OTLP/HTTP ingest throughput into ``otel-audit serve``, records per second, client on the same box.

Starts a real ``otel-audit serve`` subprocess on a temporary on-disk store (loopback, ephemeral
port), pre-encodes OTLP protobuf logs requests of audit records (the attributes an otel-audit
prediction carries, the SDK encoder's output), then posts them from several client threads over
keep-alive connections. Reports

* **ack rate**: records acknowledged per second (decoded, validated, fsync'd to the spool);
* **stored rate**: records per second until ``/status`` says every one is in the store;
* the server's counters at the end (retries, drops must be 0);
* **engine insert**: the same rows (redacted and mapped in this process as the door and the writer
  do) inserted by Arrow straight into ``otel_logs`` of a fresh store with the full schema (its view
  into ``audit_predictions`` and its skip indexes), in serve's batches: what the engine itself
  costs. The stored rate's time over that time is serve's overhead ratio (target at most 2.5).

Each case runs on a fresh store, side by side, so their ratios are comparable: every
``--map-workers`` count (processes mapping OTLP to columns beside the inserts; 0 = in the writer
thread) with the logs mapped in Python (``--ingest-helper off``), then the Go ingest helper
(``--helper``, default ``.build/bin/otel-audit-ingest`` from ``make ingest-helper``) with the writer
alone. ``--no-redact`` turns redaction at the door off in serve and in the engine's rows.

Run: python bench/bench_serve.py [--n 200000] [--batch 1000] [--clients 4] [--map-workers 0 1 2]
     [--helper PATH | --helper off] [--no-redact]
"""

from __future__ import annotations

import argparse
import http.client
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from otel_audit import semconv
from otel_audit.export.otlp import count_logs, otlp_log_table
from otel_audit.service.config import ServeConfig
from otel_audit.service.intake import load_redactor
from otel_audit.service.redaction import redact_logs_request
from otel_audit.store.connect import open_store
from otel_audit.store.schema import apply_schema

ROOT = Path(__file__).resolve().parents[1]
HELPER = ROOT / ".build" / "bin" / "otel-audit-ingest"


def _requests(total: int, batch: int) -> list[bytes]:
    resource = Resource({"service.name": "bench", "deployment.environment.name": "bench"})
    scope = InstrumentationScope(semconv.SCOPE_NAME, "0.1.0")
    base = time.time_ns()
    bodies = []
    for start in range(0, total, batch):
        records = []
        for index in range(start, min(total, start + batch)):
            records.append(
                ReadableLogRecord(
                    LogRecord(
                        timestamp=base + index,
                        trace_id=0x1000 + index,
                        span_id=0x10 + index,
                        severity_number=SeverityNumber.INFO,
                        severity_text="INFO",
                        body={"input": {"amount": index, "country": "DE"}, "output": {"label": "ok"}},
                        attributes={
                            semconv.GEN_AI_REQUEST_MODEL: "fraud_detector",
                            semconv.GEN_AI_OPERATION_NAME: "predict",
                            semconv.ML_MODEL_VERSION: "v3.2.1",
                            semconv.AUDIT_REQUEST_ID: f"req-{index}",
                            semconv.AUDIT_INPUT_HASH: f"{index:064x}",
                            semconv.USER_ID: f"user-{index % 100}",
                            semconv.AUDIT_OUTCOME: "ok",
                            semconv.AUDIT_LATENCY_MS: 1.25,
                            semconv.AUDIT_SCHEMA_VERSION: semconv.SCHEMA_VERSION,
                        },
                        event_name=semconv.EVENT_PREDICTION,
                    ),
                    resource=resource,
                    instrumentation_scope=scope,
                )
            )
        bodies.append(encode_logs(records).SerializeToString())
    return bodies


QUERY_TOKEN = "bench-query-token"  # /status needs serve's query token


def _status(url: str) -> dict:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    connection.request("GET", "/status", headers={"Authorization": f"Bearer {QUERY_TOKEN}"})
    return json.loads(connection.getresponse().read())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000, help="records to send")
    parser.add_argument("--batch", type=int, default=1000, help="records per OTLP request")
    parser.add_argument("--clients", type=int, default=4, help="client threads")
    parser.add_argument("--map-workers", type=int, nargs="+", default=[0, 1, 2], help="serve --map-workers cases")
    parser.add_argument("--helper", default=str(HELPER), help="otel-audit-ingest for the helper case, or off")
    parser.add_argument("--no-redact", action="store_true", help="serve without redaction at the door")
    args = parser.parse_args()
    cases = [(workers, "off") for workers in args.map_workers]
    if args.helper != "off":
        if not Path(args.helper).is_file():
            parser.error(f"{args.helper} is missing: run `make ingest-helper`, or pass --helper off")
        cases.append((0, args.helper))

    bodies = _requests(args.n, args.batch)
    size = sum(map(len, bodies))
    print(f"{args.n} records in {len(bodies)} requests of {args.batch} ({size / len(bodies) / 1024:.0f} KiB each)")
    engine = _engine_insert(bodies, redact=not args.no_redact)
    print(f"engine: Arrow INSERT of the same rows into the full schema, {args.n / engine:,.0f} records/s")
    print(
        "| logs mapped by | --map-workers | ack records/s | stored records/s | stored time / engine time "
        "| drops | retries |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for workers, helper in cases:
        extra = ["--ingest-helper", helper] + (["--no-redact"] if args.no_redact else [])
        acked, stored, status = _run(bodies, args.n, args.clients, workers, extra)
        dropped = status["dropped"]["logs"]
        print(
            f"| {'Python' if helper == 'off' else 'ingest helper'} | {workers} | {args.n / acked:,.0f} "
            f"| {args.n / stored:,.0f} | {stored / engine:.2f}x | {dropped} | {status['retries']} |"
        )


def _engine_insert(bodies: list[bytes], *, redact: bool) -> float:
    """Seconds the engine takes to insert the rows serve would store, by Arrow, in serve's batches."""
    with tempfile.TemporaryDirectory() as folder:
        config = ServeConfig(store=f"chdb://{folder}/store")
        redactor = load_redactor(config)
        batches: list[list[ExportLogsServiceRequest]] = [[]]
        records = 0
        for body in bodies:
            request = ExportLogsServiceRequest.FromString(body)
            if redact:
                redact_logs_request(redactor, request)
            count = count_logs(request)
            if records + count > config.batch_records and batches[-1]:
                batches.append([])
                records = 0
            batches[-1].append(request)
            records += count
        tables = [otlp_log_table(batch) for batch in batches]
        store = open_store(config.store)
        apply_schema(store)
        start = time.perf_counter()
        for index, table in enumerate(tables):
            store.insert_arrow("otel_logs", table, settings={"insert_deduplication_token": f"engine-{index}"})
        seconds = time.perf_counter() - start
        store.close()
    return seconds


def _run(bodies: list[bytes], total: int, clients: int, workers: int, extra: list[str]) -> tuple[float, float, dict]:
    """Serve a fresh store with *workers* mapping processes and the *extra* options; return
    (ack s, stored s, final status)."""
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "store"
        command = [sys.executable, "-m", "otel_audit.cli", "serve", "--store", f"chdb://{store}", "--port", "0"]
        token_file = Path(folder) / "query-token"
        token_file.write_text(QUERY_TOKEN)
        command += ["--grpc-port", "-1", "--map-workers", str(workers), *extra, "--query-token-file", str(token_file)]
        server = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.DEVNULL)
        try:
            serve_file = store / "otel-audit.serve.json"
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    url = json.loads(serve_file.read_text())["url"]
                    break
                except (OSError, ValueError, KeyError):
                    time.sleep(0.05)
            parts = urlsplit(url)
            queue = list(reversed(bodies))
            lock = threading.Lock()

            def client() -> None:
                connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
                headers = {"Content-Type": "application/x-protobuf"}
                while True:
                    with lock:
                        if not queue:
                            return
                        body = queue.pop()
                    connection.request("POST", "/v1/logs", body, headers)
                    response = connection.getresponse()
                    response.read()
                    if response.status != 200:
                        raise RuntimeError(f"request refused: {response.status}")

            threads = [threading.Thread(target=client) for _ in range(clients)]
            start = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            acked = time.perf_counter() - start
            while True:
                status = _status(url)
                if status["spool"]["requests"] == 0 and status["stored"]["logs"] + status["dropped"]["logs"] >= total:
                    break
                time.sleep(0.01)
            stored = time.perf_counter() - start
        finally:
            server.terminate()
            server.wait(120)
    return acked, stored, status


if __name__ == "__main__":
    main()
