"""``otel-audit serve``: the one process that owns an audit store, fed over OTLP, queried over HTTP.

Endpoints (HTTP, default ``127.0.0.1:4318``)::

    POST /v1/logs, /v1/traces   OTLP/HTTP: application/x-protobuf or application/json, gzip allowed
    POST /v1/query              {"sql": ..., "parameters": {...}} -> rows, through the query sandbox
    GET  /status                counters: accepted, rejected, stored, spool depth, retries, drops

and OTLP/gRPC (default ``127.0.0.1:4317``): ``LogsService/Export`` and ``TraceService/Export``.

Every accepted request is appended to the write-ahead :class:`~otel_audit.service.spool.Spool`
and fsync'd *before* it is acknowledged. One writer thread moves spooled requests into the store
through the SDK path's exporters (:meth:`ClickHouseLogRecordExporter.export_encoded`), in
batches, retrying failed writes with capped exponential backoff; after a crash the spool is
replayed with the same deduplication tokens, so nothing acknowledged is lost or stored twice.

Security (``docs/security.md``): loopback by default. Two credentials: the ingest token
(``--token-file`` or ``OTEL_AUDIT_SERVE_TOKEN``) guards OTLP intake, and a non-loopback bind
without it is refused; the query token (``--query-token-file``, else a random one written to
``otel-audit.query-token``, readable by the store's owner only) guards queries and status. Caller
SQL runs in the query sandbox (:mod:`otel_audit.store.sandbox`). The HTTP front
(:mod:`otel_audit.service.http`) bounds bodies, connections and socket time, and refuses browser
requests. A full spool answers 503 with ``Retry-After`` (OTLP clients retry). SIGTERM stops
intake and flushes the spool.

While it runs, ``otel-audit.serve.json`` in the store directory tells the owner's other
processes where to send their queries (:mod:`otel_audit.store.front_door`).

Fault injection (tests only): with ``OTEL_AUDIT_SERVE_FAULTS=1``, ``POST /debug/fault`` accepts
``{"action": "detach_logs" | "attach_logs" | "kill_after_next_insert"}``: detaching ``otel_logs``
makes real chDB inserts fail until it is attached again.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import ipaddress
import json
import multiprocessing
import os
import secrets
import signal
import threading
import time
import uuid
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from otel_audit import semconv
from otel_audit._files import write_private_file
from otel_audit.diagnostics import get_logger
from otel_audit.errors import ConfigError, StoreError
from otel_audit.export.batching import RecordsRejected
from otel_audit.export.clickhouse import ClickHouseLogRecordExporter, ClickHouseSpanExporter
from otel_audit.export.otlp import (
    MalformedRequestError,
    decode_request,
    otlp_log_table,
    otlp_span_columns,
    validate_logs,
    validate_spans,
)
from otel_audit.service.http import HttpFront
from otel_audit.service.redaction import redact_logs_request, redact_traces_request
from otel_audit.service.spool import KIND_LOGS, KIND_SPANS, Entry, Spool, SpoolFullError
from otel_audit.stats import pipeline_stats
from otel_audit.store.base import Store, redact_dsn
from otel_audit.store.connect import open_store, parse_dsn
from otel_audit.store.front_door import QUERY_TOKEN_FILE, SERVE_FILE
from otel_audit.store.sql import query_sql

__all__ = ["SERVE_FILE", "AuditServer", "ServeConfig"]

_logger = get_logger(__name__)

_SIGNALS = {"logs": KIND_LOGS, "spans": KIND_SPANS}
_RETRY_INITIAL_S = 0.05
_RETRY_MAX_S = 5.0
_DRAIN_BYTES = 128 * 1024 * 1024  # an oversize body up to this is read and discarded so the client sees 413


@dataclass(frozen=True)
class ServeConfig:
    """Settings of one server; see ``otel-audit serve --help``."""

    store: str
    host: str = "127.0.0.1"
    port: int = 4318
    grpc_port: int | None = 4317
    token: str | None = None
    """Ingest token: required on the OTLP endpoints when set (and for a non-loopback bind)."""
    query_token: str | None = None
    """Query token: required on ``/v1/query`` and ``/status``; made at start when not given."""
    query_token_file: Path | None = None
    """The file *query_token* was read from, named in the serve file for the owner's CLI."""
    spool_dir: Path | None = None
    max_body_bytes: int = 16 * 1024 * 1024
    max_decoded_bytes: int = 64 * 1024 * 1024
    max_records: int = 100_000
    batch_records: int = 50_000
    max_spool_bytes: int = 512 * 1024 * 1024
    max_connections: int = 64
    socket_timeout_s: float = 30.0
    drain_timeout_s: float = 30.0
    ttl_days: int = 365
    fault_injection: bool = False
    map_workers: int = 0
    redact: bool = True
    redaction_rules: Path | None = None
    seal_key: Path | None = None
    seal_interval_s: float = 60.0
    seal_origin: str | None = None
    rollup_interval_s: float = 300.0
    """Seconds between builds of the report rollups of closed periods; 0 = never."""

    def __post_init__(self) -> None:
        if not _is_loopback(self.host) and not self.token:
            raise ConfigError(
                f"refusing to listen on {self.host} without a bearer token: "
                "set --token-file or OTEL_AUDIT_SERVE_TOKEN, or bind 127.0.0.1"
            )
        for name in (
            "max_body_bytes",
            "max_decoded_bytes",
            "max_records",
            "batch_records",
            "max_spool_bytes",
            "max_connections",
            "socket_timeout_s",
        ):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive")
        if self.seal_interval_s <= 0:
            raise ConfigError("seal_interval_s must be positive")
        if self.rollup_interval_s < 0:
            raise ConfigError("rollup_interval_s must be 0 (off) or positive")


def _redactor(config: ServeConfig) -> Any:
    from otel_audit.redact import Redactor, load_rules

    return Redactor(load_rules(config.redaction_rules))


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Counters:
    """The server's own counters (also mirrored into :data:`pipeline_stats`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.values: dict[str, int] = {}
        self.last_error = ""

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self.values[name] = self.values.get(name, 0) + amount

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self.values)


def default_spool_dir(dsn: str) -> Path:
    """The spool beside an on-disk chDB store: ``<store>.spool``."""
    kind, location, database = parse_dsn(dsn)
    if kind == "chdb" and location != ":memory:":
        return Path(location + ".spool") / database
    raise ConfigError("a spool directory is required for this store (--spool-dir)")


class AuditServer:
    """Owns the store, the spool, the writer thread and the HTTP/gRPC listeners."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.counters = _Counters()
        # Redaction runs at the door, so personal data never reaches the spool or the store.
        self._redactor = _redactor(config) if config.redact else None
        self.store: Store = open_store(config.store)
        self._logs = ClickHouseLogRecordExporter(self.store, ttl_days=config.ttl_days)
        self._spans = ClickHouseSpanExporter(self.store, create_schema=False)
        self.spool = Spool(config.spool_dir or default_spool_dir(config.store), max_bytes=config.max_spool_bytes)
        if self.spool.recovered_records:
            _logger.warning("replaying spooled records into the store", records=self.spool.recovered_records)
        self.counters.add("spool.replayed", self.spool.recovered_records)
        self._mapper: ProcessPoolExecutor | None = None
        if config.map_workers:
            context = multiprocessing.get_context("spawn")  # never fork a process holding chDB and gRPC threads
            self._mapper = ProcessPoolExecutor(
                config.map_workers, mp_context=context, initializer=_exit_with_parent, initargs=(os.getpid(),)
            )
        self._stopping = threading.Event()
        self._kill_after_insert = False
        self._writer = threading.Thread(target=self._write_loop, name="otel-audit-serve-writer", daemon=True)
        self._query_token = config.query_token or secrets.token_urlsafe(32)
        self._http = HttpFront((config.host, config.port), self)
        self.http_port = self._http.server_address[1]
        self._http_thread = threading.Thread(target=self._http.serve_forever, name="otel-audit-serve-http", daemon=True)
        self._grpc: Any = None
        self.grpc_port: int | None = None
        if config.grpc_port is not None:
            self._grpc, self.grpc_port = _start_grpc(self, config.host, config.grpc_port)
        self._started = time.time()
        self._sealer: Any = None
        self._rollups: Any = None
        self._signer: Any = None
        if config.seal_key is not None:
            from otel_audit.seal import load_signer

            self._signer = load_signer(config.seal_key)  # a bad key fails at start, not an hour later

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Start the writer and the HTTP listener; publish the serve file."""
        self._writer.start()
        self._http_thread.start()
        if self._signer is not None:
            from otel_audit.seal.scheduler import SealScheduler

            self._sealer = SealScheduler(
                self.store, self._signer, interval_s=self.config.seal_interval_s, origin=self.config.seal_origin
            )
        if self.config.rollup_interval_s:
            from otel_audit.answer.rollups import build_rollups
            from otel_audit.periodic import PeriodicJob

            # No build at shutdown: it is not owed to anyone and would hold up SIGTERM.
            self._rollups = PeriodicJob(
                "otel-audit-rollups",
                lambda: build_rollups(self.store),
                interval_s=self.config.rollup_interval_s,
                final_run=False,
            )
        self._write_serve_file()
        _logger.info(
            "serve started",
            http=f"{self.config.host}:{self.http_port}",
            grpc=f"{self.config.host}:{self.grpc_port}" if self.grpc_port else "off",
            store=redact_dsn(self.store.dsn),
            spool=str(self.spool.directory),
            replayed_records=self.spool.recovered_records,
            redaction="on" if self._redactor is not None else "off",
            sealing=f"every {self.config.seal_interval_s:g}s" if self._sealer is not None else "off",
            rollups=f"every {self.config.rollup_interval_s:g}s" if self._rollups is not None else "off",
        )

    def counts(self) -> dict[str, int]:
        """Records accepted, stored, rejected and dropped so far, per signal (``logs_accepted``…), and
        store retries: the figures ``serve`` logs when it drains and stops."""
        counters = self.counters.snapshot()
        figures = {
            f"{signal}_{what}": counters.get(f"{signal}.{what}", 0)
            for what in ("accepted", "stored", "rejected", "dropped")
            for signal in ("logs", "spans")
        }
        figures["store_retries"] = counters.get("store.retries", 0)
        return figures

    @property
    def serve_file(self) -> Path | None:
        """The serve file's path, for an on-disk chDB store."""
        if self.store.kind == "chdb" and self.store.location != ":memory:":
            return Path(self.store.location) / SERVE_FILE
        return None

    @property
    def query_token_file(self) -> Path | None:
        """Where the query token this server made is kept (``None`` if the operator gave one)."""
        if self.config.query_token is not None:
            return self.config.query_token_file
        if self.store.kind == "chdb" and self.store.location != ":memory:":
            return Path(self.store.location) / QUERY_TOKEN_FILE
        return self.spool.directory / QUERY_TOKEN_FILE

    def _write_serve_file(self) -> None:
        token_file = self.query_token_file
        if self.config.query_token is None and token_file is not None:
            write_private_file(token_file, self._query_token + "\n")
            _logger.info("query token written, readable by this user only", path=str(token_file))
        path = self.serve_file
        if path is None:
            return
        host = "127.0.0.1" if self.config.host in ("0.0.0.0", "::") else self.config.host
        info = {
            "pid": os.getpid(),
            "url": f"http://{host}:{self.http_port}",
            "grpc_port": self.grpc_port,
            "database": self.store.database,
            "ingest_token_required": bool(self.config.token),
            "query_token_file": None if token_file is None else str(token_file.resolve()),
        }
        temporary = path.with_suffix(".tmp")
        write_private_file(temporary, json.dumps(info))
        os.replace(temporary, path)

    def stop(self, timeout: float | None = None) -> bool:
        """Stop intake, flush the spool into the store (up to *timeout*), close; True if drained."""
        deadline = time.monotonic() + (self.config.drain_timeout_s if timeout is None else timeout)
        depth = self.spool.depth()
        _logger.info(
            "serve draining",
            spooled_requests=depth["requests"],
            spooled_records=depth["records"],
            timeout_s=round(deadline - time.monotonic(), 3),
            **self.counts(),
        )
        path = self.serve_file
        if path is not None:
            with contextlib.suppress(OSError):
                path.unlink()
        if self.config.query_token is None and self.query_token_file is not None:
            with contextlib.suppress(OSError):
                self.query_token_file.unlink()
        self._http.shutdown()
        self._http.server_close()
        if self._grpc is not None:
            self._grpc.stop(grace=min(5.0, max(0.0, deadline - time.monotonic()))).wait()
        while self.spool.depth()["requests"] and time.monotonic() < deadline and self._writer.is_alive():
            time.sleep(0.02)
        drained = not self.spool.depth()["requests"]
        self._stopping.set()
        self.spool.wake()
        self._writer.join(max(0.1, deadline - time.monotonic()))
        if self._sealer is not None:
            self._sealer.shutdown(max(1.0, deadline - time.monotonic()))  # seals what the drain stored
        if self._rollups is not None:
            self._rollups.shutdown(max(1.0, deadline - time.monotonic()))
        if self._mapper is not None:
            self._mapper.shutdown(wait=True, cancel_futures=True)
        left = self.spool.depth()
        self.spool.close()
        self.store.close()
        # A record left spooled is not lost: it is stored on the next start.
        (_logger.info if drained else _logger.warning)(
            "serve stopped",
            drained=drained,
            left_spooled_requests=left["requests"],
            left_spooled_records=left["records"],
            **self.counts(),
        )
        return drained

    # --- intake -----------------------------------------------------------------------------

    def ingest(self, signal_name: str, body: bytes, *, json_encoded: bool) -> Any:
        """Decode, validate and spool one OTLP request; return the OTLP export response.

        Raises:
            MalformedRequestError: the body is not a valid request (nothing is kept).
            SpoolFullError: the spool is full (nothing is kept; the client retries).
        """
        message, encoded = decode_request(signal_name, body, json_encoded=json_encoded)
        validate = validate_logs if signal_name == "logs" else validate_spans
        total, rejected, reason = validate(message)
        if total > self.config.max_records:
            raise MalformedRequestError(f"{total} records in one request; the limit is {self.config.max_records}")
        if rejected:
            pipeline_stats.drop(signal_name, "invalid", rejected, reason)
            self.counters.add(f"{signal_name}.rejected", rejected)
        if self._redactor is not None:
            redact = redact_logs_request if signal_name == "logs" else redact_traces_request
            self.counters.add(f"{signal_name}.redactions", redact(self._redactor, message))
        if rejected or self._redactor is not None:
            encoded = message.SerializeToString()
        accepted = total - rejected
        if accepted:
            self.spool.append(_SIGNALS[signal_name], encoded, accepted)
            self.counters.add(f"{signal_name}.accepted", accepted)
        message_text = f"{rejected} record(s) rejected: {reason}" if rejected else ""
        return export_response(signal_name, rejected, message_text)

    # --- the writer -------------------------------------------------------------------------

    def _write_loop(self) -> None:
        delay = _RETRY_INITIAL_S
        batch: list[Entry] = []
        mapped: dict[int, Future[Any]] = {}
        following: list[Entry] = []
        following_mapped: dict[int, Future[Any]] = {}
        while not self._stopping.is_set():
            if not batch:
                batch = self.spool.take(self.config.batch_records, timeout=0.2)
                if not batch:
                    continue
                mapped = self._submit(batch)
            if not following:
                # Map the next batch (in a worker process) while this one is inserted.
                following = self.spool.take_after(batch[-1], self.config.batch_records)
                following_mapped = self._submit(following) if following else {}
            try:
                self._store_batch(batch, mapped)
            except StoreError as error:
                self.counters.add("store.retries")
                self.counters.last_error = str(error)[:500]
                pipeline_stats.add("serve", "store.retries")
                _logger.warning("store write failed; retrying", retry_in_s=round(delay, 3), error=str(error))
                self._stopping.wait(delay)
                delay = min(delay * 2, _RETRY_MAX_S)
                continue
            except Exception:  # a bug must not kill the writer; the batch stays spooled
                _logger.exception("unexpected error storing a spooled batch")
                self.counters.add("store.retries")
                self._stopping.wait(delay)
                delay = min(delay * 2, _RETRY_MAX_S)
                mapped = self._submit(batch)
                continue
            delay = _RETRY_INITIAL_S
            self.spool.commit(batch)
            batch, mapped, following, following_mapped = following, following_mapped, [], {}

    def _submit(self, batch: list[Entry]) -> dict[int, Future[Any]]:
        """Start mapping *batch*'s requests to columns, one job per signal."""
        jobs: dict[int, Future[Any]] = {}
        for kind in (KIND_LOGS, KIND_SPANS):
            payloads = [self.spool.read(entry) for entry in batch if entry.kind == kind]
            if payloads:
                if self._mapper is None:
                    jobs[kind] = Future()
                    try:
                        jobs[kind].set_result(map_payloads(kind, payloads))
                    except Exception as error:  # noqa: BLE001 - handed to the writer like a worker's error
                        jobs[kind].set_exception(error)
                else:
                    jobs[kind] = self._mapper.submit(map_payloads, kind, payloads)
        return jobs

    def _store_batch(self, batch: list[Entry], mapped: dict[int, Future[Any]]) -> None:
        retry = self.spool.begin(batch)
        stored: list[tuple[str, int]] = []
        for kind, exporter, name in ((KIND_LOGS, self._logs, "logs"), (KIND_SPANS, self._spans, "spans")):
            if kind not in mapped:
                continue
            records = sum(entry.records for entry in batch if entry.kind == kind)
            try:
                data, corrupt = mapped[kind].result()
                if isinstance(data, _LogTable):
                    data = data.table
            except (TypeError, ValueError, AttributeError, OverflowError) as error:
                pipeline_stats.drop(name, "rejected", records, str(error))
                self.counters.add(f"{name}.dropped", records)
                continue
            if corrupt:
                pipeline_stats.drop(name, "spool_corrupt", corrupt)
                self.counters.add(f"{name}.dropped", corrupt)
            token = self.spool.token(batch, kind)
            if retry:
                # The first attempt may have landed, or left only its token behind: store what is missing.
                data = _missing_rows(self.store, name, data)
                if data is None:
                    stored.append((name, records))
                    continue
                token = f"{token}:retry:{uuid.uuid4().hex}"
            try:
                exporter.export_encoded(lambda _requests, data=data: data, [data], token=token)
            except RecordsRejected as error:
                pipeline_stats.drop(name, "rejected", records, str(error))
                self.counters.add(f"{name}.dropped", records)
                continue
            stored.append((name, records))
            if self._kill_after_insert:
                os.kill(os.getpid(), signal.SIGKILL)
        for name, records in stored:
            self.counters.add(f"{name}.stored", records)

    # --- queries and status -----------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """Counters and state for ``GET /status`` and ``otel-audit status``."""
        counters = self.counters.snapshot()
        return {
            "pid": os.getpid(),
            "store": self.store.dsn if "@" not in self.store.dsn else "(server)",
            "uptime_s": round(time.time() - self._started, 3),
            "http_port": self.http_port,
            "grpc_port": self.grpc_port,
            "accepted": {"logs": counters.get("logs.accepted", 0), "spans": counters.get("spans.accepted", 0)},
            "rejected": {"logs": counters.get("logs.rejected", 0), "spans": counters.get("spans.rejected", 0)},
            "stored": {"logs": counters.get("logs.stored", 0), "spans": counters.get("spans.stored", 0)},
            "dropped": {"logs": counters.get("logs.dropped", 0), "spans": counters.get("spans.dropped", 0)},
            "spool": {**self.spool.depth(), "replayed_records": counters.get("spool.replayed", 0)},
            "retries": counters.get("store.retries", 0),
            "queries": {
                "answered": counters.get("queries.answered", 0),
                "refused": counters.get("queries.refused", 0),
                "failed": counters.get("queries.failed", 0),
            },
            "connections_refused": counters.get("http.connections_refused", 0),
            "last_store_error": self.counters.last_error,
            "seal": None
            if self._sealer is None
            else {
                "interval_s": self._sealer.interval_s,
                "runs": self._sealer.runs,
                "failures": self._sealer.failures,
                "sealed": self._sealer.sealed,
                "tree_size": getattr(self._sealer.last, "tree_size", None),
            },
            "rollups": None
            if self._rollups is None
            else {
                "interval_s": self._rollups.interval_s,
                "runs": self._rollups.runs,
                "failures": self._rollups.failures,
                "last_built": getattr(self._rollups.last, "periods", None),
            },
            "pipeline": pipeline_stats.snapshot()["counters"],
        }

    def fault(self, action: str) -> None:
        """Test-only fault injection (see the module docstring)."""
        if action == "detach_logs":
            self.store.command(query_sql("serve_detach_logs"))
        elif action == "attach_logs":
            self.store.command(query_sql("serve_attach_logs"))
        elif action == "kill_after_next_insert":
            self._kill_after_insert = True
        else:
            raise ConfigError(f"unknown fault action {action!r}")

    def authorized(self, header: str | None, scope: str) -> bool:
        """True if *header* carries the token of *scope* (``ingest`` or ``query``).

        Ingest needs a token only when one is configured; queries always need the query token.
        """
        expected_token = self.config.token if scope == "ingest" else self._query_token
        if not expected_token:
            return scope == "ingest"
        expected = f"Bearer {expected_token}".encode()
        return header is not None and hmac.compare_digest(header.encode(), expected)


_RESPONSES: dict[str, Any] = {"logs": ExportLogsServiceResponse, "spans": ExportTraceServiceResponse}


def export_response(signal_name: str, rejected: int, message: str) -> Any:
    """The OTLP export response: full success, or partial success with the rejected count and why."""
    response = _RESPONSES[signal_name]()
    if rejected:
        if signal_name == "logs":
            response.partial_success.rejected_log_records = rejected
        else:
            response.partial_success.rejected_spans = rejected
        response.partial_success.error_message = message
    return response


def map_payloads(kind: int, payloads: list[bytes]) -> tuple[Any, int]:
    """Map spooled protobuf requests of one signal to insertable data; return it and the unreadable count.

    Runs in a worker process (``--map-workers``), so it takes and returns picklable values:
    log tables travel as Arrow IPC bytes.
    """
    message_type = ExportLogsServiceRequest if kind == KIND_LOGS else ExportTraceServiceRequest
    requests = []
    corrupt = 0
    for payload in payloads:
        try:
            requests.append(message_type.FromString(payload))
        except DecodeError:
            corrupt += 1
    if kind == KIND_SPANS:
        return otlp_span_columns(requests), corrupt
    return _LogTable(otlp_log_table(requests)), corrupt


def _exit_with_parent(parent: int) -> None:
    """Worker-process initializer: exit when the server is gone (even after ``kill -9``)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="otel-audit-map-parent-watch", daemon=True).start()


class _LogTable:
    """An Arrow table that pickles as Arrow IPC (fast across the worker-process boundary)."""

    def __init__(self, table: Any) -> None:
        self.table = table

    def __reduce__(self) -> tuple[Any, tuple[bytes]]:
        import pyarrow as pa

        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, self.table.schema) as writer:
            writer.write_table(self.table)
        return _read_ipc, (sink.getvalue().to_pybytes(),)


def _read_ipc(data: bytes) -> _LogTable:
    import pyarrow as pa

    return _LogTable(pa.ipc.open_stream(data).read_all())


def _row_keys(name: str, data: Any) -> list[str]:
    """The key of every row of encoded *data*, as ``clickhouse/queries/serve_present_*.sql`` builds it."""
    if name == "spans":
        return [f"{ts}/{trace}/{span}" for ts, trace, span in zip(data[0], data[1], data[2], strict=True)]
    stamps = data.column("Timestamp").cast("int64").to_pylist()
    traces, spans = data.column("TraceId").to_pylist(), data.column("SpanId").to_pylist()
    bodies = data.column("Body").to_pylist()
    request_ids = [dict(pairs).get(semconv.AUDIT_REQUEST_ID, "") for pairs in data.column("LogAttributes").to_pylist()]
    return [
        f"{ts}/{trace}/{span}/{request_id}/{hashlib.md5(body.encode()).hexdigest()}"
        for ts, trace, span, request_id, body in zip(stamps, traces, spans, request_ids, bodies, strict=True)
    ]


def _missing_rows(store: Store, name: str, data: Any) -> Any:
    """The rows of encoded *data* not yet in the store (``None`` if all are there)."""
    keys = _row_keys(name, data)
    if not keys:
        return None
    stamps = [int(key.split("/", 1)[0]) for key in keys]
    sql = query_sql(f"serve_present_{name}")
    present = {row[0] for row in store.query(sql, {"lo": min(stamps), "hi": max(stamps), "keys": keys}).rows}
    keep = [index for index, key in enumerate(keys) if key not in present]
    if not keep:
        return None
    if len(keep) == len(keys):
        return data
    if name == "logs":
        import pyarrow as pa

        return data.take(pa.array(keep, pa.int64()))
    return [[column[index] for index in keep] for column in data]


# --- gRPC -----------------------------------------------------------------------------------


def _start_grpc(app: AuditServer, host: str, port: int) -> tuple[Any, int]:
    import grpc

    def handler(signal_name: str) -> Any:
        def export(body: bytes, context: Any) -> bytes:
            metadata = dict(context.invocation_metadata())
            if not app.authorized(metadata.get("authorization"), "ingest"):
                context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or wrong bearer token")
            try:
                response = app.ingest(signal_name, body, json_encoded=False)
            except MalformedRequestError as error:
                app.counters.add("requests.malformed")
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
            except (SpoolFullError, OSError) as error:
                context.abort(grpc.StatusCode.UNAVAILABLE, f"server busy: {error}")
            return response.SerializeToString()  # type: ignore[no-any-return]

        return grpc.unary_unary_rpc_method_handler(export)

    limit = app.config.max_body_bytes
    server = grpc.server(
        ThreadPoolExecutor(max_workers=4, thread_name_prefix="otel-audit-serve-grpc"),
        options=[("grpc.max_receive_message_length", limit), ("grpc.so_reuseport", 0)],
    )
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                "opentelemetry.proto.collector.logs.v1.LogsService", {"Export": handler("logs")}
            ),
            grpc.method_handlers_generic_handler(
                "opentelemetry.proto.collector.trace.v1.TraceService", {"Export": handler("spans")}
            ),
        )
    )
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    bound = server.add_insecure_port(address)
    if not bound:
        raise ConfigError(f"cannot listen for OTLP/gRPC on {address}")
    server.start()
    return server, bound


def run(config: ServeConfig, *, ready: Any = None) -> int:
    """Run a server until SIGTERM/SIGINT; return the process exit code."""
    server = AuditServer(config)
    server.start()
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if ready is not None:
        ready(server)
    while not stop.wait(0.5):
        pass
    drained = server.stop()
    return 0 if drained else 1
