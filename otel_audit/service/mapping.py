"""Map spooled OTLP requests to insertable columns, in this process or in worker processes.

Decoding protobuf and building columns is the writer's CPU-heavy half. With ``--map-workers N``
it runs in N worker processes (:func:`start_mapper`), so the next batch is mapped while the
current one is inserted; :func:`map_payloads` therefore takes and returns picklable values, and
log tables travel between processes as Arrow IPC bytes (:class:`LogTable`).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from otel_audit.export.otlp import otlp_log_table, otlp_span_columns
from otel_audit.service.spool import KIND_LOGS, KIND_SPANS

__all__ = ["LogTable", "map_payloads", "start_mapper"]


def start_mapper(workers: int) -> ProcessPoolExecutor | None:
    """A pool of *workers* mapping processes that exit with this one; ``None`` for 0 (map in-process)."""
    if not workers:
        return None
    context = multiprocessing.get_context("spawn")  # never fork a process holding chDB and gRPC threads
    return ProcessPoolExecutor(workers, mp_context=context, initializer=_exit_with_parent, initargs=(os.getpid(),))


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
    return LogTable(otlp_log_table(requests)), corrupt


def _exit_with_parent(parent: int) -> None:
    """Worker-process initializer: exit when the server is gone (even after ``kill -9``)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="otel-audit-map-parent-watch", daemon=True).start()


class LogTable:
    """An Arrow table that pickles as Arrow IPC (fast across the worker-process boundary)."""

    def __init__(self, table: Any) -> None:
        self.table = table

    def __reduce__(self) -> tuple[Any, tuple[bytes]]:
        import pyarrow as pa

        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, self.table.schema) as writer:
            writer.write_table(self.table)
        return _read_ipc, (sink.getvalue().to_pybytes(),)


def _read_ipc(data: bytes) -> LogTable:
    import pyarrow as pa

    return LogTable(pa.ipc.open_stream(data).read_all())
