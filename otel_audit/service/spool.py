"""The write-ahead spool of ``otel-audit serve``: acknowledged requests wait here, fsync'd, until stored.

Layout of the spool directory::

    spool.id          random id of this spool, part of every insert's deduplication token
    checkpoint.json   how far the store has everything, plus the batch being inserted now
    00000001.wal …    append-only segments of entries

An entry is a 17-byte header (magic ``OAW1``, kind, record count, payload length, CRC-32) and
the payload: the protobuf encoding of one accepted OTLP request. :meth:`Spool.append` returns
only after ``fsync``, so an acknowledged request survives ``kill -9`` and power loss of the
page cache alike; a torn tail (a crash mid-append, never acknowledged) is cut off on recovery.

Exactly-once into the store: before inserting a batch, the writer records the batch's exact
range as *in flight* in the checkpoint (fsync'd), and the first insert carries a deduplication
token derived from the spool id and that range. After a crash (or a failed write), recovery
re-forms exactly that batch and :meth:`Spool.begin` says so; the writer then asks the store
which of its rows are already there and inserts only the missing ones. Relying on the token
alone is not enough: a ``kill -9`` in the middle of an insert can leave the token in chDB's
deduplication log without the part it names, and the re-insert would then be discarded
(found by ``tests/service/test_server.py::TestDurability::test_kill_9_mid_stream``).
"""

from __future__ import annotations

import contextlib
import json
import os
import struct
import threading
import uuid
import zlib
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from otel_audit._files import make_private_dir, write_private_file

__all__ = ["KIND_LOGS", "KIND_SPANS", "Entry", "Spool", "SpoolFullError"]

KIND_LOGS = 1
KIND_SPANS = 2

_HEADER = struct.Struct("<4sBIII")  # magic, kind, records, payload length, crc32
_MAGIC = b"OAW1"
_CHECKPOINT = "checkpoint.json"
_SEGMENT_SUFFIX = ".wal"
_DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024


class SpoolFullError(Exception):
    """The spool holds its maximum of unstored bytes; the client should retry later."""


@dataclass(frozen=True)
class Entry:
    """Where one spooled request lives."""

    segment: int
    offset: int
    end: int
    kind: int
    records: int


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Spool:
    """A durable FIFO of OTLP requests between acknowledgement and the store.

    Args:
        directory: where the segments live (created if missing).
        max_bytes: most unstored bytes held; :meth:`append` raises :class:`SpoolFullError` beyond.
        segment_bytes: size after which a new segment file is started.
    """

    def __init__(
        self, directory: Path, *, max_bytes: int = 512 * 1024 * 1024, segment_bytes: int = _DEFAULT_SEGMENT_BYTES
    ) -> None:
        self.directory = Path(directory)
        make_private_dir(self.directory)  # spooled requests hold inputs and outputs: the owner's alone
        self.max_bytes = max_bytes
        self._segment_bytes = segment_bytes
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        self._pending: deque[Entry] = deque()
        self._pending_bytes = 0
        self._pending_records = 0
        self._inflight: tuple[int, int, int, int] | None = None
        self._readers: dict[int, int] = {}
        self._closed = False
        id_file = self.directory / "spool.id"
        if not id_file.exists():
            write_private_file(id_file, uuid.uuid4().hex)
            _fsync_dir(self.directory)
        self.spool_id = id_file.read_text().strip()
        self.recovered_records = 0
        self._recover()

    # --- recovery ---------------------------------------------------------------------------

    def _segment_path(self, number: int) -> Path:
        return self.directory / f"{number:08d}{_SEGMENT_SUFFIX}"

    def _segments(self) -> list[int]:
        return sorted(int(path.stem) for path in self.directory.glob(f"*{_SEGMENT_SUFFIX}") if path.stem.isdigit())

    def _read_checkpoint(self) -> tuple[int, int, tuple[int, int, int, int] | None]:
        try:
            state = json.loads((self.directory / _CHECKPOINT).read_text())
            inflight = tuple(state["inflight"]) if state.get("inflight") else None
            return int(state["segment"]), int(state["offset"]), inflight
        except FileNotFoundError:
            return 0, 0, None

    def _recover(self) -> None:
        segment, offset, self._inflight = self._read_checkpoint()
        self._committed = (segment, offset)
        numbers = self._segments()
        for number in numbers:
            if number < segment:
                self._segment_path(number).unlink(missing_ok=True)
                continue
            start = offset if number == segment else 0
            self._scan(number, start, last=number == numbers[-1])
        self.recovered_records = self._pending_records
        self._current = max([*numbers, segment, 1])
        self._writer = os.open(self._segment_path(self._current), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._current_size = os.fstat(self._writer).st_size
        _fsync_dir(self.directory)

    def _scan(self, number: int, start: int, *, last: bool) -> None:
        path = self._segment_path(number)
        data = path.read_bytes()
        position = start
        while position + _HEADER.size <= len(data):
            magic, kind, records, length, crc = _HEADER.unpack_from(data, position)
            end = position + _HEADER.size + length
            if magic != _MAGIC or end > len(data) or zlib.crc32(data[position + _HEADER.size : end]) != crc:
                break
            self._push(Entry(number, position, end, kind, records))
            position = end
        if position < len(data) and last:
            # A torn tail: the append never finished, so it was never acknowledged.
            with open(path, "r+b") as handle:
                handle.truncate(position)
                os.fsync(handle.fileno())

    def _push(self, entry: Entry) -> None:
        self._pending.append(entry)
        self._pending_bytes += entry.end - entry.offset
        self._pending_records += entry.records

    # --- the producer side ------------------------------------------------------------------

    def append(self, kind: int, payload: bytes, records: int) -> None:
        """Write one request durably (fsync'd) before returning.

        Raises:
            SpoolFullError: more than ``max_bytes`` are waiting for the store.
        """
        header = _HEADER.pack(_MAGIC, kind, records, len(payload), zlib.crc32(payload))
        with self._lock:
            if self._closed:
                raise OSError("the spool is closed (server shutting down)")
            if self._pending_bytes + len(payload) > self.max_bytes and self._pending:
                raise SpoolFullError(f"spool holds {self._pending_bytes} bytes not yet stored")
            if self._current_size >= self._segment_bytes:
                self._rotate()
            offset = self._current_size
            os.write(self._writer, header + payload)
            os.fsync(self._writer)
            self._current_size += len(header) + len(payload)
            self._push(Entry(self._current, offset, self._current_size, kind, records))
            self._ready.notify_all()

    def _rotate(self) -> None:
        os.close(self._writer)
        self._current += 1
        self._writer = os.open(self._segment_path(self._current), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._current_size = 0
        _fsync_dir(self.directory)

    # --- the consumer side ------------------------------------------------------------------

    def take(self, max_records: int, timeout: float) -> list[Entry]:
        """Return the next batch (at most *max_records*, one entry at least), waiting up to *timeout*.

        After a crash the first batch is exactly the one that was in flight.
        """
        with self._lock:
            if not self._pending:
                self._ready.wait(timeout)
            if not self._pending:
                return []
            batch: list[Entry] = []
            if self._inflight is not None:
                end = (self._inflight[2], self._inflight[3])
                for entry in self._pending:
                    if (entry.segment, entry.end) > end:
                        break
                    batch.append(entry)
                if batch:
                    return batch
                self._inflight = None
            records = 0
            for entry in self._pending:
                if batch and records + entry.records > max_records:
                    break
                batch.append(entry)
                records += entry.records
            return batch

    def take_after(self, after: Entry, max_records: int) -> list[Entry]:
        """Return the batch that follows *after* (not yet committed), without waiting; may be empty.

        Lets the writer prepare the next batch while the current one is being inserted.
        """
        with self._lock:
            batch: list[Entry] = []
            records = 0
            for entry in self._pending:
                if (entry.segment, entry.offset) <= (after.segment, after.offset):
                    continue
                if batch and records + entry.records > max_records:
                    break
                batch.append(entry)
                records += entry.records
            return batch

    def read(self, entry: Entry) -> bytes:
        """Return the payload of *entry*."""
        fd = self._readers.get(entry.segment)
        if fd is None:
            fd = self._readers[entry.segment] = os.open(self._segment_path(entry.segment), os.O_RDONLY)
        return os.pread(fd, entry.end - entry.offset - _HEADER.size, entry.offset + _HEADER.size)

    def token(self, batch: list[Entry], kind: int) -> str:
        """The deduplication token of *batch*'s records of *kind*: stable across restarts."""
        first, last = batch[0], batch[-1]
        return f"otel-audit-spool:{self.spool_id}:{kind}:{first.segment}.{first.offset}-{last.segment}.{last.end}"

    def begin(self, batch: list[Entry]) -> bool:
        """Record *batch* as in flight (fsync'd), before it is inserted.

        Returns:
            True if *batch* was already in flight: an insert of it may have been attempted (before
            a crash, or a failed write), so the caller must check what reached the store.
        """
        first, last = batch[0], batch[-1]
        inflight = (first.segment, first.offset, last.segment, last.end)
        if inflight == self._inflight:
            return True
        self._inflight = inflight
        self._write_checkpoint()
        return False

    def commit(self, batch: list[Entry]) -> None:
        """Mark *batch* stored: forget it and delete the segments nothing needs any more."""
        with self._lock:
            for _ in batch:
                entry = self._pending.popleft()
                self._pending_bytes -= entry.end - entry.offset
                self._pending_records -= entry.records
            last = batch[-1]
            self._committed = (last.segment, last.end)
            self._inflight = None
            self._write_checkpoint()
            for number in [n for n in self._readers if n < last.segment]:
                os.close(self._readers.pop(number))
                self._segment_path(number).unlink(missing_ok=True)

    def _write_checkpoint(self) -> None:
        state = {"segment": self._committed[0], "offset": self._committed[1], "inflight": self._inflight}
        temporary = self.directory / (_CHECKPOINT + ".tmp")
        with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
            json.dump(state, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.directory / _CHECKPOINT)
        _fsync_dir(self.directory)

    # --- state ------------------------------------------------------------------------------

    def depth(self) -> dict[str, int]:
        """Requests, records and bytes acknowledged but not yet in the store."""
        with self._lock:
            return {"requests": len(self._pending), "records": self._pending_records, "bytes": self._pending_bytes}

    def wake(self) -> None:
        """Wake a consumer waiting in :meth:`take` (shutdown)."""
        with self._lock:
            self._ready.notify_all()

    def close(self) -> None:
        """Close the files (the spool stays on disk for the next start)."""
        with self._lock:
            self._closed = True
            with contextlib.suppress(OSError):
                os.close(self._writer)
            for fd in self._readers.values():
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._readers.clear()
