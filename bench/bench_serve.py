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
* **CPU per stored record**, split by who spent it (Linux ``/proc``, see :class:`CpuWatch`): serve's
  door threads (decode, validate, redact, spool), its writer thread (spool reads, mapping when
  Python maps, and the share of each insert the engine runs in its caller's thread), the engine's
  own threads, the ingest helper or map workers, and this client; and the engine's CPU for its
  insert alone. On a box of C cores, C seconds over the total is the most any stored rate can be.

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
import contextlib
import http.client
import json
import os
import resource
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
    engine, engine_cpu = _engine_insert(bodies, redact=not args.no_redact)
    micros = 1e6 / args.n
    print(
        f"engine: Arrow INSERT of the same rows into the full schema, {args.n / engine:,.0f} records/s, "
        f"{engine_cpu * micros:.1f} µs CPU per record"
    )
    print(
        "| logs mapped by | --map-workers | ack records/s | stored records/s | stored time / engine time "
        "| drops | retries |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    spent = []
    for workers, helper in cases:
        extra = ["--ingest-helper", helper] + (["--no-redact"] if args.no_redact else [])
        acked, stored, status, cpu = _run(bodies, args.n, args.clients, workers, extra)
        dropped = status["dropped"]["logs"]
        name = "Python" if helper == "off" else "ingest helper"
        print(
            f"| {name} | {workers} | {args.n / acked:,.0f} "
            f"| {args.n / stored:,.0f} | {stored / engine:.2f}x | {dropped} | {status['retries']} |"
        )
        spent.append((name, workers, cpu))
    cores = len(os.sched_getaffinity(0))
    print()
    print(
        "| CPU µs per stored record | --map-workers | door threads | writer thread | engine's threads "
        f"| helper or map workers | client | total | {cores} cores / total |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, workers, cpu in spent:
        total = sum(cpu.values())
        print(
            f"| {name} | {workers} | {cpu['door'] * micros:.1f} | {cpu['writer'] * micros:.1f} "
            f"| {cpu['engine'] * micros:.1f} | {cpu['children'] * micros:.1f} | {cpu['client'] * micros:.1f} "
            f"| {total * micros:.1f} | {cores * args.n / total:,.0f}/s |"
        )


_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_of(stat_path: Path) -> tuple[str, float]:
    """The name and CPU seconds (user + system) of a process or thread, from its ``stat`` file."""
    stat = stat_path.read_text()
    fields = stat.rsplit(")", 1)[1].split()
    return stat[stat.index("(") + 1 : stat.rindex(")")], (int(fields[11]) + int(fields[12])) / _TICKS


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class CpuWatch:
    """CPU seconds a serve process spends from now on, by thread kind, and of its child processes
    (the ingest helper or map workers), sampled every 20 ms while it runs.

    Threads are told apart by their names: Python's start with the executable's name; chDB names
    its pool threads, and renames a Python thread while that thread runs a query in the engine
    (the writer: its own Python work and the part of each insert the engine runs in the caller's
    thread). So: ``door`` (Python threads never renamed: the HTTP handlers, the main thread),
    ``writer`` (Python threads the engine renamed), ``engine`` (threads the engine started). The
    process's total includes threads that ended; those are counted as ``door``.
    """

    def __init__(self, pid: int) -> None:
        self._pid = pid
        self._python_name = Path(sys.executable).name[:15]
        self._first_name: dict[str, str] = {}
        self._renamed: set[str] = set()
        self._seconds: dict[str, float] = {}
        self._children: dict[int, float] = {}
        self._total = 0.0
        self._sample()
        self._start = self._split()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        root = Path(f"/proc/{self._pid}")
        _, self._total = _cpu_of(root / "stat")
        for task in root.joinpath("task").iterdir():
            try:
                name, seconds = _cpu_of(task / "stat")
                children = (task / "children").read_text().split()
            except OSError:
                continue  # the thread ended meanwhile
            first = self._first_name.setdefault(task.name, name)
            if name != first:
                self._renamed.add(task.name)
            self._seconds[task.name] = seconds
            for child in children:
                with contextlib.suppress(OSError):  # the child exited meanwhile
                    self._children[int(child)] = _cpu_of(Path(f"/proc/{child}/stat"))[1]

    def _split(self) -> dict[str, float]:
        engine = writer = 0.0
        for tid, seconds in self._seconds.items():
            if self._first_name[tid] != self._python_name:
                engine += seconds
            elif tid in self._renamed:
                writer += seconds
        return {
            "door": self._total - engine - writer,
            "writer": writer,
            "engine": engine,
            "children": sum(self._children.values()),
        }

    def _loop(self) -> None:
        while not self._stop.wait(0.02):
            try:
                self._sample()
            except OSError:
                return  # the server exited

    def stop(self) -> dict[str, float]:
        """Stop sampling; CPU seconds spent since the start, by thread kind and by children."""
        self._stop.set()
        self._thread.join()
        return {key: value - self._start[key] for key, value in self._split().items()}


def _engine_insert(bodies: list[bytes], *, redact: bool) -> tuple[float, float]:
    """Seconds and CPU seconds the engine takes to insert the rows serve would store, by Arrow, in
    serve's batches."""
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
        start, cpu = time.perf_counter(), _own_cpu()
        for index, table in enumerate(tables):
            store.insert_arrow("otel_logs", table, settings={"insert_deduplication_token": f"engine-{index}"})
        seconds, cpu = time.perf_counter() - start, _own_cpu() - cpu
        store.close()
    return seconds, cpu


def _run(
    bodies: list[bytes], total: int, clients: int, workers: int, extra: list[str]
) -> tuple[float, float, dict, dict[str, float]]:
    """Serve a fresh store with *workers* mapping processes and the *extra* options; return
    (ack s, stored s, final status, CPU seconds by who spent them)."""
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
            watch, client_cpu = CpuWatch(server.pid), _own_cpu()
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
            cpu = {**watch.stop(), "client": _own_cpu() - client_cpu}
        finally:
            server.terminate()
            server.wait(120)
    return acked, stored, status, cpu


if __name__ == "__main__":
    main()
