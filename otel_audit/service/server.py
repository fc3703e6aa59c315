"""``otel-audit serve``: the one process that owns an audit store, fed over OTLP, queried over HTTP.

Endpoints (HTTP, default ``127.0.0.1:4318``)::

    POST /v1/logs, /v1/traces   OTLP/HTTP: application/x-protobuf or application/json, gzip allowed
    POST /v1/query              {"sql": ..., "parameters": {...}} -> rows, through the query sandbox
                                ("format": "arrow": one Arrow IPC stream typed by the engine)
    POST /v1/access             open/close the access session of one client command (one audit.access event)
    GET  /status                counters: accepted, rejected, stored, spool depth, retries, drops

and OTLP/gRPC (default ``127.0.0.1:4317``): ``LogsService/Export`` and ``TraceService/Export``.

Every accepted request is appended to the write-ahead :class:`~otel_audit.service.spool.Spool`
and fsync'd *before* it is acknowledged. One writer thread moves spooled requests into the store
through the SDK path's exporters (:meth:`ClickHouseLogRecordExporter.insert_encoded`), in
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

Modules, one job each: :mod:`~otel_audit.service.config` (settings),
:mod:`~otel_audit.service.intake` (decode, validate, redact, spool),
:mod:`~otel_audit.service.spool` (the write-ahead spool), :mod:`~otel_audit.service.writer`
(spool to store, with retries) and :mod:`~otel_audit.service.mapping` (requests to columns),
:mod:`~otel_audit.service.http` and :mod:`~otel_audit.service.grpc_front` (the listeners),
:mod:`~otel_audit.service.serve_file` (telling the owner's processes where the server is),
:mod:`~otel_audit.service.counters`; this module wires them together and runs their lifecycle.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import secrets
import signal
import threading
import time
from pathlib import Path
from typing import Any

from otel_audit._files import write_private_file
from otel_audit.answer.access import AccessSessions
from otel_audit.diagnostics import get_logger
from otel_audit.errors import ConfigError, OtelAuditError
from otel_audit.export.clickhouse import ClickHouseLogRecordExporter, ClickHouseSpanExporter
from otel_audit.service.config import ServeConfig, default_spool_dir
from otel_audit.service.counters import Counters
from otel_audit.service.grpc_front import start_grpc
from otel_audit.service.http import HttpFront
from otel_audit.service.intake import Intake, load_redactor
from otel_audit.service.mapping import start_mapper
from otel_audit.service.native import IngestHelper, find_helper
from otel_audit.service.serve_file import SERVE_FILE, query_token_path, serve_file_path, write_serve_file
from otel_audit.service.spool import Spool
from otel_audit.service.writer import SpoolWriter
from otel_audit.stats import pipeline_stats
from otel_audit.store.base import Store, redact_dsn
from otel_audit.store.connect import open_store
from otel_audit.store.sql import query_sql

__all__ = ["SERVE_FILE", "AuditServer", "ServeConfig", "default_spool_dir", "run"]

_logger = get_logger(__name__)


class AuditServer:
    """Owns the store, the spool, the writer thread and the HTTP/gRPC listeners."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.counters = Counters()
        # A bad rule file fails here, before the store is opened.
        redactor = load_redactor(config)
        self._ingest = _start_helper(config.ingest_helper)  # so does a bad helper path
        self.store: Store = open_store(config.store)
        logs = ClickHouseLogRecordExporter(self.store, ttl_days=config.ttl_days)
        spans = ClickHouseSpanExporter(self.store, create_schema=False)
        self.spool = Spool(config.spool_dir or default_spool_dir(config.store), max_bytes=config.max_spool_bytes)
        if self.spool.recovered_records:
            _logger.warning("replaying spooled records into the store", records=self.spool.recovered_records)
        self.counters.add("spool.replayed", self.spool.recovered_records)
        self._intake = Intake(self.spool, self.counters, max_records=config.max_records, redactor=redactor)
        self._mapper = start_mapper(config.map_workers)
        self._writer = SpoolWriter(
            self.store,
            self.spool,
            self.counters,
            logs=logs,
            spans=spans,
            batch_records=config.batch_records,
            mapper=self._mapper,
            ingest=self._ingest,
        )
        self._query_token = config.query_token or secrets.token_urlsafe(32)
        self.access = AccessSessions(self.store)
        self._http = HttpFront((config.host, config.port), self)
        self.http_port = self._http.server_address[1]
        self._http_thread = threading.Thread(target=self._http.serve_forever, name="otel-audit-serve-http", daemon=True)
        self._grpc: Any = None
        self.grpc_port: int | None = None
        if config.grpc_port is not None:
            self._grpc, self.grpc_port = start_grpc(self, config.host, config.grpc_port)
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
            redaction="on" if self._intake.redacting else "off",
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
        return serve_file_path(self.store)

    @property
    def query_token_file(self) -> Path | None:
        """Where the query token this server made is kept (``None`` if the operator gave one)."""
        if self.config.query_token is not None:
            return self.config.query_token_file
        return query_token_path(self.store, self.spool.directory)

    def _write_serve_file(self) -> None:
        token_file = self.query_token_file
        if self.config.query_token is None and token_file is not None:
            write_private_file(token_file, self._query_token + "\n")
            _logger.info("query token written, readable by this user only", path=str(token_file))
        path = self.serve_file
        if path is None:
            return
        host = "127.0.0.1" if self.config.host in ("0.0.0.0", "::") else self.config.host
        write_serve_file(
            path,
            url=f"http://{host}:{self.http_port}",
            grpc_port=self.grpc_port,
            database=self.store.database,
            ingest_token_required=bool(self.config.token),
            query_token_file=token_file,
        )

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
        try:
            self.access.expire(everything=True)  # sessions their clients never ended
        except OtelAuditError as error:
            _logger.error("access events of unended sessions not written", error=str(error))
        if self._grpc is not None:
            self._grpc.stop(grace=min(5.0, max(0.0, deadline - time.monotonic()))).wait()
        while self.spool.depth()["requests"] and time.monotonic() < deadline and self._writer.is_alive():
            time.sleep(0.02)
        drained = not self.spool.depth()["requests"]
        self._writer.stop(max(0.1, deadline - time.monotonic()))
        if self._sealer is not None:
            self._sealer.shutdown(max(1.0, deadline - time.monotonic()))  # seals what the drain stored
        if self._rollups is not None:
            self._rollups.shutdown(max(1.0, deadline - time.monotonic()))
        if self._mapper is not None:
            self._mapper.shutdown(wait=True, cancel_futures=True)
        if self._ingest is not None:
            self._ingest.close()
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
        return self._intake.ingest(signal_name, body, json_encoded=json_encoded)

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
            self._writer.kill_after_insert = True
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


def _start_helper(configured: str | None) -> IngestHelper | None:
    """The ingest helper *configured* (or found on ``PATH``) running, else ``None`` (Python maps)."""
    helper = find_helper(configured)
    if helper is None:
        return None
    try:
        running = IngestHelper(helper)
    except OSError as error:
        raise ConfigError(f"cannot start the ingest helper {helper}: {error}") from None
    _logger.info("mapping logs batches with the ingest helper", helper=str(helper))
    return running
