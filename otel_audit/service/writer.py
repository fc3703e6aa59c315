"""``otel-audit serve``'s writer: the one thread that moves spooled requests into the store.

It takes batches of up to ``batch_records`` records from the spool, maps them to columns
(:mod:`otel_audit.service.mapping`, or logs in the ingest helper's process,
:mod:`otel_audit.service.native`; the next batch is mapped while this one is inserted), and
inserts them through the SDK path's exporters
(:meth:`~otel_audit.export.clickhouse.ClickHouseLogRecordExporter.insert_encoded`) with the
spool's deduplication token. A failed write is retried with capped exponential backoff and the
batch stays spooled until it is stored. A retry, or a replay after a crash, may find part of
the batch already stored: it inserts only the rows not there yet (:func:`missing_rows`), so
nothing acknowledged is lost or stored twice.
"""

from __future__ import annotations

import hashlib
import os
import signal
import threading
import uuid
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Protocol

from otel_audit import semconv
from otel_audit.diagnostics import get_logger
from otel_audit.errors import StoreError
from otel_audit.export.batching import RecordsRejected
from otel_audit.export.clickhouse import ClickHouseLogRecordExporter, ClickHouseSpanExporter
from otel_audit.service.counters import Counters
from otel_audit.service.mapping import LogTable, map_payloads
from otel_audit.service.native import IngestHelper
from otel_audit.service.spool import KIND_LOGS, KIND_SPANS, Entry, Spool
from otel_audit.stats import pipeline_stats
from otel_audit.store.base import Store
from otel_audit.store.sql import query_sql

__all__ = ["SpoolWriter", "missing_rows"]

# serve's events keep the one logger name that docs/serve.md shows and log filters select.
_logger = get_logger("otel_audit.service.server")

_RETRY_INITIAL_S = 0.05
_RETRY_MAX_S = 5.0


class _Mapped(Protocol):
    """A batch being mapped: a worker's future, or a batch sent to the ingest helper."""

    def result(self) -> Any: ...


class SpoolWriter:
    """Stores spooled batches, in order, until :meth:`stop`; a daemon thread."""

    def __init__(
        self,
        store: Store,
        spool: Spool,
        counters: Counters,
        *,
        logs: ClickHouseLogRecordExporter,
        spans: ClickHouseSpanExporter,
        batch_records: int,
        mapper: ProcessPoolExecutor | None = None,
        ingest: IngestHelper | None = None,
    ) -> None:
        self._store = store
        self._spool = spool
        self._counters = counters
        self._logs = logs
        self._spans = spans
        self._batch_records = batch_records
        self._mapper = mapper
        self._ingest = ingest
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._write_loop, name="otel-audit-serve-writer", daemon=True)
        self.kill_after_insert = False
        """Fault injection (tests only): ``SIGKILL`` this process right after the next insert."""

    def start(self) -> None:
        """Start the writer thread."""
        self._thread.start()

    def is_alive(self) -> bool:
        """True while the writer thread runs."""
        return self._thread.is_alive()

    def stop(self, timeout: float) -> None:
        """Stop after the batch being written (what is left stays spooled); wait up to *timeout* s."""
        self._stopping.set()
        self._spool.wake()
        self._thread.join(timeout)

    def _write_loop(self) -> None:
        delay = _RETRY_INITIAL_S
        batch: list[Entry] = []
        mapped: dict[int, _Mapped] = {}
        following: list[Entry] = []
        following_mapped: dict[int, _Mapped] = {}
        while not self._stopping.is_set():
            if not batch:
                batch = self._spool.take(self._batch_records, timeout=0.2)
                if not batch:
                    continue
                mapped = self._submit(batch)
            if not following:
                # Map the next batch (in a worker process) while this one is inserted.
                following = self._spool.take_after(batch[-1], self._batch_records)
                following_mapped = self._submit(following) if following else {}
            try:
                self._store_batch(batch, mapped)
            except StoreError as error:
                self._counters.add("store.retries")
                self._counters.last_error = str(error)[:500]
                pipeline_stats.add("serve", "store.retries")
                _logger.warning("store write failed; retrying", retry_in_s=round(delay, 3), error=str(error))
                self._stopping.wait(delay)
                delay = min(delay * 2, _RETRY_MAX_S)
                continue
            except Exception:  # a bug must not kill the writer; the batch stays spooled
                _logger.exception("unexpected error storing a spooled batch")
                self._counters.add("store.retries")
                self._stopping.wait(delay)
                delay = min(delay * 2, _RETRY_MAX_S)
                mapped = self._submit(batch)
                continue
            delay = _RETRY_INITIAL_S
            self._spool.commit(batch)
            batch, mapped, following, following_mapped = following, following_mapped, [], {}

    def _submit(self, batch: list[Entry]) -> dict[int, _Mapped]:
        """Start mapping *batch*'s requests to columns, one job per signal."""
        jobs: dict[int, _Mapped] = {}
        for kind in (KIND_LOGS, KIND_SPANS):
            payloads = [self._spool.read(entry) for entry in batch if entry.kind == kind]
            if payloads:
                if kind == KIND_LOGS and self._ingest is not None:
                    jobs[kind] = self._ingest.submit_logs(payloads)  # mapped in the helper process
                elif self._mapper is None:
                    done: Future[Any] = Future()
                    jobs[kind] = done
                    try:
                        done.set_result(map_payloads(kind, payloads))
                    except Exception as error:  # noqa: BLE001 - handed to the writer like a worker's error
                        done.set_exception(error)
                else:
                    jobs[kind] = self._mapper.submit(map_payloads, kind, payloads)
        return jobs

    def _store_batch(self, batch: list[Entry], mapped: dict[int, _Mapped]) -> None:
        retry = self._spool.begin(batch)
        stored: list[tuple[str, int]] = []
        for kind, exporter, name in ((KIND_LOGS, self._logs, "logs"), (KIND_SPANS, self._spans, "spans")):
            if kind not in mapped:
                continue
            records = sum(entry.records for entry in batch if entry.kind == kind)
            try:
                data, corrupt = mapped[kind].result()
                if isinstance(data, LogTable):
                    data = data.table
            except (TypeError, ValueError, AttributeError, OverflowError) as error:
                pipeline_stats.drop(name, "rejected", records, str(error))
                self._counters.add(f"{name}.dropped", records)
                continue
            if corrupt:
                pipeline_stats.drop(name, "spool_corrupt", corrupt)
                self._counters.add(f"{name}.dropped", corrupt)
            token = self._spool.token(batch, kind)
            if retry:
                # The first attempt may have landed, or left only its token behind: store what is missing.
                data = missing_rows(self._store, name, data)
                if data is None:
                    stored.append((name, records))
                    continue
                token = f"{token}:retry:{uuid.uuid4().hex}"
            try:
                exporter.insert_encoded(lambda _requests, data=data: data, [data], token=token)
            except RecordsRejected as error:
                pipeline_stats.drop(name, "rejected", records, str(error))
                self._counters.add(f"{name}.dropped", records)
                continue
            stored.append((name, records))
            if self.kill_after_insert:
                os.kill(os.getpid(), signal.SIGKILL)
        for name, records in stored:
            self._counters.add(f"{name}.stored", records)


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


def missing_rows(store: Store, name: str, data: Any) -> Any:
    """The rows of encoded *data* (signal *name*: ``logs`` or ``spans``) not yet in the store
    (``None`` if all are there)."""
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
