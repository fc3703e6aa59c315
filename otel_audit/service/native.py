"""``otel-audit-ingest``: serve's logs mapping in a compiled child process, byte for byte Python's.

The writer's CPU-heavy half, mapping spooled OTLP logs requests to the ``otel_logs`` columns
(:func:`otel_audit.export.otlp.otlp_log_table`), is also built in Go, in the collector
processor's module (``cmd/otel-audit-ingest``, ``make ingest-helper``). :class:`IngestHelper`
runs it as a child process: the writer sends a batch's payloads down a pipe and reads the batch's
Arrow buffers back when it inserts, so the mapping runs on the other core, outside this process's
GIL, while the previous batch is inserted.

Python stays the reference. A batch the helper refuses (a payload that does not parse, a value
Python's mapping would reject) is mapped here instead, so counts and errors are unchanged; if the
helper dies, every later batch is mapped here, and the failure is logged and counted
(``serve.ingest_helper_failures``). A test maps the same requests both ways and requires equal
tables.
"""

from __future__ import annotations

import io
import json
import select
import shutil
import struct
import subprocess
import threading
from collections import deque
from pathlib import Path
from typing import Any, cast

from otel_audit import semconv
from otel_audit.diagnostics import get_logger
from otel_audit.errors import ConfigError
from otel_audit.export.record_id import CONTENT_ID_VERSION, IDENTIFIED_EVENTS
from otel_audit.export.rows import LOG_COLUMNS
from otel_audit.service.mapping import LogTable, map_payloads
from otel_audit.service.spool import KIND_LOGS
from otel_audit.stats import pipeline_stats

__all__ = ["HELPER_NAME", "IngestHelper", "PendingBatch", "find_helper"]

HELPER_NAME = "otel-audit-ingest"
_OP_MAP_LOGS = 1
_STRING_COLUMNS = ("TraceId", "SpanId", "SeverityText", "ServiceName", "Body", "ResourceSchemaUrl",
                   "ScopeSchemaUrl", "ScopeName", "ScopeVersion", "EventName")  # fmt: skip
_MAP_COLUMNS = ("ResourceAttributes", "ScopeAttributes", "LogAttributes")
_BUFFERS = 1 + 2 * len(_STRING_COLUMNS) + 2 + 5 * len(_MAP_COLUMNS)
_MAX_BUFFER = 1 << 32  # a batch's column is far smaller: a longer length is a broken answer
_ANSWER_TIMEOUT_S = 120.0  # a helper silent this long is hung: it is killed and Python maps

_logger = get_logger("otel_audit.service.server")


def find_helper(configured: str | None) -> Path | None:
    """The helper to run: *configured* (a path, or ``off``), else ``otel-audit-ingest`` on ``PATH``.

    Raises:
        ConfigError: a configured path that is no executable file.
    """
    if configured == "off":
        return None
    if configured:
        path = Path(configured).expanduser()
        if not path.is_file() or not shutil.which(str(path)):
            raise ConfigError(f"ingest helper {configured!r} is not an executable file (make ingest-helper builds it)")
        return path
    found = shutil.which(HELPER_NAME)
    return Path(found) if found else None


class PendingBatch:
    """A batch sent to the helper; :meth:`result` is ``map_payloads``'s answer for it."""

    __slots__ = ("_helper", "answer", "in_python", "payloads")

    def __init__(self, helper: IngestHelper, payloads: list[bytes]) -> None:
        self._helper = helper
        self.payloads = payloads
        self.answer: tuple[Any, int] | None = None
        """The helper's mapping, once read."""
        self.in_python = False
        """True when the batch is (to be) mapped in Python: refused by the helper, or no helper."""

    def result(self) -> tuple[Any, int]:
        """The mapped batch and its unreadable payload count (Python's errors raise here)."""
        if self.answer is None and not self.in_python:
            self._helper.collect(self)
        if self.answer is None:
            return map_payloads(KIND_LOGS, self.payloads)
        return self.answer


class IngestHelper:
    """One ``otel-audit-ingest`` child process; used by one writer thread (calls are serialized)."""

    def __init__(self, binary: Path) -> None:
        events = sorted(IDENTIFIED_EVENTS)
        identity = {"version": CONTENT_ID_VERSION, "uid_key": semconv.LOG_RECORD_UID, "events": events}
        self._process: subprocess.Popen[bytes] | None = subprocess.Popen(
            [str(binary), "-identity", json.dumps(identity)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
        )
        self._out = cast("io.RawIOBase", self._process.stdout)  # unbuffered (bufsize=0): readinto
        self._ready = select.poll()  # poll, not select: serve may hold more than 1,024 descriptors
        self._ready.register(self._out.fileno(), select.POLLIN)
        self._sent: deque[PendingBatch] = deque()
        self._lock = threading.Lock()

    @property
    def alive(self) -> bool:
        """True while the helper runs and has not failed."""
        return self._process is not None

    def submit_logs(self, payloads: list[bytes]) -> PendingBatch:
        """Send *payloads* (one batch's spooled logs requests) to be mapped; read the answer later."""
        pending = PendingBatch(self, payloads)
        with self._lock:
            if self._process is None:
                pending.in_python = True
                return pending
            frame = [struct.pack("<II", _OP_MAP_LOGS, len(payloads))]
            for payload in payloads:
                frame += (struct.pack("<I", len(payload)), payload)
            try:
                assert self._process.stdin is not None
                self._process.stdin.write(b"".join(frame))
            except OSError as error:
                pending.in_python = True
                self._fail(error)
                return pending
            self._sent.append(pending)
        return pending

    def collect(self, wanted: PendingBatch) -> None:
        """Read answers, in the order the batches were sent, until *wanted* has one."""
        with self._lock:
            while wanted.answer is None and not wanted.in_python:
                if self._process is None or not self._sent:
                    wanted.in_python = True
                    return
                pending = self._sent.popleft()
                try:
                    self._read_answer(pending)
                except (OSError, EOFError, ValueError) as error:
                    pending.in_python = True
                    self._fail(error)

    def _read_answer(self, pending: PendingBatch) -> None:
        status, second = struct.unpack("<II", self._read(8))
        if status != 0:
            message = self._read(second).decode("utf-8", "replace")
            pipeline_stats.add("serve", "ingest_helper_refused")
            _logger.debug("ingest helper refused a batch; mapping it in Python", reason=message)
            pending.in_python = True
            return
        (count,) = struct.unpack("<I", self._read(4))
        if count != _BUFFERS:
            raise ValueError(f"the ingest helper sent {count} buffers, not {_BUFFERS}")
        buffers = []
        for _ in range(count):
            (length,) = struct.unpack("<Q", self._read(8))
            if length > _MAX_BUFFER:
                raise ValueError(f"the ingest helper sent a buffer of {length} bytes")
            buffers.append(self._read(length))
        table = _table(second, buffers)
        table.validate(full=True)  # a broken answer is an error here, never a bad insert
        pending.answer = (LogTable(table), 0)

    def _read(self, size: int) -> bytes | bytearray:
        data = bytearray(size)
        view = memoryview(data)
        done = 0
        while done < size:
            if not self._ready.poll(_ANSWER_TIMEOUT_S * 1000):
                raise EOFError(f"the ingest helper sent nothing for {_ANSWER_TIMEOUT_S:.0f} s")
            got = self._out.readinto(view[done:])
            if not got:
                raise EOFError("the ingest helper closed its output")
            done += got
        return data

    def _fail(self, error: BaseException) -> None:
        """The helper broke: map everything in Python from now on, and say so."""
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait()
            pipeline_stats.add("serve", "ingest_helper_failures")
            _logger.error("ingest helper failed; mapping logs in Python from now on", error=str(error))
        while self._sent:
            self._sent.popleft().in_python = True

    def close(self) -> None:
        """End the child process (it exits at the end of its input)."""
        with self._lock:
            process, self._process = self._process, None
            self._sent.clear()
        if process is None:
            return
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _table(rows: int, buffers: list[Any]) -> Any:
    """The ``pyarrow.Table`` of :data:`LOG_COLUMNS` from the helper's buffers (no copy)."""
    import pyarrow as pa

    taken = iter(pa.py_buffer(buffer) for buffer in buffers)

    def strings(length: int) -> Any:
        return pa.Array.from_buffers(pa.string(), length, [None, next(taken), next(taken)])

    columns: dict[str, Any] = {"Timestamp": pa.Array.from_buffers(pa.timestamp("ns"), rows, [None, next(taken)])}
    for name in _STRING_COLUMNS:
        columns[name] = strings(rows)
    columns["TraceFlags"] = pa.Array.from_buffers(pa.uint8(), rows, [None, next(taken)])
    columns["SeverityNumber"] = pa.Array.from_buffers(pa.uint8(), rows, [None, next(taken)])
    for name in _MAP_COLUMNS:
        offsets = pa.Array.from_buffers(pa.int32(), rows + 1, [None, next(taken)])
        keys_offsets = next(taken)
        pairs = keys_offsets.size // 4 - 1
        keys = pa.Array.from_buffers(pa.string(), pairs, [None, keys_offsets, next(taken)])
        values = strings(pairs)
        columns[name] = pa.MapArray.from_arrays(offsets, keys, values)
    return pa.Table.from_arrays([columns[name] for name in LOG_COLUMNS], names=list(LOG_COLUMNS))
